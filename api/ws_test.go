package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

type seatFrame struct {
	Type    string `json:"type"`
	EventID string `json:"event_id"`
	Version uint64 `json:"version"`
	Tickets []struct {
		TicketID uuid.UUID `json:"ticket_id"`
		Status   string    `json:"status"`
	} `json:"tickets"`
	Changes []struct {
		TicketID uuid.UUID `json:"ticket_id"`
		Status   string    `json:"status"`
	} `json:"changes"`
}

func (h *harness) dialSeats(t testing.TB, event uuid.UUID) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/events/" + event.String() + "/seats/ws"
	c, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readSeatFrame reads one frame and checks it against openapi.yaml.
func readSeatFrame(t testing.TB, c *websocket.Conn) seatFrame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, raw, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	var f seatFrame
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("frame %s: %v", raw, err)
	}
	switch f.Type {
	case "snapshot":
		checkFrame(t, "SnapshotFrame", raw)
	case "delta":
		checkFrame(t, "DeltaFrame", raw)
	default:
		t.Fatalf("frame type %q", f.Type)
	}
	return f
}

func TestSeatMapSnapshotThenDeltas(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[7])

	c := h.dialSeats(t, event)
	snap := readSeatFrame(t, c)
	if snap.Type != "snapshot" || snap.EventID != event.String() || snap.Version != 1 || len(snap.Tickets) != 20 {
		t.Fatalf("snapshot %+v", snap)
	}
	if snap.Tickets[7].TicketID != tickets[7] || snap.Tickets[7].Status != "reserved" || snap.Tickets[0].Status != "available" {
		t.Errorf("snapshot tickets %+v", snap.Tickets[:8])
	}
	b := h.reserve(ada, event, tickets[0], tickets[1])
	d := readSeatFrame(t, c)
	if d.Type != "delta" || d.Version != 2 || len(d.Changes) != 2 || d.Changes[0].TicketID != tickets[0] || d.Changes[0].Status != "reserved" {
		t.Errorf("delta %+v", d)
	}
	mustStatus(t, h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(ada)...), http.StatusOK)
	if d := readSeatFrame(t, c); d.Version != 3 || len(d.Changes) != 0 {
		t.Errorf("pin for payment: delta %+v, want version 3 without changes", d)
	}
	if d := readSeatFrame(t, c); d.Version != 4 || len(d.Changes) != 2 || d.Changes[1].Status != "booked" {
		t.Errorf("sale: delta %+v", d)
	}
}

// TestSeatMapCompressed: a client offering permessage-deflate (as browsers
// do) gets it, and plain and compressed clients of one event read the same
// snapshot and deltas (the frames are prepared once for both kinds).
func TestSeatMapCompressed(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[3])
	url := "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/events/" + event.String() + "/seats/ws"
	var conns []*websocket.Conn
	for _, compress := range []bool{true, false, true} {
		d := websocket.Dialer{EnableCompression: compress}
		c, resp, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial (compression %v): %v", compress, err)
		}
		t.Cleanup(func() { c.Close() })
		if got := strings.Contains(resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate"); got != compress {
			t.Fatalf("compression offered %v, negotiated %v (%q)", compress, got, resp.Header.Get("Sec-Websocket-Extensions"))
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		if snap := readSeatFrame(t, c); snap.Version != 1 || len(snap.Tickets) != 20 || snap.Tickets[3].Status != "reserved" {
			t.Fatalf("client %d snapshot %+v", i, snap)
		}
	}
	h.reserve(ada, event, tickets[5])
	for i, c := range conns {
		if d := readSeatFrame(t, c); d.Version != 2 || len(d.Changes) != 1 || d.Changes[0].TicketID != tickets[5] {
			t.Errorf("client %d delta %+v", i, d)
		}
	}
}

func TestSeatMapBeforeUpgrade(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	wantError(t, h.do("GET", "/events/"+uuid.NewString()+"/seats/ws", nil), http.StatusNotFound, boxoffice.ENotFound)
	wantError(t, h.do("GET", "/events/x/seats/ws", nil), http.StatusBadRequest, boxoffice.EInvalid)
	r := h.do("GET", "/events/"+event.String()+"/seats/ws", nil) // no Upgrade header
	wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
	if r.errorField() != "Upgrade" {
		t.Errorf("field %q", r.errorField())
	}
	url := "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/events/" + uuid.NewString() + "/seats/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("dial unknown event: %v %v", err, resp)
	}
	none := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Seats = nil })
	ev2, _ := none.seedEvent()
	wantError(t, none.do("GET", "/events/"+ev2.String()+"/seats/ws", nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)
}

