package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestFailoverManyEvents measures the failover of a node holding many
// active events (make failover-many; skipped unless BOXOFFICE_FAILOVER_EVENTS
// sets how many events the cluster activates, e.g. 9000 for about 3,000 on
// each of the 3 nodes). Each event (20 seats) is activated by a hold, the
// node holding the most is killed -9, and then every one of its events is
// sent fresh reserves through the survivors by its own buyer (50 ms apart,
// at most 512 requests in flight) until it acknowledges one (201); the
// time from the kill to that reply is the event's recovery. It logs p50, p99 and max; a measurement for
// docs/benchmarks.md, never asserted.
func TestFailoverManyEvents(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BOXOFFICE_FAILOVER_EVENTS"))
	if n <= 0 {
		t.Skip("set BOXOFFICE_FAILOVER_EVENTS (make failover-many) to measure the failover of many events")
	}
	pc := startProcCluster(t, 3)
	var events []string
	for len(events) < n { // batches, each within seedTestEvents' minute
		k := min(500, n-len(events))
		events = append(events, seedTestEvents(t, pc.DB, demoVenue{"Small Hall", "Madrid", "Calle Mayor 2", 40.41, -3.70, 1, 2, 10},
			boxoffice.Performer{ID: uuid.New(), Name: "The Many"}, fmt.Sprintf("Many %d", len(events)), k)...)
	}
	const workers = 64
	tokens := make([]string, workers)
	for i := range tokens {
		tokens[i] = pc.Nodes[0].client().token(t, fmt.Sprintf("many-%d@example.com", i))
	}
	// next[ev] is the next seat to try on the event.
	next := make([]atomic.Int32, len(events))
	reserve := func(url, tok string, i int) (int, string) {
		ev := uuid.MustParse(events[i])
		seat := int(next[i].Add(1)-1) % 20
		code, data := send(http.MethodPost, url+"/booking/reserve", tok,
			map[string]any{"event_id": ev, "ticket_ids": []string{boxoffice.NewTicketSpace(ev).ID(seat).String()}})
		var r struct {
			NodeID string `json:"node_id"`
		}
		_ = json.Unmarshal(data, &r)
		return code, r.NodeID
	}
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	start := time.Now()
	forEach(len(events), workers, func(w, i int) {
		if code, _ := reserve(pc.Nodes[i%3].URL, tokens[w], i); code != http.StatusCreated {
			t.Errorf("activating reserve of event %d: %d", i, code)
		}
	})
	t.Logf("%d events activated by a hold in %s", len(events), time.Since(start).Round(time.Millisecond))
	owner := make([]string, len(events))
	count := map[string]int{}
	forEach(len(events), workers, func(_, i int) {
		code, data := send(http.MethodGet, pc.Nodes[i%3].URL+"/admin/api/events/"+events[i], admin, nil)
		var s eventStats
		if code == http.StatusOK && json.Unmarshal(data, &s) == nil {
			owner[i] = s.NodeID
		}
	})
	for _, o := range owner {
		count[o]++
	}
	victim := pc.Nodes[0]
	for _, nd := range pc.Nodes {
		if count[nd.Name] > count[victim.Name] {
			victim = nd
		}
	}
	var moved []int
	for i, o := range owner {
		if o == victim.Name {
			moved = append(moved, i)
		}
	}
	var via []string
	for _, nd := range pc.Nodes {
		if nd != victim {
			via = append(via, nd.URL)
		}
	}
	t.Logf("placement %v; killing %s with %d active events", count, victim.Name, len(moved))
	killed := time.Now()
	victim.kill()
	// Each moved event is asked by its own buyer, who retries 50 ms after
	// a failed attempt, as buyers on a seat page do, with at most
	// inflight requests at once: the measure is the survivors' recovery,
	// not a queue in this test (a closed loop of 64 going round the list
	// made an event that failed once wait a whole round of 3,000).
	const inflight = 512
	took := make([]time.Duration, len(moved))
	sem := make(chan struct{}, inflight)
	deadline := killed.Add(2 * time.Minute)
	var stuck atomic.Int32
	var wg sync.WaitGroup
	for k, i := range moved {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 0; ; attempt++ {
				if time.Now().After(deadline) {
					stuck.Add(1)
					return
				}
				sem <- struct{}{}
				code, _ := reserve(via[(k+attempt)%len(via)], tokens[k%workers], i)
				<-sem
				if code == http.StatusCreated {
					took[k] = time.Since(killed)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if n := stuck.Load(); n > 0 {
		t.Fatalf("%d events still without an acknowledged write 2 minutes after the kill", n)
	}
	slices.Sort(took)
	at := func(p float64) time.Duration {
		return took[min(len(took)-1, int(p*float64(len(took))))].Round(time.Millisecond)
	}
	t.Logf("failover of %d active events: every one wrote again on the survivors; from the kill to its first acknowledged write: p50 %s, p99 %s, max %s",
		len(took), at(0.5), at(0.99), took[len(took)-1].Round(time.Millisecond))
}

// forEach runs f(worker, i) for i in 0..n-1 on workers goroutines.
func forEach(n, workers int, f func(w, i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				f(w, i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
