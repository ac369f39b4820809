package actors_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// sell reserves and confirms seats idx for a new user; it returns the
// booking.
func sell(t testing.TB, e *env, idx ...int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	user, booking := uuid.New(), uuid.New()
	ids := make([]uuid.UUID, len(idx))
	for k, i := range idx {
		ids[k] = e.space.ID(i)
	}
	if _, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: user, BookingID: booking, TicketIDs: ids}); err != nil {
		t.Fatalf("reserve %v: %v", idx, err)
	}
	if _, err := e.node.eng.Confirm(ctx, boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: booking, UserID: user, Method: "card", Token: devpay.TokenVisa}); err != nil {
		t.Fatalf("confirm %v: %v", idx, err)
	}
	return booking
}

// scanOf is a check-in of seat i of booking b.
func scanOf(e *env, b uuid.UUID, i int, gate string) boxoffice.CheckInRequest {
	return boxoffice.CheckInRequest{Code: boxoffice.TicketCode{EventID: e.eventID, Index: i, TicketID: e.space.ID(i), BookingID: b},
		Scanner: uuid.New(), Gate: gate}
}

// TestCheckInEngine: 32 concurrent scans of one ticket through the engine
// admit it once; the others get that admission back; a ticket whose
// booking holds but never bought it, or that names another booking, is
// revoked; and an engine started afresh on the same database (the grain
// rebuilt from the journal) still knows the admission.
func TestCheckInEngine(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	ctx := context.Background()
	b := sell(t, e, 0, 1)
	var admitted atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for k := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.node.eng.CheckIn(ctx, scanOf(e, b, 0, fmt.Sprint("gate ", k)))
			if err == nil {
				admitted.Add(1)
			} else if boxoffice.ErrorCode(err) != boxoffice.EAlreadyAdmitted {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent scan: %v", err)
	}
	if admitted.Load() != 1 {
		t.Fatalf("%d of 32 concurrent scans admitted, want 1", admitted.Load())
	}

	held := uuid.New()
	if _, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: uuid.New(), BookingID: held,
		TicketIDs: []uuid.UUID{e.space.ID(5)}}); err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]boxoffice.CheckInRequest{
		"held, not sold":         scanOf(e, held, 5, ""),
		"a seat of another sale": scanOf(e, b, 7, ""),
		"no such booking":        scanOf(e, uuid.New(), 0, ""),
	} {
		if _, err := e.node.eng.CheckIn(ctx, req); boxoffice.ErrorCode(err) != boxoffice.ETicketRevoked {
			t.Errorf("%s: %v, want ticket_revoked", name, err)
		}
	}
	st, err := e.node.eng.Stats(ctx, e.eventID)
	if err != nil || st.Admitted != 1 {
		t.Fatalf("stats: admitted %d, %v", st.Admitted, err)
	}

	e.node.stop()
	e.node = startNode(t, e.db, actors.Config{})
	_, err = e.node.eng.CheckIn(ctx, scanOf(e, b, 0, "after restart"))
	if boxoffice.ErrorCode(err) != boxoffice.EAlreadyAdmitted {
		t.Fatalf("after a restart: %v, want already_admitted", err)
	}
	if _, err := e.node.eng.CheckIn(ctx, scanOf(e, b, 1, "after restart")); err != nil {
		t.Fatalf("the other ticket after a restart: %v", err)
	}

	// A cancelled event admits nobody.
	other := sell(t, e, 20)
	ev, err := e.db.Event(ctx, e.eventID)
	if err != nil {
		t.Fatal(err)
	}
	ev.CancelledAt, ev.Revision = time.Now(), ev.Revision+1
	if err := e.node.eng.UpdateRules(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.eng.CheckIn(ctx, scanOf(e, other, 20, "")); boxoffice.ErrorCode(err) != boxoffice.ETicketRevoked {
		t.Fatalf("a ticket of a cancelled event: %v, want ticket_revoked", err)
	}
}

// BenchmarkCheckIn: door staff checking in a sold-out 50,000-seat event.
// Every op is one scan of a distinct sold ticket by one of conc concurrent
// scanners, through the engine (the booking read from PostgreSQL, the
// grain's decision, the Admitted record durable in the journal before the
// answer); it reports check-ins/s and latency. Run with -benchtime Nx,
// N <= 50,000.
func BenchmarkCheckIn(b *testing.B) {
	for _, conc := range []int{16, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchCheckIn(b, conc) })
	}
}

func benchCheckIn(b *testing.B, conc int) {
	const seats = 50_000
	e := newBenchEnv(b, actors.Config{})
	e.space = boxoffice.NewTicketSpace(e.eventID)
	bookings := make([]uuid.UUID, seats)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				first := int(next.Add(10)) - 10
				if first >= seats {
					return
				}
				idx := []int{first, first + 1, first + 2, first + 3, first + 4, first + 5, first + 6, first + 7, first + 8, first + 9}
				bk := sell(b, e, idx...)
				for _, i := range idx {
					bookings[i] = bk
				}
			}
		}()
	}
	wg.Wait()
	if b.N > seats {
		b.Fatalf("b.N = %d: at most %d distinct tickets", b.N, seats)
	}
	lat := make([][]time.Duration, conc)
	var scans atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(scans.Add(1)) - 1
				if i >= b.N {
					return
				}
				t := time.Now()
				if _, err := e.node.eng.CheckIn(context.Background(), scanOf(e, bookings[i], i, "bench")); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "checkins/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	reportBatches(b, e.node.jw)
	if st, err := e.node.eng.Stats(context.Background(), e.eventID); err != nil || st.Admitted != len(all) {
		b.Fatalf("admitted %d of %d scans, %v", st.Admitted, len(all), err)
	}
}
