package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// next waits for the subscription's next status.
func next(t testing.TB, sub *queue.Subscription, within time.Duration) (queue.Status, bool) {
	t.Helper()
	select {
	case s, ok := <-sub.Updates():
		return s, ok
	case <-time.After(within):
		t.Fatalf("no push within %v", within)
		return queue.Status{}, false
	}
}

// TestSubscribePushesAdmission watches a place while the room admits the
// people ahead of it: positions arrive at most every PushInterval, the
// admission (with a valid token) at once.
func testSubscribePushesAdmission(t *testing.T, e *env) {
	var last queue.Status
	var user uuid.UUID
	for range 6 {
		user = uuid.New()
		last = e.join(t, user)
	}
	sub, err := e.room().Subscribe(context.Background(), e.ev.ID, last.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if s, _ := next(t, sub, time.Second); s.Position != 6 || s.State != queue.StateWaiting {
		t.Fatalf("first push %+v", s)
	}
	e.setRoom(t, true, 5)
	var pushes []time.Time
	prev := int64(6)
	for {
		s, ok := next(t, sub, 5*time.Second)
		if !ok {
			t.Fatal("subscription closed")
		}
		if s.State == queue.StateAdmitted {
			if s.AdmissionToken == "" || s.Position != 0 {
				t.Fatalf("admission push %+v", s)
			}
			if err := queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, user, e.ev.WaitingRoom.Period, time.Now()); err != nil {
				t.Fatalf("pushed token: %v", err)
			}
			break
		}
		// A position push follows a move, or a new rate (a new estimate).
		if s.Position > prev || s.EstimatedWait <= 0 {
			t.Fatalf("position push %+v after position %d", s, prev)
		}
		prev = s.Position
		pushes = append(pushes, time.Now())
	}
	for i := 2; i < len(pushes); i++ { // the first may come early: the push ticker runs per hub
		if gap := pushes[i].Sub(pushes[i-1]); gap < e.cfg.PushInterval*3/4 {
			t.Fatalf("position pushes %v apart, want at most one per %v", gap, e.cfg.PushInterval)
		}
	}
	if len(pushes) == 0 {
		t.Fatal("no position push while five people ahead were admitted over a second")
	}
}

// TestSubscribeWithoutBus polls the room when no bus is wired.
func TestSubscribeWithoutBus(t *testing.T) {
	t.Parallel()
	db := queuetest.OpenDB(t, pgtest.NewDB(t))
	e := &env{db: db, ev: queuetest.CreateEvent(t, db, paused), cfg: queuetest.Config()}
	e.cfg.PollInterval = 100 * time.Millisecond
	e.node = queuetest.StartNode(t, e.cfg, queue.Deps{Store: db, Events: db})
	e.join(t, uuid.New())
	s := e.join(t, uuid.New())
	sub, err := e.room().Subscribe(context.Background(), e.ev.ID, s.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	next(t, sub, time.Second)
	e.setRoom(t, true, 100)
	for {
		s, _ := next(t, sub, 3*time.Second)
		if s.State == queue.StateAdmitted {
			break
		}
	}
	sub.Close()
	sub.Close() // idempotent
	if _, ok := <-sub.Updates(); ok {
		t.Fatal("Updates still open after Close")
	}
}

// TestRoomCloseEndsSubscriptions: a node shutting down closes its watchers'
// channels, so WebSocket handlers end.
func TestRoomCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	s := e.join(t, uuid.New())
	sub, err := e.room().Subscribe(context.Background(), e.ev.ID, s.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	next(t, sub, time.Second)
	if err := e.room().Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := next(t, sub, time.Second); ok {
		t.Fatal("Updates still open after Room.Close")
	}
	sub.Close()
	if _, err := e.room().Subscribe(context.Background(), e.ev.ID, s.QueueID); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}
