package queueroom_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/queueroom"
)

// TestRoomOffIsOpen: joining a room that is off answers API.md's "open"
// (a queue_id, position 0, no token) on the route and on the socket, which
// then closes; once the room is switched on that place is expired, and
// nothing from the off period admits.
func TestRoomOffIsOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, boxoffice.WaitingRoom{}, nil)
	alice := uuid.New()
	r := e.join(t, alice)
	qid, _ := r.body["queue_id"].(string)
	if r.status != 200 || r.body["state"] != "open" || r.body["position"] != 0.0 || qid == "" {
		t.Fatalf("join with the room off: %d %v", r.status, r.body)
	}
	for _, k := range []string{"admission_token", "expires_at", "estimated_wait_seconds"} {
		if _, has := r.body[k]; has {
			t.Fatalf("open place has %s: %v", k, r.body)
		}
	}
	c := e.dial(t, qid)
	if f, err := readFrame(t, c, 10*time.Second); err != nil || f["state"] != "open" {
		t.Fatalf("socket frame %v, %v", f, err)
	}
	_, err := readFrame(t, c, 10*time.Second)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "open" {
		t.Fatalf("after the open frame: %v, want a normal close saying open", err)
	}

	e.setRoom(t, true, 1000)
	s := e.do(t, "GET", "/events/"+e.ev.ID.String()+"/queue/"+qid, uuid.Nil)
	if s.body["state"] != "expired" || s.body["admission_token"] != nil {
		t.Fatalf("the open place after the switch-on: %v", s.body)
	}
	ev, err := e.db.Event(t.Context(), e.ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/booking/reserve", nil)
	if err := e.h.CheckAdmission(req, alice, ev); boxoffice.ErrorCode(err) != boxoffice.EQueueRequired {
		t.Fatalf("reserve with the room on and no token: %v", err)
	}
	again := e.join(t, alice)
	if again.body["queue_id"] == qid || (again.body["state"] != "waiting" && again.body["state"] != "admitted") {
		t.Fatalf("re-join after the switch-on: %v", again.body)
	}
	require.Eventually(t, func() bool {
		again = e.do(t, "GET", "/events/"+e.ev.ID.String()+"/queue/"+again.body["queue_id"].(string), uuid.Nil)
		return again.body["state"] == "admitted"
	}, 5*time.Second, 10*time.Millisecond, "alice admitted")
	req.Header.Set(queueroom.AdmissionHeader, again.body["admission_token"].(string))
	if err := e.h.CheckAdmission(req, alice, ev); err != nil {
		t.Fatalf("the token of the new on-period: %v", err)
	}
}
