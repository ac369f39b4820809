package queue_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queuepb"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
)

// TestStaleFlushDoneIsDropped sends a room the outcome of a join write of
// an earlier activation, as a room restarted in place gets it late. The
// room must drop it: crediting it to nothing in flight panicked (and the
// restart took a new epoch), crediting it to a batch in flight would answer
// joiners before their places are durable.
func TestStaleFlushDoneIsDropped(t *testing.T) {
	e := newEnv(t, paused, nil)
	first := e.join(t, uuid.New())
	before := roomEpoch(t, e)

	pid := e.node.Cluster.Get(e.ev.ID.String(), queue.Kind)
	if pid == nil {
		t.Fatal("no room grain")
	}
	e.node.Cluster.ActorSystem.Root.Send(pid, queue.StaleFlushDone())
	e.stats(t) // answered after the stale message was handled

	if after := roomEpoch(t, e); after != before {
		t.Fatalf("room epoch %d -> %d: the stale write outcome restarted the room", before, after)
	}
	if second := e.join(t, uuid.New()); second.Position <= first.Position {
		t.Fatalf("second join got position %d after %d", second.Position, first.Position)
	}
}

func roomEpoch(t *testing.T, e *env) int64 {
	t.Helper()
	var epoch int64
	err := e.db.Pool().QueryRow(context.Background(), `SELECT epoch FROM queue_rooms WHERE event_id = $1`, e.ev.ID).Scan(&epoch)
	if err != nil {
		t.Fatalf("room epoch: %v", err)
	}
	return epoch
}

// TestRoomCloseEndsTopologySubscription: Room.Close ends the Caller
// subscription Attach made, and attaching again replaces and closes the
// earlier one.
func TestRoomCloseEndsTopologySubscription(t *testing.T) {
	e := newEnv(t, paused, nil)
	first := queue.CallerOf(e.room())
	e.room().Attach(e.node.Cluster)
	second := queue.CallerOf(e.room())
	if !first.Closed() || second.Closed() {
		t.Fatalf("after attaching again: first closed %v, second closed %v; want true, false", first.Closed(), second.Closed())
	}
	if err := e.room().Close(); err != nil {
		t.Fatal(err)
	}
	if !second.Closed() || queue.CallerOf(e.room()) != nil {
		t.Fatalf("after Close: the Caller is still attached or watching")
	}
}

// TestRoomForgetsExpiredPlaces: a room kept every place it ever gave out
// in memory (a slice entry per place, re-joins leaving holes, and a map
// entry per user) for its whole life. Places whose admission ran out are
// forgotten; asking about one still answers expired, and its owner can
// queue again.
func TestRoomForgetsExpiredPlaces(t *testing.T) {
	queue.SetForgetMin(t, 1)
	clock := clustertest.NewClock(time.Now())
	// The room is on (a room that is off keeps no places: it answers open)
	// and admits at once.
	e := newEnv(t, boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 100_000}, func(c *queue.Config) { c.Now = clock.Now })
	ttl := e.cfg.AdmissionTTL
	users := make([]uuid.UUID, 20)
	places := make([]queue.Status, len(users))
	for i := range users {
		users[i] = uuid.New()
		places[i] = e.join(t, users[i])
	}
	admit := func(ids ...uuid.UUID) { // the room earns admissions as its clock moves
		t.Helper()
		clock.Advance(time.Second)
		for _, id := range ids {
			require.Eventually(t, func() bool { return e.status(t, id).State == queue.StateAdmitted }, 15*time.Second, 10*time.Millisecond, "places admitted")
		}
	}
	ids := make([]uuid.UUID, len(places))
	for i, p := range places {
		ids[i] = p.QueueID
	}
	admit(ids...)
	if n, m, _ := queue.PlacesInMemory(t, e.node.Cluster, e.ev.ID); n != 20 || m != 20 {
		t.Fatalf("before expiry: %d places, %d users in memory; want 20, 20", n, m)
	}
	clock.Advance(ttl + time.Second)
	// Re-joins at the back; place 1 becomes a hole (or was forgotten
	// already, if a tick came first).
	again := e.join(t, users[0])
	if again.QueueID == places[0].QueueID {
		t.Fatalf("re-join after expiry kept the place")
	}
	admit(again.QueueID)

	clock.Advance(ttl + time.Second)
	require.Eventually(t, func() bool {
		n, m, _ := queue.PlacesInMemory(t, e.node.Cluster, e.ev.ID)
		return n == 0 && m == 0
	}, 15*time.Second, 10*time.Millisecond, "the expired places are forgotten")
	if s := e.status(t, places[1].QueueID); s.State != queue.StateExpired {
		t.Errorf("a forgotten place is %s, want expired", s.State)
	}
	s := e.join(t, users[1])
	if s.QueueID == places[1].QueueID {
		t.Errorf("join after the place was forgotten: %+v, want a new place", s)
	}
	admit(s.QueueID)
	if n, m, _ := queue.PlacesInMemory(t, e.node.Cluster, e.ev.ID); n != 1 || m != 1 {
		t.Errorf("after one more join: %d places, %d users in memory; want 1, 1", n, m)
	}
}

// TestRoomPanicStopsRoom: a panic in a room stops it (its caller gets
// "unavailable" at once) and the next call activates a fresh actor with a
// new PID and mailbox; Proto.Actor's supervisor would have restarted it in
// place, where late messages of the failed instance still arrive.
func TestRoomPanicStopsRoom(t *testing.T) {
	e := newEnv(t, paused, nil)
	first := e.join(t, uuid.New())
	pid := e.node.Cluster.Get(e.ev.ID.String(), queue.Kind)
	var armed atomic.Bool
	armed.Store(true)
	queue.SetReceiveHook(t, func(msg any) {
		if _, ok := msg.(*queuepb.GetStats); ok && armed.CompareAndSwap(true, false) {
			panic("injected")
		}
	})
	_, err := e.room().Stats(context.Background(), e.ev.ID)
	wantCode(t, err, boxoffice.EUnavailable)
	require.Eventually(t, func() bool {
		_, err := e.room().Stats(context.Background(), e.ev.ID)
		return err == nil
	}, 15*time.Second, 10*time.Millisecond, "a fresh room actor serves")
	if again := e.node.Cluster.Get(e.ev.ID.String(), queue.Kind); again.Equal(pid) {
		t.Fatalf("the room was restarted in place (same PID %s)", pid)
	}
	if s := e.join(t, uuid.New()); s.Position != first.Position+1 {
		t.Fatalf("next join got position %d after %d", s.Position, first.Position)
	}
}
