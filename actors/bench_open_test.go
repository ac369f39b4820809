package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence/baseline"
)

// openStep is one offered rate of an open-loop run and what came of it.
type openStep struct {
	rate             float64 // offered attempts/s
	offered, dropped int64   // arrivals; arrivals refused because maxInFlight were in flight
	done, ok         int64   // attempts answered; successful holds
	elapsed          time.Duration
	p50, p99, p999   time.Duration // from each arrival's scheduled time (no coordinated omission)
}

func (s openStep) holdsPerSec() float64 { return float64(s.ok) / s.elapsed.Seconds() }

// meets is the knee's test: every arrival served and p99 under 10 ms.
func (s openStep) meets() bool { return s.dropped == 0 && s.p99 < 10*time.Millisecond }

func (s openStep) String() string {
	return fmt.Sprintf("offered=%.0f/s answered=%.0f/s holds=%.0f/s dropped=%d p50=%.2fms p99=%.2fms p999=%.2fms",
		s.rate, float64(s.done)/s.elapsed.Seconds(), s.holdsPerSec(), s.dropped,
		ms(s.p50), ms(s.p99), ms(s.p999))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// maxInFlight bounds the simulated users waiting for a reply at once; an
// arrival beyond it is dropped (and the rate fails the knee), so that an
// overloaded system cannot pile up goroutines without end.
const maxInFlight = 20_000

// runOpen offers attempts at rate per second for d, whatever the replies:
// arrival i is due at start + i/rate and is sent then, each by its own
// goroutine (a new simulated user), and its latency counts from when it
// was due, so a stalled system shows in the percentiles.
func runOpen(rate float64, d time.Duration, attempt func(i int64) bool) openStep {
	n := int64(rate * d.Seconds())
	lat := make([]time.Duration, n)
	var inflight, ok, dropped atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait) // arrivals that fell due meanwhile go at once, in order
		}
		if inflight.Add(1) > maxInFlight {
			inflight.Add(-1)
			dropped.Add(1)
			lat[i] = -1
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			if attempt(i) {
				ok.Add(1)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	s := openStep{rate: rate, offered: n, dropped: dropped.Load(), ok: ok.Load(), elapsed: time.Since(start)}
	served := slices.DeleteFunc(lat, func(l time.Duration) bool { return l < 0 })
	s.done = int64(len(served))
	slices.Sort(served)
	if len(served) > 0 {
		at := func(p float64) time.Duration { return served[min(len(served)-1, int(p*float64(len(served))))] }
		s.p50, s.p99, s.p999 = at(0.50), at(0.99), at(0.999)
	}
	return s
}

// saturated reports a rate the system no longer keeps up with: arrivals
// dropped, or fewer than 90 % of the offered attempts answered per second
// of the step.
func (s openStep) saturated() bool {
	return s.dropped > 0 || float64(s.done)/s.elapsed.Seconds() < 0.9*s.rate
}

// stepDuration is how long one rate is offered: a second, shortened so
// that one step asks for at most 15,000 of the event's 50,000 seats (a
// filling event refuses more attempts and would flatter the later rates),
// but never under a quarter second.
func stepDuration(rate float64, seats int) time.Duration {
	d := time.Duration(15_000 / (rate * float64(seats)) * float64(time.Second))
	return min(time.Second, max(d, 250*time.Millisecond))
}

// sweep offers rising rates, from `from` times `factor` per step, each for
// stepDuration on a fresh event (prepare returns the step's attempt), until two rates
// running saturate the system or `upTo` is passed. The knee is the highest
// rate that met the knee's test (p99 < 10 ms, nothing dropped); best is
// the step with the most holds/s, the sustained throughput past the knee.
func sweep(b *testing.B, from, factor, upTo float64, seats int, prepare func() func(i int64) bool) (knee, best openStep) {
	misses := 0
	for rate := from; rate <= upTo && misses < 2; rate *= factor {
		attempt := prepare()
		s := runOpen(rate, stepDuration(rate, seats), attempt)
		b.Logf("%s", s)
		if s.meets() && s.rate > knee.rate {
			knee = s
		}
		if best.elapsed == 0 || s.holdsPerSec() > best.holdsPerSec() {
			best = s
		}
		if s.saturated() {
			misses++
		} else {
			misses = 0
		}
	}
	return knee, best
}

// randomSeats draws n distinct seats of 50,000 for attempt i.
func randomSeats(i int64, n int) []int {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	idx := make([]int, 0, n)
	for len(idx) < n {
		if x := r.IntN(50_000); !slices.Contains(idx, x) {
			idx = append(idx, x)
		}
	}
	return idx
}

// BenchmarkReserveOpen is the on-sale as an open loop: reserve attempts of
// random seats of a 50,000-seat event arrive at a rising offered rate
// whatever the replies, each from a new user, for up to one second per
// rate (stepDuration) on a fresh event; it reports the knee (the highest
// offered rate whose p99, counted from each arrival's due time, stays
// under 10 ms) and the durable
// holds/s there, and the most holds/s any rate sustained, for the grain and
// the strong conventional design. Rates rise until the system saturates
// (answers under 90 % of the offered rate, or drops). Run it
// once: -benchtime 1x (b.N is not used). The per-rate lines are in -v.
func BenchmarkReserveOpen(b *testing.B) {
	for _, seats := range []int{1, 4} {
		b.Run(fmt.Sprintf("grain/seats=%d", seats), func(b *testing.B) {
			e := newBenchEnv(b, actors.Config{})
			knee, best := sweep(b, 500, 1.5, 200_000, seats, func() func(int64) bool {
				ev := createEvent(b, e.db, stadium())
				if _, err := e.node.eng.Seats(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
				space := boxoffice.NewTicketSpace(ev)
				return func(i int64) bool {
					_, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{EventID: ev,
						UserID: uuid.New(), BookingID: uuid.New(), TicketIDs: toIDs(space, randomSeats(i, seats))})
					if err != nil && boxoffice.ErrorCode(err) != boxoffice.ESeatUnavailable {
						b.Error(err)
					}
					return err == nil
				}
			})
			reportKnee(b, knee, best)
		})
		b.Run(fmt.Sprintf("conventional/seats=%d", seats), func(b *testing.B) {
			db := openBenchDB(b)
			conv := baseline.New(db.Pool())
			knee, best := sweep(b, 500, 1.5, 200_000, seats, func() func(int64) bool {
				ev := uuid.New()
				if err := conv.Setup(context.Background(), ev, 50_000); err != nil {
					b.Fatal(err)
				}
				space := boxoffice.NewTicketSpace(ev)
				return func(i int64) bool {
					ok, err := conv.Hold(context.Background(), ev, uuid.New(), uuid.New(), toIDs(space, randomSeats(i, seats)), int64(1000*seats))
					if err != nil {
						b.Error(err)
					}
					return ok
				}
			})
			reportKnee(b, knee, best)
		})
	}
}

func reportKnee(b *testing.B, knee, best openStep) {
	b.Helper()
	b.ReportMetric(best.holdsPerSec(), "max-holds/s")
	b.ReportMetric(best.rate, "max-at-offered/s")
	b.ReportMetric(knee.rate, "knee-offered/s")
	if knee.rate > 0 {
		b.ReportMetric(knee.holdsPerSec(), "knee-holds/s")
		b.ReportMetric(ms(knee.p99), "knee-p99-ms")
		b.ReportMetric(ms(knee.p999), "knee-p999-ms")
	}
}
