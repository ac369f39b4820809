package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
)

// soakConfig is TestSoak's run: how long, how often it samples, and the
// load. `make soak` sets BOXOFFICE_SOAK (SOAK, default 30m) and
// BOXOFFICE_SOAK_EVERY (SOAK_EVERY, default 30s); without BOXOFFICE_SOAK
// the test is skipped, so `make test` never runs it.
type soakConfig struct {
	duration, every time.Duration
	users           int           // distinct users, so no user nears the per-user hold limit
	pause           time.Duration // each user's pause between two reserves
	out             string        // the table is also written here
}

func soakFromEnv(t *testing.T) soakConfig {
	t.Helper()
	v := os.Getenv("BOXOFFICE_SOAK")
	if v == "" {
		t.Skip("set BOXOFFICE_SOAK (make soak) to run the soak benchmark")
	}
	c := soakConfig{every: 30 * time.Second, users: 100, pause: time.Second, out: os.Getenv("BOXOFFICE_SOAK_OUT")}
	var err error
	if c.duration, err = time.ParseDuration(v); err != nil || c.duration < time.Minute {
		t.Fatalf("BOXOFFICE_SOAK=%q: want a duration of at least 1m", v)
	}
	if v := os.Getenv("BOXOFFICE_SOAK_EVERY"); v != "" {
		if c.every, err = time.ParseDuration(v); err != nil || c.every < time.Second {
			t.Fatalf("BOXOFFICE_SOAK_EVERY=%q: want a duration of at least 1s", v)
		}
	}
	if v := os.Getenv("BOXOFFICE_SOAK_USERS"); v != "" {
		if c.users, err = strconv.Atoi(v); err != nil || c.users < 1 {
			t.Fatalf("BOXOFFICE_SOAK_USERS=%q: want a count", v)
		}
	}
	return c
}

// soakSample is one row of the table: the node's memory and goroutines as
// its /metrics reports them, and the load's counters so far.
type soakSample struct {
	at                     time.Duration
	heapAlloc, heapInuse   float64 // bytes
	rss                    float64 // bytes
	goroutines             float64
	requests, ok, rejected int64 // reserves so far: all, held (201), refused (4xx)
}

