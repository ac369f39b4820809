package actors_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
)

// smallHall is the failover measurement's event: 20 seats.
var smallHall = boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{
	{Name: "1", Seats: 10}, {Name: "2", Seats: 10}}}}}

// BenchmarkActivateMany measures how fast one node re-activates many
// events at once, as the survivors of a failover do (issue 22: 3,000
// events of a dead node deciding writes again within 5 s). It creates
// BOXOFFICE_ACTIVATE_EVENTS events (default 1,000) of 20 seats, activates
// each by a hold, and then, per iteration, passivates them all and sends
// each a fresh reserve from 64 concurrent callers: every reserve
// re-activates its event (a new epoch, the snapshot, the journal tail)
// before it writes. It reports events/s of that re-activation, batched
// (activate_batch.go) and one event at a time as before.
func BenchmarkActivateMany(b *testing.B) {
	b.Run("batched", func(b *testing.B) { benchActivateMany(b, true) })
	b.Run("per-event", func(b *testing.B) { benchActivateMany(b, false) })
}

func benchActivateMany(b *testing.B, batched bool) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("BOXOFFICE_ACTIVATE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	e := newEnv(b, smallHall, actors.Config{HoldTTL: time.Hour, IdleTimeout: time.Hour})
	if !batched {
		actors.PerEventActivation(e.node.eng)
	}
	ids := make([]uuid.UUID, n)
	ids[0] = e.eventID
	each(b, n-1, 16, func(i int) error {
		ids[i+1] = dbtest.CreateEvent(b, e.db, smallHall, boxoffice.WaitingRoom{}).ID
		return nil
	})
	next := make([]atomic.Int32, n)
	reserveAll := func() {
		each(b, n, 64, func(i int) error {
			sp := boxoffice.NewTicketSpace(ids[i])
			var err error
			for range 5 { // an activation can outlast its call on a loaded machine
				_, err = e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{EventID: ids[i], UserID: uuid.New(),
					BookingID: uuid.New(), TicketIDs: []uuid.UUID{sp.ID(int(next[i].Add(1)-1) % 20)}})
				if codeOf(err) != boxoffice.EUnavailable {
					break
				}
			}
			return err
		})
	}
	start := time.Now()
	reserveAll()
	b.Logf("%d events: first activation by a hold in %s", n, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var took time.Duration
	for range b.N {
		b.StopTimer()
		actors.PassivateAll(e.node.eng)
		require.Eventually(b, func() bool { return e.node.eng.Resident() == 0 }, time.Minute, 10*time.Millisecond)
		b.StartTimer()
		start := time.Now()
		reserveAll()
		took += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/took.Seconds(), "events/s")
	if batches, loaded := actors.BatchedActivations(e.node.eng); batches > 0 {
		b.ReportMetric(float64(loaded)/float64(batches), "events/batch")
	}

}

// each runs f(i) for i in 0..n-1 on workers goroutines and fails tb with
// the first error.
func each(tb testing.TB, n, workers int, f func(i int) error) {
	tb.Helper()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		tb.Fatal(first)
	}
}

// The survivors of a failover activate many events at once through the
// batched path: each must get exactly its own state (snapshot only,
// snapshot and journal tail, or journal only) and its own new epoch, and
// the old owner, fenced by the batched claim, must not write again.
func TestBatchedActivationOfManyEvents(t *testing.T) {
	cfg := actors.Config{NodeName: "node-a", HoldTTL: time.Hour, IdleTimeout: time.Hour}
	e := newEnv(t, smallHall, cfg)
	ctx := context.Background()
	const n = 24
	ids := make([]uuid.UUID, n)
	ids[0] = e.eventID
	for i := 1; i < n; i++ {
		ids[i] = dbtest.CreateEvent(t, e.db, smallHall, boxoffice.WaitingRoom{}).ID
	}
	hold := func(eng *actors.Engine, i, seat int) error {
		_, err := eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: ids[i], UserID: uuid.New(), BookingID: uuid.New(),
			TicketIDs: []uuid.UUID{boxoffice.NewTicketSpace(ids[i]).ID(seat)}})
		return err
	}
	// Events i%3 == 0: holds, then a snapshot (passivation); i%3 == 1: the
	// same plus a hold after the snapshot (a journal tail); i%3 == 2:
	// holds only (no snapshot). Each event holds i%4+1 seats of its own.
	each(t, n, 8, func(i int) error {
		for s := range i%4 + 1 {
			if i%3 != 2 {
				if err := hold(e.node.eng, i, s); err != nil {
					return err
				}
			}
		}
		return nil
	})
	actors.PassivateAll(e.node.eng)
	require.Eventually(t, func() bool { return e.node.eng.Resident() == 0 }, 30*time.Second, 10*time.Millisecond)
	each(t, n, 8, func(i int) error {
		switch i % 3 {
		case 1:
			return hold(e.node.eng, i, 10+i%4)
		case 2:
			for s := range i%4 + 1 {
				if err := hold(e.node.eng, i, s); err != nil {
					return err
				}
			}
		}
		return nil
	})
	want := make([]boxoffice.SeatsView, n)
	epochs := make([]int64, n)
	for i, id := range ids {
		var err error
		if want[i], err = e.node.eng.Seats(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Pool().QueryRow(ctx, `SELECT epoch FROM event_ownership WHERE event_id = $1`, id).Scan(&epochs[i]); err != nil {
			t.Fatal(err)
		}
	}

	// node-b takes every event over while node-a's actors still run (a
	// partition): all activate at once.
	cfg.NodeName = "node-b"
	b := startNode(t, e.db, cfg)
	each(t, n, n, func(i int) error {
		got, err := b.eng.Seats(ctx, ids[i])
		if err != nil {
			return err
		}
		if got.Version != want[i].Version || fmt.Sprint(got.Statuses) != fmt.Sprint(want[i].Statuses) {
			return fmt.Errorf("event %d on node-b: v%d %v, want v%d %v", i, got.Version, got.Statuses, want[i].Version, want[i].Statuses)
		}
		return nil
	})
	if _, loaded := actors.BatchedActivations(b.eng); loaded != n {
		t.Fatalf("%d of %d activations were batched", loaded, n)
	}
	for i, id := range ids {
		var epoch int64
		var owner string
		if err := e.db.Pool().QueryRow(ctx, `SELECT epoch, node FROM event_ownership WHERE event_id = $1`, id).Scan(&epoch, &owner); err != nil {
			t.Fatal(err)
		}
		if epoch != epochs[i]+1 || owner != "node-b" {
			t.Errorf("event %d: epoch %d of %s, want %d of node-b", i, epoch, owner, epochs[i]+1)
		}
	}
	// node-a's actor of event 1 still holds the old epoch: its write is
	// fenced, and node-b's next write follows the journal without a gap.
	if err := hold(e.node.eng, 1, 19); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("the old owner's hold after the batched claim: %v, want unavailable (fenced)", err)
	}
	if err := hold(b.eng, 1, 19); err != nil {
		t.Fatalf("the new owner's hold: %v", err)
	}
	vs, err := e.db.JournalVersions(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range vs {
		if v != uint64(k+1) {
			t.Fatalf("event 1 journal versions %v: not 1..%d without a gap", vs, want[1].Version+1)
		}
	}
	if uint64(len(vs)) != want[1].Version+1 {
		t.Fatalf("event 1 journal versions %v, want 1..%d", vs, want[1].Version+1)
	}
}
