package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// eventView is the part of GET /events/{id} these tests read.
type eventView struct {
	Tickets []struct {
		TicketID string `json:"ticket_id"`
		Status   string `json:"status"`
	} `json:"tickets"`
	Version uint64 `json:"version"`
}

// TestConcurrentReservesOverHTTP has many clients fight over a few seats
// through the real node while 40 WebSocket watchers follow the event; no
// seat ends in two holds, GET /events/{id} agrees with the successful
// replies, and every watcher's replayed view equals it.
func TestConcurrentReservesOverHTTP(t *testing.T) {
	n := startSeededNode(t)
	ev := stadiumEventID()
	var view eventView
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	hot := view.Tickets[:60]

	watchers := make([]*watcher, 40)
	for i := range watchers {
		watchers[i] = watch(t, n, ev)
	}
	var mu sync.Mutex
	owner := map[string]string{} // ticket -> booking that got it
	var wg sync.WaitGroup
	for c := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := inGoroutine(t)
			tok := n.token(t, fmt.Sprintf("client-%d@example.com", c))
			r := rand.New(rand.NewPCG(uint64(c), 7))
			for range 15 {
				k := 1 + r.IntN(3)
				pick := map[string]bool{}
				for len(pick) < k {
					pick[hot[r.IntN(len(hot))].TicketID] = true
				}
				var ids []string
				for id := range pick {
					ids = append(ids, id)
				}
				var b struct {
					BookingID string `json:"booking_id"`
				}
				code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": ids}, &b)
				if code == http.StatusCreated {
					mu.Lock()
					for _, id := range ids {
						if prev, ok := owner[id]; ok {
							t.Errorf("ticket %s acknowledged to %s and %s", id, prev, b.BookingID)
						}
						owner[id] = b.BookingID
					}
					mu.Unlock()
				} else if code != http.StatusConflict {
					t.Errorf("reserve: status %d, want 201 or 409", code)
				}
			}
		}()
	}
	wg.Wait()
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	for _, tk := range view.Tickets {
		_, held := owner[tk.TicketID]
		if held != (tk.Status == "reserved") {
			t.Errorf("ticket %s is %s but held=%v by the replies", tk.TicketID, tk.Status, held)
		}
	}
	for i, w := range watchers {
		require.Eventually(t, func() bool {
			return w.version() >= view.Version
		}, 5*time.Second, 25*time.Millisecond, fmt.Sprintf("watcher %d reaches version %d", i, view.Version))
		if err := w.check(view); err != nil {
			t.Errorf("watcher %d: %v", i, err)
		}
	}
}

// watcher replays the seat-map WebSocket: a snapshot, then deltas.
type watcher struct {
	mu       sync.Mutex
	statuses map[string]string
	ver      uint64
	err      error
}

func watch(t *testing.T, n *testNode, ev string) *watcher {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.URL, "http") + "/events/" + ev + "/seats/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	w := &watcher{statuses: map[string]string{}}
	go func() {
		for {
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
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := json.Unmarshal(data, &f); err != nil {
				w.fail(fmt.Errorf("frame is not JSON: %s", data))
				return
			}
			w.mu.Lock()
			switch {
			case f.Type == "snapshot":
				for _, s := range f.Tickets {
					w.statuses[s.TicketID] = s.Status
				}
				w.ver = f.Version
			case f.Type == "delta" && f.Version == w.ver+1:
				for _, s := range f.Changes {
					w.statuses[s.TicketID] = s.Status
				}
				w.ver = f.Version
			default:
				w.err = fmt.Errorf("frame %s v%d after v%d: out of order or gap", f.Type, f.Version, w.ver)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *watcher) fail(err error) { w.mu.Lock(); w.err = err; w.mu.Unlock() }

func (w *watcher) version() uint64 { w.mu.Lock(); defer w.mu.Unlock(); return w.ver }

func (w *watcher) check(v eventView) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	for _, tk := range v.Tickets {
		if got := w.statuses[tk.TicketID]; got != tk.Status {
			return fmt.Errorf("ticket %s is %q on the socket, %q in GET /events", tk.TicketID, got, tk.Status)
		}
	}
	return nil
}
