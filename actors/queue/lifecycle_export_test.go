package queue

import (
	"testing"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/cluster"
)

// StaleFlushDone is a successful join write's outcome as an earlier
// activation of a room would send it.
func StaleFlushDone() any { return toSelf{msg: flushDone{}} }

// PlacesInMemory asks the room of eventID on n how many places it keeps in
// its slice and map, and how many it forgot.
func PlacesInMemory(t testing.TB, c *pcluster.Cluster, eventID uuid.UUID) (users, seqOf int, forgot int64) {
	t.Helper()
	pid := c.Get(eventID.String(), Kind)
	if pid == nil {
		t.Fatal("no room grain")
	}
	res, err := c.ActorSystem.Root.RequestFuture(pid, memQuery{}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("places in memory: %v", err)
	}
	r := res.(memReply)
	return r.users, r.seqOf, r.forgot
}

// SetForgetMin lowers how many expired places a room forgets at once,
// until the test ends.
func SetForgetMin(t testing.TB, n int64) {
	t.Helper()
	old := forgetMin.Swap(n)
	t.Cleanup(func() { forgetMin.Store(old) })
}

// CallerOf is the Caller the room calls grains through (nil when closed).
func CallerOf(r *Room) *cluster.Caller { return r.rooms.Caller() }

// SetReceiveHook makes every room grain of this process call f with each
// message before handling it, until the test ends.
func SetReceiveHook(t testing.TB, f func(msg any)) {
	t.Helper()
	receiveHook.Store(&f)
	t.Cleanup(func() { receiveHook.Store(nil) })
}

// PushPositions runs one position push of eventID's hub on r now, as its
// PushInterval ticker would, so a test decides when pushes are due.
func PushPositions(t testing.TB, r *Room, eventID uuid.UUID) {
	t.Helper()
	r.mu.Lock()
	h := r.hubs[eventID]
	r.mu.Unlock()
	if h == nil {
		t.Fatal("no hub watches the event")
	}
	h.pushPositions()
}
