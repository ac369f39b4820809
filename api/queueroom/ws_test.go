package queueroom_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

func (e *env) dial(t *testing.T, queueID string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/events/" + e.ev.ID.String() + "/queue/" + queueID + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readFrame(t *testing.T, c *websocket.Conn, within time.Duration) (map[string]any, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, b, err := c.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame %q: %v", b, err)
	}
	return m, nil
}

// TestWebSocketPushesAdmission watches a place over the socket while the
// room admits the people ahead: positions, then the admission with its
// token, then a normal close.
func TestWebSocketPushesAdmission(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	for range 3 {
		e.join(t, uuid.New())
	}
	last := e.join(t, uuid.New())
	c := e.dial(t, last.body["queue_id"].(string))
	f, err := readFrame(t, c, 10*time.Second)
	if err != nil || f["position"] != 4.0 || f["state"] != "waiting" || f["queue_id"] != last.body["queue_id"] {
		t.Fatalf("first frame %v, %v", f, err)
	}
	e.setRoom(t, true, 4)
	for {
		f, err = readFrame(t, c, 10*time.Second)
		if err != nil {
			t.Fatalf("no admission frame: %v", err)
		}
		if f["state"] == "admitted" {
			break
		}
		if f["state"] != "waiting" || f["estimated_wait_seconds"] == nil {
			t.Fatalf("frame %v", f)
		}
	}
	if tok, _ := f["admission_token"].(string); tok == "" {
		t.Fatalf("admission frame without a token: %v", f)
	}
	_, err = readFrame(t, c, 10*time.Second)
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after admission: %v, want a normal close", err)
	}
}

// TestCloseDisconnectsSockets: Handler.Close ends every queue socket.
func TestCloseDisconnectsSockets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	j := e.join(t, uuid.New())
	c := e.dial(t, j.body["queue_id"].(string))
	if _, err := readFrame(t, c, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = e.h.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := readFrame(t, c, 10*time.Second); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after Close: %v, want going away", err)
	}
}

// TestDrainAsksSocketsToReconnect: Handler.Drain ends every queue socket
// with 1012 "draining", which the waiting-room page takes as "reconnect".
func TestDrainAsksSocketsToReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	j := e.join(t, uuid.New())
	c := e.dial(t, j.body["queue_id"].(string))
	if _, err := readFrame(t, c, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.h.Drain() }()
	_, err := readFrame(t, c, 10*time.Second)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseServiceRestart || ce.Text != "draining" {
		t.Fatalf("after Drain: %v, want close 1012 draining", err)
	}
}
