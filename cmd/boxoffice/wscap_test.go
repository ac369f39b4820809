package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestNodeWebSocketCap: on a real node, the per-address socket cap counts
// seat maps and waiting-room sockets together and refuses past it with 429
// before the waiting room's own handler runs (issue 13).
func TestNodeWebSocketCap(t *testing.T) {
	n := startSeededNode(t, func(c *Config) { c.WSMaxPerIP = 1 })
	ws := "ws" + strings.TrimPrefix(n.URL, "http")
	seats, _, err := websocket.DefaultDialer.Dial(ws+"/events/"+stadiumEventID()+"/seats/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seats.Close()
	queue := ws + "/events/" + stadiumEventID() + "/queue/" + uuid.NewString() + "/ws"
	for _, url := range []string{ws + "/events/" + stadiumEventID() + "/seats/ws", queue} {
		c, resp, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			c.Close()
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s past the cap: %v %v, want 429 with Retry-After", url, err, resp)
		}
	}
	seats.Close()
	// Once the slot is free, the waiting room answers for itself: an
	// unknown place is 404.
	require.Eventually(t, func() bool {
		c, resp, _ := websocket.DefaultDialer.Dial(queue, nil)
		if c != nil {
			c.Close()
		}
		return resp != nil && resp.StatusCode == http.StatusNotFound
	}, 10*time.Second, 25*time.Millisecond, "the waiting room answering once the slot is free")
}
