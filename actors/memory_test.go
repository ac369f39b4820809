package actors_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
)

// TestMemoryPerEvent measures what an active idle event costs a node in
// memory, and what it still costs once passivated (make memory; skipped
// unless BOXOFFICE_MEM_EVENTS lists event counts, e.g. "1000,10000"). For
// each count N it creates N small events (100 seats), activates each with
// one reserve (a live hold), and reads the Go heap after a GC and the
// process RSS; then it passivates every event (as the memory budget does)
// and reads them again. A measurement for docs/benchmarks.md, never
// asserted.
func TestMemoryPerEvent(t *testing.T) {
	spec := os.Getenv("BOXOFFICE_MEM_EVENTS")
	if spec == "" {
		t.Skip("set BOXOFFICE_MEM_EVENTS (make memory) to measure memory per event")
	}
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("BOXOFFICE_MEM_EVENTS: %q is not a count", f)
		}
		t.Run(strconv.Itoa(n), func(t *testing.T) { measureMemory(t, n) })
	}
}

func measureMemory(t *testing.T, n int) {
	small := boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{
		{Name: "1", Seats: 25}, {Name: "2", Seats: 25}, {Name: "3", Seats: 25}, {Name: "4", Seats: 25}}}}}
	e := newEnv(t, small, actors.Config{HoldTTL: time.Hour, IdleTimeout: time.Hour})
	ctx := context.Background()
	ids := make([]uuid.UUID, n)
	ids[0] = e.eventID
	created := time.Now()
	each(t, n-1, 32, func(i int) error {
		ids[i+1] = dbtest.CreateEvent(t, e.db, small, boxoffice.WaitingRoom{}).ID
		return nil
	})
	t.Logf("%d events created in %s", n, time.Since(created).Round(time.Millisecond))
	var mu sync.Mutex
	var maps []weak.Pointer[seatmap.Map]
	actors.SetActivatedHook(t, func(_ uuid.UUID, m *seatmap.Map) {
		mu.Lock()
		maps = append(maps, weak.Make(m))
		mu.Unlock()
	})
	heap0, rss0 := memNow(t)
	start := time.Now()
	each(t, n, 32, func(i int) error { return holdOne(ctx, e.node.eng, ids[i], 0, nil) })
	activated := time.Since(start)
	if got := e.node.eng.Resident(); got != n {
		t.Fatalf("%d events active, want %d", got, n)
	}
	heap1, rss1 := memNow(t)
	start = time.Now()
	if agreed := actors.PassivateAll(e.node.eng); agreed != n {
		t.Fatalf("%d of %d events agreed to passivate", agreed, n)
	}
	deadline := time.Now().Add(time.Minute)
	for e.node.eng.Resident() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events still active a minute after passivation", e.node.eng.Resident())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising
	}
	passivated := time.Since(start)
	heap2, rss2 := memNow(t)
	if out := os.Getenv("BOXOFFICE_MEM_PROFILE"); out != "" {
		// The heap of the passivated node, for `go tool pprof`.
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		_ = pprof.WriteHeapProfile(f)
		_ = f.Close()
	}
	alive := func() int {
		n := 0
		for _, w := range maps {
			if w.Value() != nil {
				n++
			}
		}
		return n
	}
	cached := 0
	for _, id := range ids {
		if _, ok := e.node.cluster.PidCache.Get(id.String(), actors.Kind); ok {
			cached++
		}
	}
	t.Logf("  seat maps of passivated events still reachable: %d of %d; PIDs cached: %d", alive(), len(maps), cached)
	per := func(a, b uint64) string {
		return strconv.FormatFloat((float64(b)-float64(a))/float64(n), 'f', 0, 64) + " B"
	}
	t.Logf("%d events of 100 seats, one hold each: activated in %s, passivated (with snapshots) in %s",
		n, activated.Round(time.Millisecond), passivated.Round(time.Millisecond))
	t.Logf("  heap: base %.1f MiB, active %.1f MiB, passivated %.1f MiB; per active event %s, per passivated event %s",
		mib(heap0), mib(heap1), mib(heap2), per(heap0, heap1), per(heap0, heap2))
	t.Logf("  RSS:  base %.1f MiB, active %.1f MiB, passivated %.1f MiB; per active event %s (RSS does not shrink at once after passivation)",
		mib(rss0), mib(rss1), mib(rss2), per(rss0, rss1))

	// The memory budget at n asked activations: a node started with
	// MaxActive = n/10 (BOXOFFICE_MEM_BUDGET overrides) activates every
	// event again; passivation must bring it back within the budget.
	budget := n / 10
	if b, err := strconv.Atoi(os.Getenv("BOXOFFICE_MEM_BUDGET")); err == nil && b > 0 {
		budget = b
	}
	e.node.stop()
	bn := startNode(t, e.db, actors.Config{HoldTTL: time.Hour, IdleTimeout: time.Hour, MaxActive: budget})
	var peak atomic.Int64
	start = time.Now()
	each(t, n, 32, func(i int) error {
		return holdOne(ctx, bn.eng, ids[i], 10, func() {
			if r := int64(bn.eng.Resident()); r > peak.Load() {
				peak.Store(r) // a sample, racy by design: a log line, not a check
			}
		})
	})
	again := time.Since(start)
	deadline = time.Now().Add(time.Minute)
	for bn.eng.Resident() > budget {
		if time.Now().After(deadline) {
			t.Fatalf("%d events active a minute after %d activations, budget %d", bn.eng.Resident(), n, budget)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising
	}
	heap3, rss3 := memNow(t)
	t.Logf("budget %d (BOXOFFICE_MAX_ACTIVE_EVENTS): %d activations in %s; active at most %d (sampled after each), %d after; heap %.1f MiB, RSS %.1f MiB",
		budget, n, again.Round(time.Millisecond), peak.Load(), bn.eng.Resident(), mib(heap3), mib(rss3))
}

// holdOne activates event id with one hold, on seat first or, when the
// activation outlasts the call's timeout on a loaded machine (unavailable),
// again on the next seats (the earlier ones may be held), for up to two
// minutes; after runs when a hold was taken.
func holdOne(ctx context.Context, eng *actors.Engine, id uuid.UUID, first int, after func()) error {
	sp := boxoffice.NewTicketSpace(id)
	var err error
	until := time.Now().Add(2 * time.Minute)
	for seat := first; seat < 100; seat++ {
		_, err = eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: id, UserID: uuid.New(),
			BookingID: uuid.New(), TicketIDs: []uuid.UUID{sp.ID(seat)}})
		if codeOf(err) != boxoffice.EUnavailable || time.Now().After(until) {
			break
		}
		time.Sleep(100 * time.Millisecond) // a retry's pause, not synchronisation
	}
	if err == nil && after != nil {
		after()
	}
	return err
}

// memNow is the Go heap in use after two GCs and the process RSS.
func memNow(t *testing.T) (heap, rss uint64) {
	t.Helper()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			rss = kb * 1024
		}
	}
	return ms.HeapAlloc, rss
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
