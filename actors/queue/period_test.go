package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestRoomPeriods tries to carry an admission from one on-period of a room
// into the next: a place taken while the room is off, a token kept across
// an off and on, a switch-on the room's grain did not see (it was not
// running), and node restarts between them. None of them admits.
func TestRoomPeriods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, boxoffice.WaitingRoom{}, nil)
	alice, bob := uuid.New(), uuid.New()

	// Off: open, no token, and nothing to carry over.
	off := e.join(t, alice)
	if off.State != queue.StateOpen || off.AdmissionToken != "" {
		t.Fatalf("join with the room off: %+v", off)
	}
	sub, err := e.room().Subscribe(context.Background(), e.ev.ID, off.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	wantPush(t, sub, queue.StateOpen)

	// Switched on (paused): alice's open place is expired, and she queues
	// behind bob, who joined first after the switch.
	e.setRoom(t, true, 0)
	wantPush(t, sub, queue.StateExpired)
	if s := e.status(t, off.QueueID); s.State != queue.StateExpired || s.AdmissionToken != "" {
		t.Fatalf("open place after the switch-on: %+v", s)
	}
	b := e.join(t, bob)
	a := e.join(t, alice)
	if b.State != queue.StateWaiting || a.State != queue.StateWaiting || a.Position != b.Position+1 || a.QueueID == off.QueueID {
		t.Fatalf("after the switch-on: bob %+v, alice %+v", b, a)
	}

	// Admitted in period 1: the token holds across a restart.
	e.setRoom(t, true, 100)
	require.Eventually(t, func() bool { return e.status(t, a.QueueID).State == queue.StateAdmitted }, 15*time.Second, 10*time.Millisecond, "alice admitted")
	tok := e.status(t, a.QueueID).AdmissionToken
	p1 := e.period(t)
	e.verify(t, tok, alice, p1, "")
	e.node.Stop()
	e.node = e.start(t)
	if s := e.status(t, a.QueueID); s.State != queue.StateAdmitted || s.AdmissionToken != tok {
		t.Fatalf("admitted in this period, after a restart: %+v", s)
	}
	if _, err := e.room().Status(context.Background(), e.ev.ID, off.QueueID); boxoffice.ErrorCode(err) != boxoffice.ENotFound {
		t.Fatalf("the open place alice gave up by re-joining, after a restart: %v", err)
	}

	// Off and on again: period 1's token is refused, the place expired.
	e.setRoom(t, false, 100)
	if s := e.status(t, a.QueueID); s.State != queue.StateOpen || s.AdmissionToken != "" {
		t.Fatalf("room off again: %+v", s)
	}
	e.setRoom(t, true, 0)
	p2 := e.period(t)
	if p2 <= p1 {
		t.Fatalf("period %d after switching on again, was %d", p2, p1)
	}
	e.verify(t, tok, alice, p2, boxoffice.EQueueRequired)
	if s := e.status(t, a.QueueID); s.State != queue.StateExpired || s.AdmissionToken != "" {
		t.Fatalf("period 1's admission in period 2: %+v", s)
	}
	a2 := e.join(t, alice)
	if a2.State != queue.StateWaiting || a2.QueueID == a.QueueID {
		t.Fatalf("re-join in period 2: %+v", a2)
	}
	e.setRoom(t, true, 100)
	require.Eventually(t, func() bool { return e.status(t, a2.QueueID).State == queue.StateAdmitted }, 15*time.Second, 10*time.Millisecond, "alice admitted in period 2")
	tok2 := e.status(t, a2.QueueID).AdmissionToken
	e.verify(t, tok2, alice, p2, "")

	// Off and on while no node runs: the next activation sees the new
	// period in the events table and expires period 2's admissions.
	e.node.Stop()
	for _, on := range []bool{false, true} {
		wr := boxoffice.WaitingRoom{Enabled: on, RatePerSecond: 0}
		if _, err := e.db.UpdateEvent(context.Background(), e.ev.ID, persistence.EventPatch{WaitingRoom: &wr}); err != nil {
			t.Fatal(err)
		}
	}
	e.node = e.start(t)
	if s := e.status(t, a2.QueueID); s.State != queue.StateExpired || s.AdmissionToken != "" {
		t.Fatalf("period 2's admission after an unseen switch-on: %+v", s)
	}
	e.verify(t, tok2, alice, e.period(t), boxoffice.EQueueRequired)
}

// period is the event's current on-period as the events table has it.
func (e *env) period(t testing.TB) int64 {
	t.Helper()
	ev, err := e.db.Event(context.Background(), e.ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ev.WaitingRoom.Period
}

// verify checks tok for user in period: code "" wants it valid.
func (e *env) verify(t testing.TB, tok string, user uuid.UUID, period int64, code string) {
	t.Helper()
	err := queue.VerifyToken(e.cfg.Key, tok, e.ev.ID, user, period, time.Now())
	if code == "" {
		if err != nil {
			t.Fatalf("token in period %d: %v", period, err)
		}
		return
	}
	wantCode(t, err, code)
}

// wantPush waits for a push in state.
func wantPush(t testing.TB, sub boxoffice.QueueSubscription, state queue.State) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s, ok := <-sub.Updates():
			if !ok {
				t.Fatalf("subscription closed before a %s push", state)
			}
			if s.State == state {
				if s.AdmissionToken != "" {
					t.Fatalf("%s push with a token: %+v", state, s)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no %s push within 5s", state)
		}
	}
}