// TestSeatMap200Watchers: clients connect while the seats keep changing;
// each gets a snapshot and then every later version once, in order, and
// ends with the engine's final state.
func TestSeatMap200Watchers(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	const watchers, changes = 200, 100

	var target atomic.Uint64 // set once the changes are over
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() { // toggle seats (hold, release) until told to stop
		defer close(stopped)
		user := uuid.New()
		held := map[int]uuid.UUID{}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			seat := (i * 7) % (len(tickets) - 1) // the last seat stays free for the final change
			if b, ok := held[seat]; ok {
				_, _ = h.engine.Release(context.Background(), event, b, user)
				delete(held, seat)
			} else if b, err := h.engine.Reserve(context.Background(), boxoffice.ReserveRequest{
				EventID: event, UserID: user, BookingID: uuid.New(), TicketIDs: tickets[seat : seat+1]}); err == nil {
				held[seat] = b.ID
			}
			time.Sleep(time.Millisecond)
		}
	}()

	results := make(chan watchResult, watchers)
	for range watchers {
		c := h.dialSeats(t, event) // the seats change while clients connect
		go func() { results <- watch(c, target.Load) }()
	}
	require.Eventually(t, func() bool {
		v, _ := h.engine.Seats(context.Background(), event)
		return v.Version >= changes
	}, 10*time.Second, 5*time.Millisecond, "changes while watching")
	close(stop)
	<-stopped
	// One last change, announced first, so that every watcher's last read
	// returns: it reads up to that version and stops.
	view, _ := h.engine.Seats(context.Background(), event)
	target.Store(view.Version + 1)
	if _, err := h.engine.Reserve(context.Background(), boxoffice.ReserveRequest{
		EventID: event, UserID: uuid.New(), BookingID: uuid.New(), TicketIDs: tickets[len(tickets)-1:]}); err != nil {
		t.Fatalf("last change: %v", err)
	}
	view, _ = h.engine.Seats(context.Background(), event)

	space := boxoffice.NewTicketSpace(event)
	for range watchers {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
			continue
		}
		for i, st := range view.Statuses {
			if got := r.final[space.ID(i)]; got != st.String() {
				t.Errorf("a watcher ends with seat %d %s, the engine has %s", i, got, st)
				break
			}
		}
	}
	if n := h.feed.subscriptions(); n != 1 {
		t.Errorf("%d bus subscriptions for one event, want 1", n)
	}
}

type watchResult struct {
	final map[uuid.UUID]string
	err   error
}

// watch applies a client's frames until it has seen target() (0: not
// known yet), checking that deltas follow the snapshot without gaps.
func watch(c *websocket.Conn, target func() uint64) watchResult {
	state := map[uuid.UUID]string{}
	var version uint64
	for first := true; ; first = false {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, raw, err := c.ReadMessage()
		if err != nil {
			return watchResult{err: fmt.Errorf("read after version %d: %v", version, err)}
		}
		var f seatFrame
		if err := json.Unmarshal(raw, &f); err != nil {
			return watchResult{err: fmt.Errorf("frame %s: %v", raw, err)}
		}
		switch {
		case first && f.Type == "snapshot":
			for _, tk := range f.Tickets {
				state[tk.TicketID] = tk.Status
			}
		case !first && f.Type == "delta" && f.Version == version+1:
			for _, ch := range f.Changes {
				state[ch.TicketID] = ch.Status
			}
		default:
			return watchResult{err: fmt.Errorf("frame %s %d after version %d (first %v)", f.Type, f.Version, version, first)}
		}
		version = f.Version
		if t := target(); t != 0 && version >= t {
			return watchResult{final: state}
		}
	}
}

