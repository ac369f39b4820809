package actors_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// overdueHolds writes one in-progress booking per event, expired the given
// time ago, as a node that died with them would have left them.
func overdueHolds(t *testing.T, db *persistence.DB, events []uuid.UUID, ago []time.Duration) {
	t.Helper()
	now := time.Now()
	for i, ev := range events {
		_, err := db.Pool().Exec(context.Background(), `INSERT INTO bookings
			(id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
			VALUES ($1, $2, $3, $4, 'in-progress', 100, 'EUR', $5, $6, $5)`,
			uuid.New(), uuid.New(), ev, []uuid.UUID{boxoffice.NewTicketSpace(ev).ID(1)},
			now.Add(-ago[i]-10*time.Minute), now.Add(-ago[i]))
		if err != nil {
			t.Fatalf("overdue hold: %v", err)
		}
	}
}

// touches records the sweep's wakes; block, if set, holds each wake until
// it is closed.
type touches struct {
	mu             sync.Mutex
	order          []uuid.UUID
	inflight, peak int
	block          chan struct{}
	fail           map[uuid.UUID]bool
}

func (tc *touches) touch(ctx context.Context, id uuid.UUID) error {
	tc.mu.Lock()
	tc.order = append(tc.order, id)
	tc.inflight++
	tc.peak = max(tc.peak, tc.inflight)
	tc.mu.Unlock()
	if tc.block != nil {
		<-tc.block
	}
	tc.mu.Lock()
	tc.inflight--
	tc.mu.Unlock()
	if tc.fail[id] {
		return errors.New("injected wake failure")
	}
	return nil
}

func (tc *touches) inFlight() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.inflight
}

// logRecords keeps the records logged at or above a level.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

func (l *logRecords) count(level slog.Level, msgPrefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.Level == level && len(r.Message) >= len(msgPrefix) && r.Message[:len(msgPrefix)] == msgPrefix {
			n++
		}
	}
	return n
}

// The sweep wakes only the events this node owns, oldest expiry first, and
// reports the wakes that failed (logged at warn).
func TestSweepOwnedOldestFirst(t *testing.T) {
	logs := &logRecords{}
	e := newEnv(t, venue200(), actors.Config{Logger: slog.New(logs)})
	events := make([]uuid.UUID, 6)
	for i := range events {
		events[i] = uuid.New()
	}
	// Expired 1, 6, 3, 5, 2 and 4 minutes ago.
	overdueHolds(t, e.db, events, []time.Duration{time.Minute, 6 * time.Minute, 3 * time.Minute,
		5 * time.Minute, 2 * time.Minute, 4 * time.Minute})
	notOurs := map[uuid.UUID]bool{events[3]: true, events[4]: true}
	tc := &touches{fail: map[uuid.UUID]bool{events[2]: true}}
	rep, err := e.node.eng.Sweep(context.Background(), actors.SweepOptions{Parallel: 1,
		Owns: func(id uuid.UUID) bool { return !notOurs[id] }, Touch: tc.touch})
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	want := []uuid.UUID{events[1], events[5], events[2], events[0]} // oldest expiry first, 3 and 4 not ours
	if !slices.Equal(rep.Woken, want) || !slices.Equal(tc.order, want) {
		t.Fatalf("woke %v (touched %v), want %v", rep.Woken, tc.order, want)
	}
	if rep.Overdue != 6 || rep.Failed != 1 {
		t.Fatalf("report %+v, want 6 overdue and 1 failed", rep)
	}
	if n := logs.count(slog.LevelWarn, "sweeper could not wake"); n != 1 {
		t.Fatalf("%d warnings about failed wakes, want 1", n)
	}
}

