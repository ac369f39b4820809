package actors_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// TestMemoryBudgetPassivatesLeastRecentlyUsed: with MaxActive 3, holding a
// seat in each of five events keeps at most three of them in memory; the
// two least recently used passivate, each after a snapshot of its last
// version, and their holds are still there after they activate again (the
// owner can release them; nobody else can take the seat meanwhile).
func TestMemoryBudgetPassivatesLeastRecentlyUsed(t *testing.T) {
	const budget, events = 3, 5
	base := newEnv(t, venue200(), actors.Config{MaxActive: budget, HoldTTL: time.Hour})
	n := base.node
	ctx := context.Background()
	// Weak pointers to each first activation's seat map: once passivated,
	// nothing may keep it from the garbage collector.
	var mu sync.Mutex
	maps := map[uuid.UUID]weak.Pointer[seatmap.Map]{}
	actors.SetActivatedHook(t, func(id uuid.UUID, m *seatmap.Map) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := maps[id]; !ok {
			maps[id] = weak.Make(m)
		}
	})
	envs := []*env{base}
	for range events - 1 {
		id := createEvent(t, base.db, venue200())
		envs = append(envs, &env{url: base.url, db: base.db, eventID: id,
			space: boxoffice.NewTicketSpace(id), seats: base.seats, node: n})
	}
	users := make([]uuid.UUID, events)
	holds := make([]boxoffice.Booking, events)
	versions := make([]uint64, events)
	pids := make([]*actor.PID, events)
	for i, e := range envs {
		users[i] = uuid.New()
		holds[i] = e.mustReserve(t, users[i], 7)
		// A PID used to send to the grain caches its process (and so the
		// grain) until used again, as PIDs left in buffers do; it must not
		// keep a passivated grain's seat map in memory.
		pids[i] = n.cluster.Get(e.eventID.String(), actors.Kind)
		reply, err := n.cluster.ActorSystem.Root.RequestFuture(pids[i], &grainpb.GetStats{}, 5*time.Second).Result()
		require.NoError(t, err)
		versions[i] = reply.(*grainpb.StatsReply).Version
	}

	// The two oldest passivate; the three newest stay.
	require.Eventually(t, func() bool {
		active := n.eng.Active()
		return n.eng.Resident() <= budget && !slices.Contains(active, envs[0].eventID) &&
			!slices.Contains(active, envs[1].eventID)
	}, 20*time.Second, 10*time.Millisecond, "the node sheds the least recently used events to its budget")
	active := n.eng.Active()
	for _, e := range envs[2:] {
		require.Contains(t, active, e.eventID, "a recently used event stays active")
	}
	for i, e := range envs[:2] {
		require.Eventually(t, func() bool { return e.latestSnapshot(t) == versions[i] }, 20*time.Second,
			10*time.Millisecond, "event %d passivated with a snapshot of its last version", i)
	}

	for i, e := range envs[:2] {
		mu.Lock()
		w := maps[e.eventID]
		mu.Unlock()
		require.Eventually(t, func() bool {
			runtime.GC()
			return w.Value() == nil
		}, 20*time.Second, 10*time.Millisecond, "event %d: the passivated grain's seat map is garbage", i)
	}
	runtime.KeepAlive(pids)

	// Activated again (which sheds another), each keeps its hold.
	for i, e := range envs[:2] {
		st := e.stats(t)
		require.Equal(t, 1, st.Holds, "event %d keeps its hold after passivation", i)
		require.Equal(t, versions[i], st.Version)
		if _, err := e.reserve(t, uuid.New(), 7); codeOf(err) != boxoffice.ESeatUnavailable {
			t.Fatalf("event %d: another user's reserve of the held seat: %v, want seat_unavailable", i, err)
		}
		if _, err := n.eng.Release(ctx, e.eventID, holds[i].ID, users[i]); err != nil {
			t.Fatalf("event %d: the owner releases the hold made before passivation: %v", i, err)
		}
	}
	require.Eventually(t, func() bool { return n.eng.Resident() <= budget }, 20*time.Second,
		10*time.Millisecond, "activations beyond the budget shed again")
	for _, e := range envs {
		assertGapFree(t, e)
	}
}
