package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadRun is `boxoffice loadgen` running in the background with a history.
type loadRun struct {
	history string
	done    chan struct{}
	res     loadResult
	err     error
}

// startLoad drives reserves (some confirmed, some released, a share of
// the confirmed ones refunded at once) of one event through every URL for
// d, recording every reply.
func startLoad(t testing.TB, urls []string, ev string, users int, d time.Duration) *loadRun {
	t.Helper()
	return startLoadWith(t, urls, ev, users, d, 0.2, 0.5)
}

// startLoadWith is startLoad with the shares of holds to confirm and to
// release.
func startLoadWith(t testing.TB, urls []string, ev string, users int, d time.Duration, confirm, release float64) *loadRun {
	t.Helper()
	return startLoadPromo(t, urls, ev, users, d, confirm, release, "")
}

// startLoadPromo is startLoadWith whose reserves try promo code promo first.
func startLoadPromo(t testing.TB, urls []string, ev string, users int, d time.Duration, confirm, release float64, promo string) *loadRun {
	t.Helper()
	return startLoadConfig(t, loadConfig{URLs: urls, Event: ev, Users: users, Duration: d, Seats: 2, Confirm: confirm, Release: release,
		Refund: 0.3, Mode: "reserve", Promo: promo})
}

// startLoadConfig runs loadgen with c in the background, recording every
// reply in a history of its own.
func startLoadConfig(t testing.TB, c loadConfig) *loadRun {
	t.Helper()
	l := &loadRun{history: filepath.Join(t.TempDir(), "history.jsonl"), done: make(chan struct{})}
	c.History = l.history
	go func() {
		defer close(l.done)
		l.res, l.err = runLoad(context.Background(), c, io.Discard)
	}()
	t.Cleanup(func() { <-l.done })
	return l
}

// wait waits for the run to end and returns its history.
func (l *loadRun) wait(t testing.TB) []sample {
	t.Helper()
	<-l.done
	if l.err != nil {
		t.Fatalf("loadgen: %v", l.err)
	}
	s, err := readHistory(l.history)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replyStats sums up a history: how many replies of each status, and the
// share that was 503 (moving, retry) or had no reply (node down).
type replyStats struct {
	total, unavailable, noReply int
	codes                       map[string]int
}

func (r replyStats) String() string {
	keys := make([]string, 0, len(r.codes))
	for k := range r.codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, r.codes[k])
	}
	return fmt.Sprintf("%d replies, 503: %.2f%%, no reply (node down): %.2f%%;%s", r.total,
		100*float64(r.unavailable)/float64(max(1, r.total)), 100*float64(r.noReply)/float64(max(1, r.total)), b.String())
}

// judgeReplies fails the test for any reply that is a wrong answer: each
// must be a decision (reserve 201 or 409 taken, confirm and release 200),
// 503 unavailable (retry-safe), or no reply from a node that was down.
func judgeReplies(t testing.TB, samples []sample) replyStats {
	t.Helper()
	r := replyStats{codes: map[string]int{}}
	bad := 0
	for _, s := range samples {
		if s.Status == 0 {
			continue // a follow-up cut off by the end of the run: never answered
		}
		r.total++
		r.codes[fmt.Sprintf("%s/%d", s.Op, s.Status)]++
		ok := false
		switch s.Status {
		case http.StatusServiceUnavailable:
			r.unavailable++
			ok = true
		case statusTransport:
			r.noReply++
			ok = true
		case http.StatusCreated:
			ok = s.Op == "reserve"
		case http.StatusConflict:
			ok = s.Op == "reserve"
		case http.StatusOK:
			ok = s.Op == "confirm" || s.Op == "release" || s.Op == "refund"
		}
		if !ok {
			if bad++; bad <= 10 {
				t.Errorf("wrong answer: %s through %s at %s: %d %s", s.Op, s.Node, s.At.Format(time.RFC3339Nano), s.Status, s.Error)
			}
		}
	}
	return r
}

