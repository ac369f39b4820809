package queue_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/queue"
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
// subscription Attach made, and attaching again replaces the earlier one.
func TestRoomCloseEndsTopologySubscription(t *testing.T) {
	e := newEnv(t, paused, nil)
	es := e.node.Cluster.ActorSystem.EventStream
	attached := es.Length()
	e.room().Attach(e.node.Cluster)
	if got := es.Length(); got != attached {
		t.Fatalf("after attaching again: %d subscriptions, want %d", got, attached)
	}
	if err := e.room().Close(); err != nil {
		t.Fatal(err)
	}
	if got := es.Length(); got != attached-1 {
		t.Fatalf("after Close: %d subscriptions, want %d", got, attached-1)
	}
}