// TestSeatMapSlowClient: a client that stops reading is disconnected and
// the others keep receiving every frame.
func TestSeatMapSlowClient(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.WSSendQueue = 8 })
	event, _ := h.seedEvent()
	slow := h.dialSeats(t, event)
	fast := h.dialSeats(t, event)
	readSeatFrame(t, fast)
	require.Eventually(t, func() bool { return h.hubClients(t) == 2 }, 10*time.Second, 5*time.Millisecond, "both clients subscribed")

	big := bigDelta(event)
	const frames = 400 // 400 x ~80 KB: far beyond the socket buffers and the queue
	var read atomic.Uint64
	done := make(chan error, 1)
	go func() {
		for v := uint64(1); v <= frames; v++ {
			_ = fast.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, raw, err := fast.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			if got, _ := frameVersionOf(raw); got != v {
				done <- fmt.Errorf("fast client got version %d, want %d", got, v)
				return
			}
			read.Store(v)
		}
		done <- nil
	}()
	for v := uint64(1); v <= frames; v++ {
		// Publish at the pace of a client that keeps up (at most four
		// frames ahead of it); the slow one reads nothing.
		for v > read.Load()+4 {
			time.Sleep(100 * time.Microsecond)
		}
		h.feed.publish(event, big(v))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool { return h.hubClients(t) == 1 }, 10*time.Second, 5*time.Millisecond, "the slow client dropped")
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			break // whatever it had buffered, then the end
		}
	}
	if got := h.metric(t, `boxoffice_ws_disconnects_total{reason="slow"}`); got != "1" {
		t.Errorf("slow disconnects %s, want 1", got)
	}
}

// bigDelta makes well-formed delta frames of ~80 KB.
func bigDelta(event uuid.UUID) func(v uint64) []byte {
	space := boxoffice.NewTicketSpace(event)
	changes := make([]boxoffice.SeatChange, 1000)
	for i := range changes {
		changes[i] = boxoffice.SeatChange{TicketID: space.ID(i % 20), Status: boxoffice.SeatReserved}
	}
	return func(v uint64) []byte {
		return api.DeltaFrame(boxoffice.SeatDelta{EventID: event, Version: v, Changes: changes})
	}
}

func frameVersionOf(raw []byte) (uint64, error) {
	var f seatFrame
	err := json.Unmarshal(raw, &f)
	return f.Version, err
}

func TestSeatMapGapClosesClients(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	c := h.dialSeats(t, event)
	readSeatFrame(t, c)
	require.Eventually(t, func() bool { return h.hubClients(t) == 1 }, 10*time.Second, 5*time.Millisecond, "subscribed")
	frame := bigDelta(event)
	h.feed.publish(event, frame(1))
	h.feed.publish(event, frame(3)) // version 2 was lost on the bus
	if f := readSeatFrame(t, c); f.Version != 1 {
		t.Fatalf("version %d, want 1", f.Version)
	}
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("after a gap: %v, want close 1013", err)
	}
	if got := h.metric(t, "boxoffice_ws_bus_gaps_total"); got != "1" {
		t.Errorf("gaps %s, want 1", got)
	}
}

// TestSeatMapSubscriptionRefcount: one bus subscription per event, held
// while any client watches and released after the last.
func TestSeatMapSubscriptionRefcount(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	var conns []*websocket.Conn
	for i := 0; i < 3; i++ {
		c := h.dialSeats(t, event)
		readSeatFrame(t, c)
		conns = append(conns, c)
	}
	if n, s := h.feed.subscriptions(), h.feed.subscribers(event); n != 1 || s != 1 {
		t.Fatalf("%d subscriptions, %d live, want 1 and 1", n, s)
	}
	conns[0].Close()
	conns[1].Close()
	require.Eventually(t, func() bool { return h.hubClients(t) == 1 }, 10*time.Second, 5*time.Millisecond, "two clients gone")
	if s := h.feed.subscribers(event); s != 1 {
		t.Fatalf("%d live subscriptions with one client left", s)
	}
	conns[2].Close()
	require.Eventually(t, func() bool { return h.feed.subscribers(event) == 0 }, 10*time.Second, 5*time.Millisecond, "unsubscribed after the last client")
	readSeatFrame(t, h.dialSeats(t, event))
	if n := h.feed.subscriptions(); n != 2 {
		t.Errorf("%d subscriptions after a new client, want 2", n)
	}
}

func TestSeatMapUnavailable(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	h.engine.setDown(boxoffice.Errorf(boxoffice.EUnavailable, "owner unreachable"))
	c := h.dialSeats(t, event)
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("engine down: %v, want close 1013", err)
	}
	require.Eventually(t, func() bool { return h.feed.subscribers(event) == 0 }, 10*time.Second, 5*time.Millisecond, "unsubscribed")

	h.engine.setDown(nil)
	h.feed.fail = errors.New("nats: connection closed")
	c = h.dialSeats(t, event)
	if _, _, err := c.ReadMessage(); !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("bus down: %v, want close 1013", err)
	}
}

