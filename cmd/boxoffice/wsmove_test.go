package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// strictWatcher follows the seat-map WebSocket as API.md describes it: one
// snapshot on connect, then one delta per version in version order with no
// gap. Anything else (a second snapshot, a skipped or repeated version, a
// closed connection) is recorded as its failure; the test reads it. A
// resyncing watcher is the client API.md describes for a gap: when the
// server closes its connection with 1013 (try again later) it connects
// again and starts over from the new snapshot.
type strictWatcher struct {
	base, ev string
	resync   bool

	mu         sync.Mutex
	conn       *websocket.Conn
	stopped    bool
	statuses   map[string]string
	ver        uint64
	frames     int // on the current connection
	reconnects int
	err        error // the first breach of the contract, or the end of the connection
}

// watchStrict dials base's seat-map WebSocket of ev and follows it until
// the test ends.
func watchStrict(t testing.TB, base, ev string) *strictWatcher {
	t.Helper()
	return startWatcher(t, base, ev, false)
}

// watchResyncing is watchStrict for a client that resyncs after a 1013.
func watchResyncing(t testing.TB, base, ev string) *strictWatcher {
	t.Helper()
	return startWatcher(t, base, ev, true)
}

func startWatcher(t testing.TB, base, ev string, resync bool) *strictWatcher {
	t.Helper()
	w := &strictWatcher{base: base, ev: ev, resync: resync, statuses: map[string]string{}}
	c, err := w.dial()
	if err != nil {
		t.Fatalf("%v", err)
	}
	w.conn = c
	done := make(chan struct{})
	t.Cleanup(func() {
		w.mu.Lock()
		w.stopped = true
		w.conn.Close()
		w.mu.Unlock()
		<-done
	})
	go func() {
		defer close(done)
		for w.follow() {
		}
	}()
	return w
}

func (w *strictWatcher) dial() (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(w.base, "http") + "/events/" + w.ev + "/seats/ws"
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return c, nil
}