// The sweep wakes events in parallel, never more than Parallel at once.
func TestSweepParallelBound(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	events := make([]uuid.UUID, 10)
	ago := make([]time.Duration, len(events))
	for i := range events {
		events[i], ago[i] = uuid.New(), time.Duration(len(events)-i)*time.Minute
	}
	overdueHolds(t, e.db, events, ago)
	const bound = 3
	tc := &touches{block: make(chan struct{})}
	done := make(chan actors.SweepReport, 1)
	go func() {
		rep, err := e.node.eng.Sweep(context.Background(), actors.SweepOptions{Parallel: bound,
			Owns: func(uuid.UUID) bool { return true }, Touch: tc.touch})
		if err != nil {
			t.Errorf("sweep: %v", err)
		}
		done <- rep
	}()
	require.Eventually(t, func() bool { return tc.inFlight() == bound }, 10*time.Second, 20*time.Millisecond, "the sweep wakes events in parallel")
	close(tc.block)
	rep := <-done
	if !slices.Equal(rep.Woken, events) {
		t.Fatalf("woke %v, want all ten oldest first %v", rep.Woken, events)
	}
	if tc.peak != bound {
		t.Fatalf("at most %d wakes ran at once, want %d", tc.peak, bound)
	}
}

// A sweep that cannot list the events returns the error, and RunSweeper
// logs it at error instead of dropping it.
func TestSweepReportsQueryErrors(t *testing.T) {
	url := pgtest.NewDB(t)
	db := dbtest.OpenDB(t, url)
	logs := &logRecords{}
	n := startNode(t, db, actors.Config{Logger: slog.New(logs)})
	db.Close() // the database goes away under the sweeper
	if _, err := n.eng.Sweep(context.Background(), actors.SweepOptions{}); err == nil {
		t.Fatal("a sweep without a database reported no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { n.eng.RunSweeper(ctx, 10*time.Millisecond); close(stopped) }()
	require.Eventually(t, func() bool {
		return logs.count(slog.LevelError, "sweeper failed") > 0
	}, 10*time.Second, 20*time.Millisecond, "RunSweeper logs the failed sweep at error")
	cancel()
	<-stopped
}

// In a two-node cluster each event is swept by exactly one node, the one
// the cluster places its actor on.
func TestSweepOwnershipFollowsPlacement(t *testing.T) {
	url := pgtest.NewDB(t)
	db := dbtest.OpenDB(t, url)
	agent := test.NewInMemAgent()
	a, b := startMember(t, db, agent, "a"), startMember(t, db, agent, "b")
	require.Eventually(t, func() bool {
		return a.cluster.MemberList.Members().Len() == 2 && b.cluster.MemberList.Members().Len() == 2
	}, 10*time.Second, 20*time.Millisecond, "both members see each other")
	events := make([]uuid.UUID, 8)
	ago := make([]time.Duration, len(events))
	for i := range events {
		events[i], ago[i] = createEvent(t, db, venue200()), time.Duration(len(events)-i)*time.Minute
	}
	overdueHolds(t, db, events, ago)
	woken := map[uuid.UUID]string{}
	for name, n := range map[string]*node{"a": a, "b": b} {
		tc := &touches{}
		rep, err := n.eng.Sweep(context.Background(), actors.SweepOptions{Touch: tc.touch})
		if err != nil {
			t.Fatalf("sweep on %s: %v", name, err)
		}
		for _, id := range rep.Woken {
			if other, dup := woken[id]; dup {
				t.Fatalf("event %s swept by both %s and %s", id, other, name)
			}
			woken[id] = name
		}
	}
	if len(woken) != len(events) {
		t.Fatalf("%d of %d events swept", len(woken), len(events))
	}
	// The node that swept an event is where a call activates its actor.
	for _, id := range events {
		if err := a.eng.Touch(context.Background(), id); err != nil {
			t.Fatalf("touch %s: %v", id, err)
		}
		inA, inB := slices.Contains(a.eng.Active(), id), slices.Contains(b.eng.Active(), id)
		if want := woken[id] == "a"; inA != want || inB == want {
			t.Fatalf("event %s: swept by %s but its actor runs on a: %v, b: %v", id, woken[id], inA, inB)
		}
	}
	if len(a.eng.Active()) == 0 || len(b.eng.Active()) == 0 {
		t.Logf("placement put all %d events on one node", len(events)) // possible, if unlikely
	}
}

// startMember starts a node that joins the in-memory cluster of agent.
func startMember(t testing.TB, db *persistence.DB, agent *test.InMemAgent, name string) *node {
	t.Helper()
	return startMemberCfg(t, db, agent, actors.Config{NodeName: name})
}

func startMemberCfg(t testing.TB, db *persistence.DB, agent *test.InMemAgent, cfg actors.Config) *node {
	t.Helper()
	return startNodeIn(t, agent, db, cfg, devpay.New(), nil)
}
