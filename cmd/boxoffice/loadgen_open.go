package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// kneeP99 is the latency an on-sale's knee is defined by: the highest
// offered rate whose p99 stays under it (issue 21).
const kneeP99 = 10 * time.Millisecond

// openMaxInFlight bounds the requests waiting for a reply at once in an
// open-loop run; an arrival beyond it is dropped and counted, so that an
// overloaded node shows as drops instead of an unbounded pile of
// goroutines in the load generator.
const openMaxInFlight = 20_000

// openResult is one offered rate of an open-loop run.
type openResult struct {
	rate             float64
	offered, dropped int64
	answered, ok     int64
	elapsed          time.Duration
	p50, p99, p999   time.Duration
	cpu              time.Duration // the load generator's own CPU (user + system) during the run
	statuses         map[int]int64
}

func (r openResult) meets() bool { return r.dropped == 0 && r.answered > 0 && r.p99 < kneeP99 }

func (r openResult) print(w io.Writer) {
	s := r.elapsed.Seconds()
	fmt.Fprintf(w, "offered=%.0f/s answered=%.0f/s successes/s=%.0f dropped=%d p50=%.2fms p99=%.2fms p999=%.2fms loadgen-cpu=%.2f cores\n",
		r.rate, float64(r.answered)/s, float64(r.ok)/s, r.dropped, msOf(r.p50), msOf(r.p99), msOf(r.p999), r.cpu.Seconds()/s)
	codes := make([]int, 0, len(r.statuses))
	for k := range r.statuses {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for _, k := range codes {
		fmt.Fprintf(w, "  status %d: %d\n", k, r.statuses[k])
	}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is this process's CPU time so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openUser is a simulated buyer shared by the arrivals of an open-loop run:
// its token is swapped for a new buyer's in the background once it has
// taken its share of seats, never on an arrival's path.
type openUser struct {
	mu         sync.Mutex
	u          *loadUser
	refreshing bool
}

// runOpenLoad offers reserve attempts at c.Rate per second for c.Duration
// whatever the replies, as an on-sale's crowd does: arrival i is due at
// start + i/rate, goes to user i mod -users, and its latency is counted
// from when it was due, so a node that stalls shows in the percentiles
// instead of slowing the generator down (no coordinated omission).
func runOpenLoad(ctx context.Context, c loadConfig, progress io.Writer) (openResult, error) {
	if c.PerBuyer == 0 {
		c.PerBuyer = 10
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096, MaxConnsPerHost: 0}, Timeout: 15 * time.Second}
	tickets, err := eventTickets(ctx, client, c.URLs[0], c.Event)
	if err != nil {
		return openResult{}, err
	}
	users := make([]*openUser, c.Users)
	for i := range users {
		base, email := c.URLs[i%len(c.URLs)], fmt.Sprintf("loadgen-open-%d-%.8s@example.com", i, c.Event)
		tok, err := devToken(ctx, client, base, email)
		if err != nil {
			return openResult{}, err
		}
		users[i] = &openUser{u: &loadUser{base: base, token: tok, email: email, at: i % len(c.URLs), id: i}}
	}
	hist, closeHist, err := openHistory(c.History)
	if err != nil {
		return openResult{}, err
	}
	defer closeHist()

	n := int64(c.Rate * c.Duration.Seconds())
	lat := make([]time.Duration, n)
	status := make([]int32, n)
	var inflight, ok, dropped atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / c.Rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return openResult{}, ctx.Err()
			case <-time.After(wait):
			}
		}
		if inflight.Add(1) > openMaxInFlight {
			inflight.Add(-1)
			dropped.Add(1)
			lat[i] = -1
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			ou := users[i%int64(len(users))]
			r := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			ids := make([]string, 0, c.Seats)
			for len(ids) < c.Seats {
				if t := tickets[r.IntN(len(tickets))]; !slices.Contains(ids, t) {
					ids = append(ids, t)
				}
			}
			ou.mu.Lock()
			u := *ou.u // this arrival's copy of the buyer's token and node
			ou.mu.Unlock()
			var reply struct {
				BookingID string `json:"booking_id"`
				ExpiresAt string `json:"expires_at"`
			}
			s := u.do(context.WithoutCancel(ctx), client, http.MethodPost, "/booking/reserve",
				map[string]any{"event_id": c.Event, "ticket_ids": ids}, &reply)
			lat[i], status[i] = time.Since(due), int32(s.Status)
			s.Op, s.EventID, s.TicketIDs, s.BookingID, s.ExpiresAt = "reserve", c.Event, ids, reply.BookingID, reply.ExpiresAt
			hist(s)
			if s.Status != http.StatusCreated {
				return
			}
			ok.Add(1)
			ou.mu.Lock()
			ou.u.taken += c.Seats
			refresh := ou.u.taken+c.Seats > c.PerBuyer && !ou.refreshing
			ou.refreshing = ou.refreshing || refresh
			ou.mu.Unlock()
			if refresh {
				go ou.nextBuyer(ctx, client, c.Event)
			}
		}()
	}
	wg.Wait()
	res := openResult{rate: c.Rate, offered: n, dropped: dropped.Load(), ok: ok.Load(),
		elapsed: time.Since(start), cpu: cpuTime() - cpu0, statuses: map[int]int64{}}
	served := make([]time.Duration, 0, n)
	for i, l := range lat {
		if l >= 0 {
			served = append(served, l)
			res.statuses[int(status[i])]++
		}
	}
	res.answered = int64(len(served))
	slices.Sort(served)
	if len(served) > 0 {
		at := func(p float64) time.Duration { return served[min(len(served)-1, int(p*float64(len(served))))] }
		res.p50, res.p99, res.p999 = at(0.50), at(0.99), at(0.999)
	}
	return res, nil
}