// TestSoak runs one node (a child process, as in production) for
// BOXOFFICE_SOAK under a steady, paced mix: BOXOFFICE_SOAK_USERS users
// (100) over four 10,000-seat events, each reserving 1 to 2 seats every
// second, then confirming 5 % of their holds, releasing 75 % and leaving
// 20 % to expire (30 s holds). Every BOXOFFICE_SOAK_EVERY it samples the
// node's heap, RSS and goroutine count and prints a row; at the end it
// prints the growth from the first sample after warm-up to the last.
// It asserts nothing about the figures (a machine shared with other work
// makes any threshold flaky); docs/benchmarks.md records them.
func TestSoak(t *testing.T) {
	cfg := soakFromEnv(t)
	pc := startProcCluster(t, 1)
	nd := pc.Nodes[0]
	events := seedSoak(t, pc.DB, 4)
	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.users + 8}, Timeout: 15 * time.Second}
	tickets := make([][]string, len(events))
	for i, ev := range events {
		var err error
		if tickets[i], err = eventTickets(ctx, client, nd.URL, ev); err != nil {
			t.Fatal(err)
		}
	}
	users := make([]*loadUser, cfg.users)
	for i := range users {
		email := fmt.Sprintf("soak-%d@example.com", i)
		tok, err := devToken(ctx, client, nd.URL, email)
		if err != nil {
			t.Fatalf("sign in %s: %v", email, err)
		}
		users[i] = &loadUser{base: nd.URL, token: tok, email: email, r: rand.New(rand.NewPCG(uint64(i), 77))}
	}

	var out io.Writer = os.Stdout
	if cfg.out != "" {
		f, err := os.Create(cfg.out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	fmt.Fprintf(out, "soak: 1 node, %d users over %d events, a reserve per user every %s (5%% confirmed, 75%% released, 20%% expire), %s, sampled every %s\n",
		cfg.users, len(events), cfg.pause, cfg.duration, cfg.every)
	fmt.Fprintf(out, "%8s %10s %10s %9s %10s %9s %9s %9s\n", "elapsed", "heap_alloc", "heap_inuse", "rss", "goroutines", "reserves", "held", "refused")

	run, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var requests, ok, rejected atomic.Int64
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := i % len(events)
			c := loadConfig{Event: events[ev], Seats: 1 + i%2, Confirm: 0.05, Release: 0.75, Mode: "reserve"}
			// Spread the users' first requests over the pause.
			tick := time.NewTimer(time.Duration(i) * cfg.pause / time.Duration(len(users)))
			defer tick.Stop()
			for {
				select {
				case <-run.Done():
					return
				case <-tick.C:
				}
				s := u.step(run, client, c, tickets[ev], func(sample) {})
				if s.Status != 0 {
					requests.Add(1)
					if s.Status < 300 {
						ok.Add(1)
					} else if s.Status < 500 {
						rejected.Add(1)
					}
				}
				tick.Reset(cfg.pause)
			}
		}()
	}

	start := time.Now()
	var rows []soakSample
	sample := func() {
		m, err := scrapeMetrics(ctx, client, nd.URL)
		if err != nil {
			t.Errorf("scrape /metrics: %v", err)
			return
		}
		s := soakSample{at: time.Since(start), heapAlloc: m["go_memstats_heap_alloc_bytes"], heapInuse: m["go_memstats_heap_inuse_bytes"],
			rss: m["process_resident_memory_bytes"], goroutines: m["go_goroutines"],
			requests: requests.Load(), ok: ok.Load(), rejected: rejected.Load()}
		rows = append(rows, s)
		fmt.Fprintf(out, "%8s %9.1fM %9.1fM %8.1fM %10.0f %9d %9d %9d\n", s.at.Round(time.Second), s.heapAlloc/1e6, s.heapInuse/1e6,
			s.rss/1e6, s.goroutines, s.requests, s.ok, s.rejected)
	}
	sample()
	every := time.NewTicker(cfg.every)
	for run.Err() == nil {
		select {
		case <-run.Done():
		case <-every.C:
			sample()
		}
	}
	every.Stop()
	wg.Wait()
	sample()
	// Warm-up: holds last 30 s, so the live holds, actors and pools reach
	// their steady state within the first minute; compare from the first
	// sample after it to the last.
	i := slices.IndexFunc(rows, func(s soakSample) bool { return s.at >= time.Minute })
	if i < 0 || i == len(rows)-1 {
		return
	}
	first, last := rows[i], rows[len(rows)-1]
	fmt.Fprintf(out, "growth from %s to %s: heap_alloc %+.1fM, heap_inuse %+.1fM, rss %+.1fM, goroutines %+.0f; %.0f reserves/s\n",
		first.at.Round(time.Second), last.at.Round(time.Second), (last.heapAlloc-first.heapAlloc)/1e6, (last.heapInuse-first.heapInuse)/1e6,
		(last.rss-first.rss)/1e6, last.goroutines-first.goroutines, float64(last.requests)/last.at.Seconds())
}

// seedSoak creates n events of 10,000 seats (4 sections of 50 rows of 50).
func seedSoak(t *testing.T, db string, n int) []string {
	t.Helper()
	return seedTestEvents(t, db, demoVenue{"Soak Arena", "Madrid", "Calle Larga 1", 40.41, -3.70, 4, 50, 50},
		boxoffice.Performer{ID: seedID("performer", "The Soakers"), Name: "The Soakers", Biography: "Long sets."},
		"Soak night", n)
}

// scrapeMetrics reads the unlabelled samples of GET /metrics.
func scrapeMetrics(ctx context.Context, client *http.Client, base string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, val, found := strings.Cut(line, " ")
		if !found {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			m[name] = f
		}
	}
	return m, sc.Err()
}
