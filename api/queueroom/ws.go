package queueroom

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/boxoffice/boxoffice"
)

// websocket serves GET /events/{eventId}/queue/{queueId}/ws: the place's
// status as a JSON text frame on connect and whenever it changes for its
// owner (admission at once, the position at most every few seconds). The
// server closes the socket normally after the final frame (admitted or
// expired); a client that cannot keep up with the frames is disconnected.
func (h *Handler) websocket(w http.ResponseWriter, r *http.Request) error {
	eventID, queueID, err := placeIDs(r)
	if err != nil {
		return err
	}
	if !h.track() {
		return boxoffice.Errorf(boxoffice.EUnavailable, "the node is shutting down; retry")
	}
	defer h.wg.Done()
	// Subscribe before upgrading, so an unknown place is an ordinary 404.
	sub, err := h.deps.Room.Subscribe(r.Context(), eventID, queueID)
	if err != nil {
		return err
	}
	defer sub.Close()
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	gone := make(chan struct{})
	go discardReads(conn, gone) // ends when conn closes
	h.pushLoop(conn, sub, gone)
	_ = conn.Close()
	<-gone
	return nil
}

// track registers a WebSocket handler with Close, unless it has begun.
func (h *Handler) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// pushLoop writes each status until the final one, the client leaves, the
// room closes the subscription, or the Handler closes.
func (h *Handler) pushLoop(conn *websocket.Conn, sub boxoffice.QueueSubscription, gone <-chan struct{}) {
	ping := time.NewTicker(h.cfg.WSPingInterval)
	defer ping.Stop()
	for {
		select {
		case s, ok := <-sub.Updates():
			if !ok {
				code, text := h.closing()
				h.closeWith(conn, code, text)
				return
			}
			if err := h.writeStatus(conn, s); err != nil {
				return
			}
			if s.State != boxoffice.QueueWaiting {
				h.closeWith(conn, websocket.CloseNormalClosure, string(s.State))
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WSWriteTimeout)); err != nil {
				return
			}
		case <-gone:
			return
		case <-h.done:
			code, text := h.closing()
			h.closeWith(conn, code, text)
			return
		}
	}
}

func (h *Handler) writeStatus(conn *websocket.Conn, s boxoffice.QueueStatus) error {
	b, err := json.Marshal(toJSON(s))
	if err != nil {
		return err
	}
	if err := conn.SetWriteDeadline(time.Now().Add(h.cfg.WSWriteTimeout)); err != nil {
		return err
	}
	return conn.WriteMessage(websocket.TextMessage, b)
}

func (h *Handler) closeWith(conn *websocket.Conn, code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WSWriteTimeout))
}

// discardReads reads (and drops) what the client sends, which also answers
// its pings and notices its close; it closes gone when the connection ends.
func discardReads(conn *websocket.Conn, gone chan<- struct{}) {
	defer close(gone)
	conn.SetReadLimit(512)
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}
