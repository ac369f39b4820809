package actors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// snapStore is the real store with a switch that refuses snapshot writes,
// so a test can leave a journal tail behind the latest snapshot.
type snapStore struct {
	boxoffice.EventStore
	refuse atomic.Bool
}

var errNoSnapshots = errors.New("test: snapshot writes refused")

func (s *snapStore) SaveSnapshot(ctx context.Context, eventID uuid.UUID, epoch int64, version uint64, state []byte) error {
	if s.refuse.Load() {
		return errNoSnapshots
	}
	return s.EventStore.SaveSnapshot(ctx, eventID, epoch, version, state)
}

func snapshotting(s *snapStore) func(*actors.Deps) {
	return func(d *actors.Deps) { s.EventStore, d.Store = d.Store, s }
}

// lifecycle counts activations and stops of every grain of this process.
type lifecycle struct {
	mu                      sync.Mutex
	starts, stops, timeouts int
}

func watchLifecycle(t testing.TB) *lifecycle {
	t.Helper()
	l := &lifecycle{}
	actors.SetReceiveHook(t, func(msg any) {
		switch fmt.Sprintf("%T", msg) {
		case "*cluster.ClusterInit":
			l.mu.Lock()
			l.starts++
			l.mu.Unlock()
		case "*actor.Stopped":
			l.mu.Lock()
			l.stops++
			l.mu.Unlock()
		case "*actor.ReceiveTimeout":
			l.mu.Lock()
			l.timeouts++
			l.mu.Unlock()
		}
	})
	return l
}

// snapshot copies the counts.
func (l *lifecycle) snapshot() lifecycle {
	l.mu.Lock()
	defer l.mu.Unlock()
	return lifecycle{starts: l.starts, stops: l.stops, timeouts: l.timeouts}
}

func (l *lifecycle) counts() (starts, stops int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.starts, l.stops
}

func (e *env) latestSnapshot(t testing.TB) uint64 {
	t.Helper()
	v, _, ok, err := e.db.LatestSnapshot(context.Background(), e.eventID)
	if err != nil {
		t.Fatalf("latest snapshot: %v", err)
	}
	if !ok {
		return 0
	}
	return v
}

func (e *env) stats(t testing.TB) boxoffice.EventStats {
	t.Helper()
	s, err := e.node.eng.Stats(context.Background(), e.eventID)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return s
}

func sameView(t testing.TB, got, want boxoffice.SeatsView) {
	t.Helper()
	if got.Version != want.Version || !slices.Equal(got.Statuses, want.Statuses) {
		diff := 0
		for i := range min(len(got.Statuses), len(want.Statuses)) {
			if got.Statuses[i] != want.Statuses[i] {
				diff++
			}
		}
		t.Fatalf("seat view after activation: version %d (%d seats, %d differ), want version %d (%d seats)",
			got.Version, len(got.Statuses), diff, want.Version, len(want.Statuses))
	}
}

// TestActivationFromSnapshotAndTail: with SnapshotEvery small the grain
// writes a snapshot at version 5; later snapshots are refused, so the
// records of a sale, a release and two holds stay in the journal tail. A new node's activation rebuilds from
// that snapshot plus the tail and gives back the same seat map, version
// and live holds (a held booking can still be confirmed by its owner and
// its seats stay unavailable to others).
func TestActivationFromSnapshotAndTail(t *testing.T) {
	s := &snapStore{}
	cfg := actors.Config{SnapshotEvery: 5, HoldTTL: time.Hour}
	e := newEnv(t, venue200(), cfg)
	e.node.stop()
	e.node = startNode(t, e.db, cfg, snapshotting(s))
	alice, bob, carol := uuid.New(), uuid.New(), uuid.New()

	var first []boxoffice.Booking
	for i := range 5 {
		first = append(first, e.mustReserve(t, alice, i)) // versions 1-5
	}
	require.Eventually(t, func() bool { return e.latestSnapshot(t) == 5 }, 20*time.Second, 20*time.Millisecond, "the snapshot at version 5")
	s.refuse.Store(true)
	if _, err := e.confirm(t, first[0], alice, devpay.TokenVisa); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.eng.Release(context.Background(), e.eventID, first[1].ID, alice); err != nil {
		t.Fatal(err)
	}
	held := e.mustReserve(t, bob, 10, 11, 150)
	e.mustReserve(t, carol, 12)
	before := e.statuses(t)
	if before.Version <= 5+3 {
		t.Fatalf("version = %d before the restart, want a tail of at least 4 records after the snapshot at 5", before.Version)
	}
	e.node.stop() // its passivation snapshot is refused too
	if got := e.latestSnapshot(t); got != 5 {
		t.Fatalf("latest snapshot = %d after the stop, want 5 (the tail must stay in the journal)", got)
	}

	e.node = startNode(t, e.db, cfg)
	sameView(t, e.statuses(t), before)
	if got := e.stats(t).LastSnapshotVersion; got != 5 {
		t.Errorf("the activation started from snapshot %d, want 5", got)
	}
	if _, err := e.reserve(t, carol, 11); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Errorf("reserve of a seat held before the restart: %v, want seat_unavailable", err)
	}
	if b, err := e.confirm(t, held, bob, devpay.TokenVisa); err != nil || b.Status != boxoffice.BookingConfirmed {
		t.Errorf("confirm of a hold made before the restart: %+v, %v; want confirmed", b, err)
	}
	assertGapFree(t, e)
}