// waitServing polls the event's stats through via until a node other than
// gone hosts it, and returns how long that took since from.
func waitServing(t testing.TB, via *procNode, admin, ev, gone string, from time.Time, within time.Duration) (string, time.Duration) {
	t.Helper()
	c := via.client()
	deadline := from.Add(within)
	for time.Now().Before(deadline) {
		var s eventStats
		req, _ := http.NewRequest(http.MethodGet, c.URL+"/admin/api/events/"+ev, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		if code := doJSON(req, &s); code == http.StatusOK && s.NodeID != "" && s.NodeID != gone {
			return s.NodeID, time.Since(from)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("event %s not served by a survivor within %s of the kill of %s", ev, within, gone)
	return "", 0
}

// waitChanged polls the event's stats through via until its version is at
// least version (the load has changed it), failing after within.
func waitChanged(t testing.TB, via *procNode, admin, ev string, version uint64, within time.Duration) {
	t.Helper()
	c := via.client()
	deadline := time.Now().Add(within)
	var last eventStats
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, c.URL+"/admin/api/events/"+ev, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		if code := doJSON(req, &last); code == http.StatusOK && last.Version >= version {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("event %s at version %d after %s of load, want >= %d: the load does not change it", ev, last.Version, within, version)
}

// doJSON sends req with a short timeout and decodes a 200 reply into out;
// it returns the status, or 0 when there was no reply.
func doJSON(req *http.Request, out any) int {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// ownerOf returns the process hosting ev's actor (asking through via).
func ownerOf(t testing.TB, pc *procCluster, via *procNode, admin, ev string) *procNode {
	t.Helper()
	s, code := statsOf(t, via.client(), admin, ev)
	for _, nd := range pc.Nodes {
		if code == http.StatusOK && nd.Name == s.NodeID {
			return nd
		}
	}
	t.Fatalf("event %s: stats %d %+v name no node", ev, code, s)
	return nil
}

func urlsOf(pc *procCluster) []string {
	var out []string
	for _, nd := range pc.Nodes {
		out = append(out, nd.URL)
	}
	return out
}

// TestKillOwnerUnderLoad kills -9 the process that owns a hot event while
// loadgen users reserve, confirm and release through all three nodes. The
// event moves to a survivor; replies during the move are 503 (or none from
// the dead node), never a wrong answer; `boxoffice check` finds no double
// sale and no acknowledged hold or sale missing; the killed node restarts
// and rejoins.
func TestKillOwnerUnderLoad(t *testing.T) {
	pc := startProcCluster(t, 3)
	ev := seedSmall(t, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	victim := ownerOf(t, pc, pc.Nodes[0], admin, ev)
	var survivor *procNode
	for _, nd := range pc.Nodes {
		if nd != victim {
			survivor = nd
			break
		}
	}
	before, code := statsOf(t, survivor.client(), admin, ev)
	if code != http.StatusOK {
		t.Fatalf("stats of %s before the load: %d", ev, code)
	}
	load := startLoad(t, urlsOf(pc), ev, 12, 10*time.Second)
	// Kill once the load is under way: the event has changed a few times.
	waitChanged(t, survivor, admin, ev, before.Version+10, 8*time.Second)
	killed := time.Now()
	victim.kill()
	newOwner, took := waitServing(t, survivor, admin, ev, victim.Name, killed, 15*time.Second)
	t.Logf("kill -9 of %s: %s serves the event after %s", victim.Name, newOwner, took.Round(time.Millisecond))
	samples := load.wait(t)
	stats := judgeReplies(t, samples)
	t.Logf("replies: %s", stats)
	if stats.codes["reserve/201"] == 0 {
		t.Fatalf("no reserve succeeded: %s", stats)
	}
	victim.restart()
	if s, code := statsOf(t, victim.client(), admin, ev); code != http.StatusOK {
		t.Errorf("restarted %s: stats %d %+v", victim.Name, code, s)
	}
	assertNoViolations(t, pc.DB, samples)
}

// TestPausedNodeLearnsItIsDeadAndExits stops a node's process (SIGSTOP, like
// a long GC pause or a frozen VM) until its peers declare it dead, then lets
// it run again: it hears it was declared dead and exits non-zero, so that a
// supervisor restarts it with a new member id, which joins and serves.
func TestPausedNodeLearnsItIsDeadAndExits(t *testing.T) {
	pc := startProcCluster(t, 3)
	ev := seedSmall(t, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	zombie := ownerOf(t, pc, pc.Nodes[0], admin, ev)
	var other *procNode
	for _, nd := range pc.Nodes {
		if nd != zombie {
			other = nd
		}
	}
	paused := time.Now()
	zombie.signal(syscall.SIGSTOP)
	waitServing(t, other, admin, ev, zombie.Name, paused, 15*time.Second)
	zombie.signal(syscall.SIGCONT)
	select {
	case <-zombie.done():
	case <-time.After(20 * time.Second):
		t.Fatalf("%s ran on for 20s after its peers declared it dead", zombie.Name)
	}
	if err := zombie.exitErr(); err == nil {
		t.Errorf("%s exited 0 after being declared dead, want non-zero (a supervisor restarts it)", zombie.Name)
	}
	zombie.restart()
	if s, code := statsOf(t, zombie.client(), admin, ev); code != http.StatusOK {
		t.Errorf("restarted %s: stats %d %+v", zombie.Name, code, s)
	}
	assertNoViolations(t, pc.DB, nil)
}
