package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// next waits for the subscription's next status.
func next(t testing.TB, sub boxoffice.QueueSubscription, within time.Duration) (queue.Status, bool) {
	t.Helper()
	select {
	case s, ok := <-sub.Updates():
		return s, ok
	case <-time.After(within):
		t.Fatalf("no push within %v", within)
		return queue.Status{}, false
	}
}

// empty fails when the subscription holds a status nobody pushed yet.
func empty(t testing.TB, sub boxoffice.QueueSubscription, what string) {
	t.Helper()
	select {
	case s := <-sub.Updates():
		t.Fatalf("%s: pushed %+v", what, s)
	default:
	}
}

// TestSubscribePushesAdmission watches a place while the room admits the
// people ahead of it. The room's clock and the hub's position pushes are
// the test's (PushInterval is an hour, PushPositions stands in for its
// ticker), so what arrives when is exact: a move is told only at a push,
// an unchanged position not at all, and admission (with a valid token) at
// once. The hub never polls: admission reaches it over the real NATS.
func TestSubscribePushesAdmission(t *testing.T) {
	t.Parallel()
	clock := clustertest.NewClock(time.Now())
	e := newEnv(t, paused, func(c *queue.Config) {
		c.Now = clock.Now
		c.PushInterval = time.Hour
		c.PollInterval = time.Hour // the watermark comes over NATS only
	})
	users := make([]uuid.UUID, 6)
	places := make([]queue.Status, len(users))
	for i := range users {
		users[i] = uuid.New()
		places[i] = e.join(t, users[i])
	}
	subscribe := func(p queue.Status) boxoffice.QueueSubscription {
		t.Helper()
		sub, err := e.room().Subscribe(context.Background(), e.ev.ID, p.QueueID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.Close)
		if s, _ := next(t, sub, 10*time.Second); s.Position != p.Position || s.State != queue.StateWaiting {
			t.Fatalf("first push %+v, joined at %d", s, p.Position)
		}
		return sub
	}
	second, last := subscribe(places[1]), subscribe(places[5])
	admitted := func(sub boxoffice.QueueSubscription, user uuid.UUID) {
		t.Helper()
		s, ok := next(t, sub, 10*time.Second)
		if !ok || s.State != queue.StateAdmitted || s.AdmissionToken == "" || s.Position != 0 {
			t.Fatalf("admission push %+v (open %v)", s, ok)
		}
		if err := queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, user, e.ev.WaitingRoom.Period, clock.Now()); err != nil {
			t.Fatalf("pushed token: %v", err)
		}
	}

	e.setRoom(t, true, 5)
	clock.Advance(400 * time.Millisecond) // two admissions at 5/s
	admitted(second, users[1])            // the hub has the new watermark
	empty(t, last, "a move before the push is due")
	queue.PushPositions(t, e.room(), e.ev.ID)
	if s, _ := next(t, last, 10*time.Second); s.State != queue.StateWaiting || s.Position != 4 || s.EstimatedWait <= 0 {
		t.Fatalf("position push %+v, want position 4 with an estimate", s)
	}
	queue.PushPositions(t, e.room(), e.ev.ID)
	empty(t, last, "an unchanged position")

	clock.Advance(time.Second) // the four ahead and the last place
	admitted(last, users[5])   // at once: no push was due
}

// TestSubscribeWithoutBus polls the room when no bus is wired.
func TestSubscribeWithoutBus(t *testing.T) {
	t.Parallel()
	db := dbtest.OpenDB(t, pgtest.NewDB(t))
	clock := clustertest.NewClock(time.Now())
	e := &env{db: db, ev: dbtest.CreateEvent(t, db, dbtest.SmallHall(), paused), cfg: queuetest.Config()}
	e.cfg.PollInterval = 100 * time.Millisecond
	e.cfg.Now = clock.Now
	e.node = queuetest.StartNode(t, e.cfg, queue.Deps{Store: db, Events: db})
	e.join(t, uuid.New())
	s := e.join(t, uuid.New())
	sub, err := e.room().Subscribe(context.Background(), e.ev.ID, s.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	next(t, sub, 10*time.Second)
	e.setRoom(t, true, 100)
	clock.Advance(time.Second) // both places admitted; the poll finds it
	for {
		s, ok := next(t, sub, 10*time.Second)
		if !ok {
			t.Fatal("subscription closed")
		}
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
	next(t, sub, 10*time.Second)
	if err := e.room().Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := next(t, sub, 10*time.Second); ok {
		t.Fatal("Updates still open after Room.Close")
	}
	sub.Close()
	if _, err := e.room().Subscribe(context.Background(), e.ev.ID, s.QueueID); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}