// TestIdleAfterDecliningPassivation: a grain whose idle timeout fires
// while it still holds seats stays, and passivates once the hold is gone
// and it is idle again. Proto.Actor's receive timeout fires only once, so
// the grain must arm it again when it declines.
func TestIdleAfterDecliningPassivation(t *testing.T) {
	cfg := actors.Config{IdleTimeout: 300 * time.Millisecond, HoldTTL: time.Hour}
	e := newEnv(t, venue200(), cfg)
	life := watchLifecycle(t)
	user := uuid.New()
	b := e.mustReserve(t, user, 0)
	require.Eventually(t, func() bool {
		l := life.snapshot()
		return l.timeouts > 0
	}, 30*time.Second, 20*time.Millisecond, "the idle timeout fired while the grain held a seat")
	if l := life.snapshot(); l.stops != 0 {
		t.Fatalf("the grain passivated (%d stops) with a live hold", l.stops)
	}
	if _, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, user); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		l := life.snapshot()
		return l.starts > 0 && l.stops == l.starts
	}, 30*time.Second, 20*time.Millisecond, "the grain passivated once idle without holds")
}

// TestIdlePassivationSnapshot: a grain that holds nothing passivates after
// IdleTimeout and writes a snapshot of its last committed version on the
// way out; the next call activates it from that snapshot (no tail) with
// the same seat map and version.
func TestIdlePassivationSnapshot(t *testing.T) {
	cfg := actors.Config{SnapshotEvery: 3, IdleTimeout: 300 * time.Millisecond, HoldTTL: time.Hour}
	e := newEnv(t, venue200(), cfg)
	life := watchLifecycle(t)
	user := uuid.New()
	// A sale for seats 0 and 2, seats 1 and 3 released, one command at a
	// time: the last version is not one SnapshotEvery writes, so only the
	// passivation can write it.
	for i := range 4 {
		b := e.mustReserve(t, user, i)
		var err error
		if i%2 == 0 {
			_, err = e.confirm(t, b, user, devpay.TokenVisa)
		} else {
			_, err = e.node.eng.Release(context.Background(), e.eventID, b.ID, user)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	before := e.statuses(t)
	if before.Version%3 == 0 {
		t.Fatalf("version = %d: a multiple of SnapshotEvery, so the test cannot tell the passivation snapshot", before.Version)
	}
	require.Eventually(t, func() bool {
		starts, stops := life.counts()
		return starts > 0 && stops == starts && e.latestSnapshot(t) == before.Version
	}, 30*time.Second, 20*time.Millisecond, "the idle grain passivated with a snapshot of its last version")
	startsBefore, _ := life.counts()

	sameView(t, e.statuses(t), before)
	if starts, _ := life.counts(); starts != startsBefore+1 {
		t.Errorf("activations = %d, want %d (the call after passivation activates the grain again)", starts, startsBefore+1)
	}
	if got := e.stats(t).LastSnapshotVersion; got != before.Version {
		t.Errorf("the activation started from snapshot %d, want %d (the passivation snapshot)", got, before.Version)
	}
	e.mustReserve(t, uuid.New(), 1, 3)
	if _, err := e.reserve(t, uuid.New(), 0); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Errorf("reserve of a seat sold before passivation: %v, want seat_unavailable", err)
	}
	assertGapFree(t, e)
}
