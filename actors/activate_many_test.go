package actors_test

import (
	"context"
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
	if k := actors.DebugBatches.Load(); k > 0 {
		b.Logf("batches %d events %d avg size %.1f avg took %v errs %d", k, actors.DebugEvents.Load(), float64(actors.DebugEvents.Load())/float64(k), time.Duration(actors.DebugNs.Load()/k), actors.DebugErrs.Load())
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