// follow reads the current connection until it ends; it reports whether
// to go on with a new one (a resync).
func (w *strictWatcher) follow() bool {
	w.mu.Lock()
	c := w.conn
	w.mu.Unlock()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return w.ended(err)
		}
		var f struct {
			Type    string `json:"type"`
			Version uint64 `json:"version"`
			Tickets []struct {
				TicketID string `json:"ticket_id"`
				Status   string `json:"status"`
			} `json:"tickets"`
			Changes []struct {
				TicketID string `json:"ticket_id"`
				Status   string `json:"status"`
			} `json:"changes"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			w.fail(fmt.Errorf("frame is not JSON: %s", data))
			return false
		}
		w.mu.Lock()
		first := w.frames == 0
		w.frames++
		switch {
		case first && f.Type == "snapshot" && (w.reconnects == 0 || f.Version >= w.ver):
			clear(w.statuses)
			for _, s := range f.Tickets {
				w.statuses[s.TicketID] = s.Status
			}
			w.ver = f.Version
		case !first && f.Type == "delta" && f.Version == w.ver+1:
			for _, s := range f.Changes {
				w.statuses[s.TicketID] = s.Status
			}
			w.ver = f.Version
		default:
			if w.err == nil {
				w.err = fmt.Errorf("frame %d of connection %d is a %s at version %d after version %d: want one snapshot (not older than what the client saw), then a delta per version without gaps",
					w.frames, w.reconnects+1, f.Type, f.Version, w.ver)
			}
		}
		w.mu.Unlock()
	}
}

// ended handles the end of the current connection: the test's own close,
// a resync (1013 to a resyncing watcher: connect again, until the test
// ends), or a failure.
func (w *strictWatcher) ended(err error) bool {
	w.mu.Lock()
	stopped, frames, ver := w.stopped, w.frames, w.ver
	w.mu.Unlock()
	if stopped {
		return false
	}
	if !w.resync || !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		w.fail(fmt.Errorf("the connection ended after %d frames at version %d: %w", frames, ver, err))
		return false
	}
	for {
		c, derr := w.dial()
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			if c != nil {
				c.Close()
			}
			return false
		}
		if derr == nil {
			w.conn, w.frames = c, 0
			w.reconnects++
			w.mu.Unlock()
			return true
		}
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond) // the node is not serving the event yet: a client's back-off
	}
}

func (w *strictWatcher) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *strictWatcher) version() uint64 { w.mu.Lock(); defer w.mu.Unlock(); return w.ver }
func (w *strictWatcher) resyncs() int    { w.mu.Lock(); defer w.mu.Unlock(); return w.reconnects }
func (w *strictWatcher) failure() error  { w.mu.Lock(); defer w.mu.Unlock(); return w.err }

// waitFor waits until the watcher has reached v (failing at once when it
// broke the contract or lost its connection) and then compares its replayed
// statuses with view.
func (w *strictWatcher) waitFor(t testing.TB, view eventView, what string) {
	t.Helper()
	require.Eventually(t, func() bool {
		if err := w.failure(); err != nil {
			t.Fatalf("watcher %s: %v", what, err)
		}
		return w.version() >= view.Version
	}, 30*time.Second, 25*time.Millisecond, fmt.Sprintf("the watcher reaches version %d %s", view.Version, what))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, tk := range view.Tickets {
		if got := w.statuses[tk.TicketID]; got != tk.Status {
			t.Fatalf("watcher %s: ticket %s is %q on the socket, %q in GET /events at version %d", what, tk.TicketID, got, tk.Status, view.Version)
		}
	}
}

// reserveRetrying reserves tickets through c with an Idempotency-Key,
// repeating the same request while the event is moving (503), so that a
// repeat of a hold that was made returns that hold.
func reserveRetrying(t testing.TB, c *testNode, tok, key, ev string, tickets []string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"event_id": ev, "ticket_ids": tickets})
	if err != nil {
		t.Fatal(err)
	}
	var code int
	var rep []byte
	require.Eventually(t, func() bool {
		code, rep = reserveRaw(t, c.URL, tok, key, string(body))
		return code != http.StatusServiceUnavailable
	}, 30*time.Second, 25*time.Millisecond, "a reserve that is not 503")
	if code != http.StatusCreated {
		t.Fatalf("reserve %s: %d %s", key, code, rep)
	}
}

// TestWatcherFollowsEventAcrossOwnerKill: WebSocket clients on the two
// nodes that do not own an event stay connected while the owner is killed
// -9 and the event moves to one of them; the changes made after the move
// reach both as deltas that continue their versions without a gap (no
// resync), and what each replays equals GET /events/{id}.
func TestWatcherFollowsEventAcrossOwnerKill(t *testing.T) {
	pc := startProcCluster(t, 3)
	ev := seedSmall(t, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	victim := ownerOf(t, pc, pc.Nodes[0], admin, ev)
	var rest []*procNode
	for _, nd := range pc.Nodes {
		if nd != victim {
			rest = append(rest, nd)
		}
	}
	writer := rest[1].client()
	// A watcher on each survivor: one of them becomes the new owner, the
	// other stays a node that does not own the event.
	watchers := []*strictWatcher{watchStrict(t, rest[0].URL, ev), watchStrict(t, rest[1].URL, ev)}
	tickets := ticketsOf(t, writer, ev)
	buyer := func(i int) string { return writer.token(t, fmt.Sprintf("mover-%d@example.com", i)) }
	view := func() eventView {
		var v eventView
		if code := writer.call(t, http.MethodGet, "/events/"+ev, "", nil, &v); code != http.StatusOK {
			t.Fatalf("GET /events/%s through %s: %d", ev, rest[1].Name, code)
		}
		return v
	}

	for i := range 5 {
		reserveRetrying(t, writer, buyer(i), fmt.Sprint("before-", i), ev, tickets[2*i:2*i+2])
	}
	before := view()
	for i, w := range watchers {
		w.waitFor(t, before, "on "+rest[i].Name+" before the kill")
	}

	killed := time.Now()
	victim.kill()
	newOwner, _ := waitServing(t, rest[1], admin, ev, victim.Name, killed, 60*time.Second)
	t.Logf("kill -9 of %s (owner); %s owns the event; watchers on %s and %s", victim.Name, newOwner, rest[0].Name, rest[1].Name)

	for i := 5; i < 15; i++ {
		reserveRetrying(t, writer, buyer(i), fmt.Sprint("after-", i), ev, tickets[2*i:2*i+2])
	}
	after := view()
	if after.Version < before.Version+10 {
		t.Fatalf("version %d after 10 holds on top of version %d", after.Version, before.Version)
	}
	for i, w := range watchers {
		w.waitFor(t, after, "on "+rest[i].Name+" after the move")
		if err := w.failure(); err != nil {
			t.Fatalf("watcher on %s: %v", rest[i].Name, err)
		}
	}
}

// TestWatcherResyncsAcrossOwnerKillUnderWrites: holds keep coming through a
// survivor while the owner is killed -9, so a change may be committed by the
// dying owner and never published. API.md promises each connection a
// snapshot and then deltas without gaps, a client that would see a gap
// being closed to reconnect: watchers on both survivors that resync on a
// 1013 close never see a gap, a duplicate or an older snapshot, and end
// with exactly GET /events/{id}.
func TestWatcherResyncsAcrossOwnerKillUnderWrites(t *testing.T) {
	pc := startProcCluster(t, 3)
	ev := seedSmall(t, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	victim := ownerOf(t, pc, pc.Nodes[0], admin, ev)
	var rest []*procNode
	for _, nd := range pc.Nodes {
		if nd != victim {
			rest = append(rest, nd)
		}
	}
	writer := rest[1].client()
	watchers := []*strictWatcher{watchResyncing(t, rest[0].URL, ev), watchResyncing(t, rest[1].URL, ev)}
	tickets := ticketsOf(t, writer, ev)

	var acked atomic.Int64
	stop, wrote := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(wrote)
		t := inGoroutine(t)
		for i := 0; 2*i+2 <= len(tickets); i++ {
			select {
			case <-stop:
				return
			default:
			}
			tok := writer.token(t, fmt.Sprintf("writer-%d@example.com", i))
			reserveRetrying(t, writer, tok, fmt.Sprint("w-", i), ev, tickets[2*i:2*i+2])
			acked.Add(1)
		}
	}()
	require.Eventually(t, func() bool { return acked.Load() >= 5 }, 30*time.Second, 25*time.Millisecond, "5 holds before the kill")
	killed := time.Now()
	victim.kill()
	newOwner, _ := waitServing(t, rest[1], admin, ev, victim.Name, killed, 60*time.Second)
	moved := acked.Load()
	require.Eventually(t, func() bool { return acked.Load() >= moved+5 }, 60*time.Second, 25*time.Millisecond, "5 more holds after the move")
	close(stop)
	<-wrote
	if t.Failed() {
		t.FailNow()
	}

	var after eventView
	if code := writer.call(t, http.MethodGet, "/events/"+ev, "", nil, &after); code != http.StatusOK {
		t.Fatalf("GET /events/%s: %d", ev, code)
	}
	held := 0
	for _, tk := range after.Tickets {
		if tk.Status == "reserved" {
			held++
		}
	}
	if held != 2*int(acked.Load()) {
		t.Fatalf("%d seats reserved after %d acknowledged holds of 2", held, acked.Load())
	}
	for i, w := range watchers {
		w.waitFor(t, after, "on "+rest[i].Name+" after the move")
	}
	t.Logf("kill -9 of %s (owner) after hold %d; %s owns the event; %d holds in all; resyncs: %s %d, %s %d",
		victim.Name, moved, newOwner, acked.Load(), rest[0].Name, watchers[0].resyncs(), rest[1].Name, watchers[1].resyncs())
}
