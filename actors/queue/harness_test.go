package queue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's world: a migrated database, one catalog event, and a
// node hosting its waiting room.
type env struct {
	db   *persistence.DB
	ev   boxoffice.Event
	bus  *queuetest.NATS
	cfg  queue.Config
	node *queuetest.Node
}

func newEnv(t testing.TB, wr boxoffice.WaitingRoom, tweak func(*queue.Config)) *env {
	t.Helper()
	db := dbtest.OpenDB(t, pgtest.NewDB(t))
	e := &env{db: db, ev: dbtest.CreateEvent(t, db, dbtest.SmallHall(), wr), bus: queuetest.NewNATS(t), cfg: queuetest.Config()}
	if tweak != nil {
		tweak(&e.cfg)
	}
	e.node = e.start(t)
	return e
}

// TestSharedNode runs, in parallel, the tests that need no node of their
// own on one node and one database (each with its own event), which saves
// a cluster start and a graceful stop (about 3 s) per test.
func TestSharedNode(t *testing.T) {
	base := newEnv(t, paused, nil)
	cases := []struct {
		name string
		room boxoffice.WaitingRoom
		fn   func(*testing.T, *env)
	}{
		{"JoinFirstComeFirstServed", paused, testJoinFirstComeFirstServed},
		{"RoomOffIsOpen", boxoffice.WaitingRoom{}, testRoomOffIsOpen},
		{"UnknownEventAndForgedQueueID", paused, testUnknownEventAndForgedQueueID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := *base
			e.ev = dbtest.CreateEvent(t, e.db, dbtest.SmallHall(), c.room)
			c.fn(t, &e)
		})
	}
}

// start starts a node on the env's database.
func (e *env) start(t testing.TB) *queuetest.Node {
	t.Helper()
	return queuetest.StartNode(t, e.cfg, queue.Deps{Store: e.db, Events: e.db, Publisher: e.bus, Subscriber: e.bus})
}

func (e *env) room() *queue.Room { return e.node.Room }

func (e *env) join(t testing.TB, user uuid.UUID) queue.Status {
	t.Helper()
	s, err := e.room().Join(context.Background(), e.ev.ID, user)
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	return s
}

func (e *env) status(t testing.TB, id uuid.UUID) queue.Status {
	t.Helper()
	s, err := e.room().Status(context.Background(), e.ev.ID, id)
	if err != nil {
		t.Fatalf("status %s: %v", id, err)
	}
	return s
}

func (e *env) stats(t testing.TB) queue.Stats {
	t.Helper()
	s, err := e.room().Stats(context.Background(), e.ev.ID)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return s
}

func (e *env) setRoom(t testing.TB, enabled bool, rate int) {
	t.Helper()
	dbtest.SetWaitingRoom(t, e.db, e.ev.ID, boxoffice.WaitingRoom{Enabled: enabled, RatePerSecond: rate})
	if err := e.room().SetRate(context.Background(), e.ev.ID, rate, enabled); err != nil {
		t.Fatalf("set rate: %v", err)
	}
}

// paused is a room that is on and admits nobody until a test says so.
var paused = boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 0}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var be *boxoffice.Error
	if !errors.As(err, &be) || be.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}