// TestSeatMapKeepAlive: a client that answers pings stays; one that reads
// nothing (so never answers) is dropped after two ping intervals. The live
// client counts the pings it answers, and the test waits for pings, not
// for time: after the mute client is gone, the live one answers four more
// and still gets the next delta.
func TestSeatMapKeepAlive(t *testing.T) {
	// Two intervals (500 ms) is how long the live client's reader may
	// stall before the server gives up on it: ample on a loaded machine.
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.WSPingInterval = 250 * time.Millisecond })
	event, tickets := h.seedEvent()
	live := h.dialSeats(t, event)
	readSeatFrame(t, live)
	var pings atomic.Int64
	live.SetPingHandler(func(data string) error { // gorilla's default, counted
		pings.Add(1)
		err := live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	frames := make(chan []byte, 1)
	go func() { // reading is what answers the server's pings
		for {
			_, raw, err := live.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			frames <- raw
		}
	}()
	h.dialSeats(t, event) // connects, then never reads
	require.Eventually(t, func() bool { return h.hubClients(t) == 2 }, 10*time.Second, 5*time.Millisecond, "two clients")
	require.Eventually(t, func() bool { return h.hubClients(t) == 1 }, 10*time.Second, 5*time.Millisecond, "the mute client dropped")
	answered := pings.Load()
	require.Eventually(t, func() bool { return pings.Load() >= answered+4 }, 10*time.Second, 5*time.Millisecond, "four more pings answered")
	if n := h.hubClients(t); n != 1 {
		t.Fatalf("%d clients after the live one answered four more pings, want 1", n)
	}
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[0])
	select {
	case raw, ok := <-frames:
		if v, _ := frameVersionOf(raw); !ok || v != 1 {
			t.Errorf("live client: frame %s (open %v), want version 1", raw, ok)
		}
	case <-time.After(10 * time.Second):
		t.Error("the live client got no delta")
	}
}

// TestCloseDisconnectsClients: Close ends every session with 1001, waits
// for their goroutines, and can be called again.
func TestCloseDisconnectsClients(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	var conns []*websocket.Conn
	for i := 0; i < 5; i++ {
		c := h.dialSeats(t, event)
		readSeatFrame(t, c)
		conns = append(conns, c)
	}
	h.srv.Close()
	h.srv.Close()
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("after Close: %v, want close 1001", err)
		}
	}
	// Close waits for every session's bookkeeping, but a session's
	// goroutine still unwinds its last frames (and net/http's handler
	// returns) just after; so wait for them to be gone rather than catch
	// that instant, and name whatever never goes.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, fn := range []string{"api.(*wsClient)", "api.(*hub).serve", "api.(*Server).sweep"} {
			assert.NotContains(c, stacks, fn, "still running after Close")
		}
	}, 10*time.Second, 10*time.Millisecond)
	if n := h.feed.subscribers(event); n != 0 {
		t.Errorf("%d subscriptions after Close", n)
	}
}

// TestDrainAsksClientsToReconnect: Drain ends every seat-map session with
// 1012 (service restart) and reason "draining", which the seat page takes
// as "reconnect now", and a stream opened afterwards is refused the same
// way, while ordinary requests are still served.
func TestDrainAsksClientsToReconnect(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	c := h.dialSeats(t, event)
	readSeatFrame(t, c)
	h.srv.Drain()
	for i, c := range []*websocket.Conn{c, h.dialSeats(t, event)} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseServiceRestart || ce.Text != "draining" {
			t.Errorf("connection %d after Drain: %v, want close 1012 draining", i, err)
		}
	}
}

func (h *harness) hubClients(t testing.TB) int {
	t.Helper()
	var n int
	fmt.Sscan(h.metric(t, "boxoffice_ws_clients"), &n)
	return n
}

// metric reads one sample (name with labels) from the registry.
func (h *harness) metric(t testing.TB, name string) string {
	t.Helper()
	mfs, err := h.srv.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	base, labels, _ := strings.Cut(name, "{")
	for _, mf := range mfs {
		if mf.GetName() != base {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			if strings.Join(ls, ",")+"}" != labels && !(labels == "" && len(ls) == 0) {
				continue
			}
			switch {
			case m.Counter != nil:
				return fmt.Sprint(m.Counter.GetValue())
			case m.Gauge != nil:
				return fmt.Sprint(m.Gauge.GetValue())
			}
		}
	}
	return "0"
}
