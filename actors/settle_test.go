package actors_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

// TestStoppedGrainAnswersWhatItAccepted: placement stops a grain (its node
// drains, or a member joins) while a reserve it accepted is still being
// committed. The grain lets the commit end before it stops and answers the
// caller: the hold is acknowledged once, by that grain, not lost to a
// timeout nor decided again by the next activation (issue 22).
func TestStoppedGrainAnswersWhatItAccepted(t *testing.T) {
	g := &gate{}
	e := newEnv(t, venue200(), actors.Config{HoldTTL: time.Minute})
	e.node.stop()
	e.node = startNode(t, e.db, actors.Config{HoldTTL: time.Minute}, gated(g))
	e.statuses(t) // activate the grain
	stopping := make(chan struct{}, 1)
	var reserves atomic.Int64
	actors.SetReceiveHook(t, func(msg any) {
		if _, ok := msg.(*grainpb.Reserve); ok {
			reserves.Add(1)
		}
		if _, ok := msg.(*actor.Stopping); ok {
			select {
			case stopping <- struct{}{}:
			default:
			}
		}
	})
	g.close()
	errs := make(chan error, 1)
	go func() {
		_, err := e.reserve(t, uuid.New(), 1)
		errs <- err
	}()
	require.Eventually(t, func() bool { return g.pending() == 1 }, 20*time.Second, 10*time.Millisecond, "the reserve's commit held")
	pid := e.node.cluster.Get(e.eventID.String(), actors.Kind)
	require.NotNil(t, pid)
	e.node.cluster.ActorSystem.Root.Poison(pid)
	select {
	case <-stopping:
	case <-time.After(20 * time.Second):
		t.Fatal("the grain did not start stopping")
	}
	g.open()
	select {
	case err := <-errs:
		if err != nil {
			t.Fatalf("reserve accepted before the stop: %v, want its hold", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the reserve got no answer")
	}
	// Answered by the grain that accepted it, not sent again to the next
	// activation (which would decide it a second time).
	if n := reserves.Load(); n != 1 {
		t.Errorf("the reserve reached grains %d times, want 1", n)
	}
}