// nextBuyer signs the user in as a new buyer and swaps the token in.
func (ou *openUser) nextBuyer(ctx context.Context, client *http.Client, event string) {
	ou.mu.Lock()
	next := *ou.u
	ou.mu.Unlock()
	next.nextBuyer(ctx, client, event)
	ou.mu.Lock()
	ou.u.token, ou.u.email, ou.u.gen, ou.u.taken = next.token, next.email, next.gen, next.taken
	ou.refreshing = false
	ou.mu.Unlock()
}

// sweepOpenLoad offers rising rates, from c.Rate times 1.5 per step, each
// for c.Duration, until two rates running saturate the node (arrivals
// dropped, or under 90 % of the offered rate answered) or c.MaxRate is
// passed, and prints each step and the knee: the highest rate whose p99
// stayed under 10 ms with every arrival served.
func sweepOpenLoad(ctx context.Context, c loadConfig, stdout, progress io.Writer) error {
	var knee openResult
	misses := 0
	for rate := c.Rate; misses < 2 && (c.MaxRate <= 0 || rate <= c.MaxRate); rate *= 1.5 {
		step := c
		step.Rate = rate
		res, err := runOpenLoad(ctx, step, progress)
		if err != nil {
			return err
		}
		res.print(stdout)
		if res.meets() {
			knee = res
		}
		if res.dropped > 0 || float64(res.answered)/res.elapsed.Seconds() < 0.9*res.rate {
			misses++
		} else {
			misses = 0
		}
	}
	if knee.rate == 0 {
		fmt.Fprintf(stdout, "knee: none (no offered rate kept p99 under %s)\n", kneeP99)
		return nil
	}
	fmt.Fprintf(stdout, "knee: offered=%.0f/s successes/s=%.0f p99=%.2fms p999=%.2fms\n",
		knee.rate, float64(knee.ok)/knee.elapsed.Seconds(), msOf(knee.p99), msOf(knee.p999))
	return nil
}

// openHistory returns a concurrency-safe recorder of samples into path as
// JSON lines (a no-op when path is empty) and the function that flushes
// and closes it.
func openHistory(path string) (record func(sample), closeFn func(), err error) {
	if path == "" {
		return func(sample) {}, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	var mu sync.Mutex
	return func(s sample) {
			mu.Lock()
			_ = enc.Encode(s)
			mu.Unlock()
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			_ = bw.Flush()
			_ = f.Close()
		}, nil
}
