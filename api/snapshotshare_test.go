package api_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
)

// gatedSeats counts the engine's seat views and, while gated, holds them
// until the gate opens.
type gatedSeats struct {
	boxoffice.SeatEngine
	calls atomic.Int64
	mu    sync.Mutex
	gate  chan struct{} // nil: open
}

func (g *gatedSeats) Seats(ctx context.Context, id uuid.UUID) (boxoffice.SeatsView, error) {
	g.calls.Add(1)
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return boxoffice.SeatsView{}, ctx.Err()
		}
	}
	return g.SeatEngine.Seats(ctx, id)
}

// TestWatchersShareSeatView: watchers that connect together (a connect
// storm) cost the engine one seat view between them, not one each; a
// watcher that joins after a change gets a fresh view that has it.
func TestWatchersShareSeatView(t *testing.T) {
	g := &gatedSeats{}
	h := newHarness(t, func(_ *apiConfig, d *apiDeps) { g.SeatEngine = d.Engine; d.Engine = g })
	event, tickets := h.seedEvent()
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
	const n = 12
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := "ws" + h.ts.URL[len("http"):] + "/events/" + event.String() + "/seats/ws"
			if i%2 == 1 {
				url += "?format=compact"
			}
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if c == nil {
			t.FailNow()
		}
		defer c.Close()
	}
	require.Eventually(t, func() bool { return h.hubClients(t) == n && g.calls.Load() >= 1 },
		10*time.Second, 5*time.Millisecond, "all watchers connected, a seat view asked for")
	g.mu.Lock()
	close(g.gate)
	g.gate = nil
	g.mu.Unlock()
	for i, c := range conns {
		if i%2 == 1 {
			var st compactState
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, raw, err := c.ReadMessage()
			if err != nil || !st.apply(t, raw) {
				t.Fatalf("compact watcher %d: %v %s", i, err, raw)
			}
			continue
		}
		if f := readSeatFrame(t, c); f.Type != "snapshot" || len(f.Tickets) != len(tickets) {
			t.Fatalf("watcher %d: first frame %+v", i, f)
		}
	}
	if got := g.calls.Load(); got != 1 {
		t.Fatalf("%d watchers connecting together asked the engine for %d seat views, want 1", n, got)
	}

	// A change reaches the topic: a new watcher must not get the old view.
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[3])
	for _, c := range conns[:1] {
		if f := readSeatFrame(t, c); f.Type != "delta" {
			t.Fatalf("frame %+v, want the delta", f)
		}
	}
	late := h.dialSeats(t, event)
	f := readSeatFrame(t, late)
	if f.Type != "snapshot" || f.Tickets[3].Status != "reserved" {
		t.Fatalf("late watcher's snapshot %+v, want seat 3 reserved", f)
	}
	if got := g.calls.Load(); got != 2 {
		t.Fatalf("%d seat views after the late watcher, want 2", got)
	}
}
