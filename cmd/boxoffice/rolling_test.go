package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// rollingDrainDelay is the nodes' BOXOFFICE_DRAIN_DELAY in the rolling
// restart: many readiness polls of the loadgen (every 100 ms), so users
// have moved before the node stops serving even on a loaded machine.
const rollingDrainDelay = "2s"

// rollingRestarts is how many nodes TestRollingRestart restarts: one (the
// owner of the hot event) in `make test`; with BOXOFFICE_ROLLING_DURATION
// set (`make rolling`), node after node in turn until that much time has
// passed, at least one full round of all three.
func rollingRestarts(t *testing.T) (restarts int, until time.Duration) {
	t.Helper()
	v := os.Getenv("BOXOFFICE_ROLLING_DURATION")
	if v == "" {
		return 1, 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("BOXOFFICE_ROLLING_DURATION=%q: want a duration", v)
	}
	return 3, d
}

// TestRollingRestart restarts nodes of a three-node cluster (child
// processes) one after another with SIGTERM while readiness-aware loadgen
// users reserve and release through all of them (issue 22): each node
// drains (its /readyz fails, users move, its events are handed to their
// next owners) and exits 0, then starts again. Every request must get a
// decision: no 503, no request without a reply, no wrong answer, and
// `boxoffice check` must find nothing afterwards.
func TestRollingRestart(t *testing.T) {
	minRestarts, until := rollingRestarts(t)
	// LAN gossip timings: a drain needs no failure detector, and the fast
	// loopback timings can declare a node dead on a loaded machine (it
	// then exits 1 by design), which is not what this test is about.
	pc := startProcClusterOn(t, pgtest.NewDB(t), 3, "BOXOFFICE_DRAIN_DELAY="+rollingDrainDelay, "BOXOFFICE_GOSSIP_TIMINGS=lan")
	events := seedSmall(t, pc.DB, 2)
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	const users = 8
	for i := range users / 2 {
		pc.Nodes[0].client().token(t, fmt.Sprintf("loadgen-%d@example.com", i))
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var loads []*loadRun
	for _, ev := range events {
		l := &loadRun{history: filepath.Join(t.TempDir(), "history.jsonl"), done: make(chan struct{})}
		c := loadConfig{URLs: urlsOf(pc), Event: ev, Users: users / 2, Duration: time.Hour, Seats: 2, Release: 0.9,
			History: l.history, Mode: "reserve"}
		go func() {
			defer close(l.done)
			l.res, l.err = runLoad(ctx, c, io.Discard)
		}()
		t.Cleanup(func() { stop(); <-l.done })
		loads = append(loads, l)
	}
	// Start with the owner of the hot event, once the load is under way.
	before, _ := statsOf(t, pc.Nodes[0].client(), admin, events[0])
	waitChanged(t, pc.Nodes[0], admin, events[0], before.Version+10, 15*time.Second)
	first := ownerOf(t, pc, pc.Nodes[0], admin, events[0])
	at := 0
	for i, nd := range pc.Nodes {
		if nd == first {
			at = i
		}
	}
	start := time.Now()
	for n := 0; n < minRestarts || time.Since(start) < until; n++ {
		nd := pc.Nodes[(at+n)%len(pc.Nodes)]
		t0 := time.Now()
		nd.term(90 * time.Second)
		drained := time.Since(t0)
		nd.restart()
		t.Logf("restart %d: %s drained and exited in %s, ready again %s later", n+1, nd.Name,
			drained.Round(time.Millisecond), (time.Since(t0) - drained).Round(time.Millisecond))
		// Let the load run on the whole cluster before the next one.
		s, _ := statsOf(t, nd.client(), admin, events[0])
		waitChanged(t, nd, admin, events[0], s.Version+10, 15*time.Second)
	}
	stop()
	var samples []sample
	for _, l := range loads {
		samples = append(samples, l.wait(t)...)
	}
	stats := judgeReplies(t, samples)
	t.Logf("rolling restart over %s: %s", time.Since(start).Round(time.Millisecond), stats)
	if stats.unavailable > 0 || stats.noReply > 0 {
		t.Errorf("%d replies 503 and %d requests without a reply, want 0: %s", stats.unavailable, stats.noReply, stats)
	}
	if stats.codes["reserve/201"] == 0 {
		t.Fatalf("no reserve succeeded: %s", stats)
	}
	assertNoViolations(t, pc.DB, samples)
}
