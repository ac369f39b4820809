package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster"
)

// gatedStore is a MemoryPlacement whose first Claim waits for open, and
// which records how many identities each Claim decided.
type gatedStore struct {
	*cluster.MemoryPlacement
	entered, open chan struct{}
	once          sync.Once

	mu      sync.Mutex
	batches []int
}

func (s *gatedStore) Claim(ctx context.Context, kind string, ids, live []string, choose func(string, map[string]int) string) (map[string]string, error) {
	s.once.Do(func() {
		close(s.entered)
		<-s.open
	})
	s.mu.Lock()
	s.batches = append(s.batches, len(ids))
	s.mu.Unlock()
	return s.MemoryPlacement.Claim(ctx, kind, ids, live, choose)
}

// TestPlacementBatchesConcurrentClaims: the claims a node's callers ask
// while one claim is in the store are decided together, in one store call,
// not one after another; every caller gets its grain.
func TestPlacementBatchesConcurrentClaims(t *testing.T) {
	store := &gatedStore{MemoryPlacement: cluster.NewMemoryPlacement(), entered: make(chan struct{}), open: make(chan struct{})}
	cfg := testConfig("node-a")
	cfg.Placement = store
	cfg.RequestTimeout = 30 * time.Second // the callers wait on the gate
	n, err := cluster.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(false) })

	const callers = 40
	errs := make(chan error, callers)
	go func() { errs <- askErr(n, "first") }()
	select {
	case <-store.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the first claim never reached the store")
	}
	for i := 1; i < callers; i++ {
		go func() { errs <- askErr(n, fmt.Sprintf("event-%03d", i)) }()
	}
	waitFor(t, 20*time.Second, "the other claims queued behind the first", func() error {
		if q := cluster.QueuedClaims(n.Placement()); q < callers-1 {
			return fmt.Errorf("%d queued", q)
		}
		return nil
	})
	close(store.open)
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if slices.Max(store.batches) < callers-1 {
		t.Fatalf("claims decided in batches of %v; want the %d queued ones together", store.batches, callers-1)
	}
}

func askErr(n *cluster.Node, id string) error {
	got, err := ask(n, id, 30*time.Second)
	if err == nil && got != n.Name() {
		err = fmt.Errorf("%s answered by %s", id, got)
	}
	return err
}

// crashStore is a MemoryPlacement that keeps the records of members marked
// crashed: a process killed with -9 releases nothing, while a test node's
// Shutdown would release its records as a graceful stop does.
type crashStore struct {
	*cluster.MemoryPlacement
	mu      sync.Mutex
	crashed map[string]bool
}

func (s *crashStore) crash(member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashed[member] = true
}

func (s *crashStore) isCrashed(member string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashed[member]
}

func (s *crashStore) Release(ctx context.Context, kind, id, member string) error {
	if s.isCrashed(member) {
		return nil
	}
	return s.MemoryPlacement.Release(ctx, kind, id, member)
}

func (s *crashStore) ReleaseMember(ctx context.Context, member string) error {
	if s.isCrashed(member) {
		return nil
	}
	return s.MemoryPlacement.ReleaseMember(ctx, member)
}

// TestPlacementReplacesCrashedMembersGrains: when a member crashes, the
// survivors re-place all its grains in one step and activate them on their
// new owners before anyone calls them, within the bound; the survivors'
// own grains stay where they are.
func TestPlacementReplacesCrashedMembersGrains(t *testing.T) {
	store := &crashStore{MemoryPlacement: cluster.NewMemoryPlacement(), crashed: map[string]bool{}}
	nodes := startPlaced(t, store, "node-a", "node-b", "node-c")
	keys := ids(90)
	var placed map[string]string
	waitFor(t, 20*time.Second, "90 grains active", func() (err error) {
		placed, err = activate(nodes, keys)
		return err
	})
	c, survivors := nodes[2], nodes[:2]
	dead := c.MemberID()
	its, err := store.HeldBy(t.Context(), echoKind, []string{dead})
	if err != nil || len(its) == 0 {
		t.Fatalf("node-c holds %v, %v; want some grains", its, err)
	}
	store.crash(dead)
	c.Shutdown(false)

	active := func() int {
		total := 0
		for _, n := range survivors {
			total += int(n.Cluster().GetClusterKind(echoKind).Count())
		}
		return total
	}
	waitFor(t, 20*time.Second, "node-c's grains re-placed and active without a call", func() error {
		left, err := store.HeldBy(t.Context(), echoKind, []string{dead})
		if err != nil {
			return err
		}
		if len(left) > 0 || active() != len(keys) {
			return fmt.Errorf("%d records still on node-c, %d of %d grains active on the survivors", len(left), active(), len(keys))
		}
		return nil
	})
	live := []string{survivors[0].MemberID(), survivors[1].MemberID()}
	counts, err := store.Counts(t.Context(), echoKind, live)
	if err != nil {
		t.Fatal(err)
	}
	if bound := cluster.Bound(len(keys), 2, cluster.DefaultPlacementLoad); busiest(counts) > bound {
		t.Fatalf("after the re-placement %v, bound %d", counts, bound)
	}
	records, err := store.Owners(t.Context(), echoKind, keys)
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{survivors[0].MemberID(): survivors[0].Name(), survivors[1].MemberID(): survivors[1].Name()}
	now := make(map[string]string, len(keys))
	for _, id := range keys {
		now[id] = name[records[id]]
		if placed[id] != "node-c" && now[id] != placed[id] {
			t.Errorf("%s moved from %s to %s though its node stayed", id, placed[id], now[id])
		}
	}
	assertOwners(t, "after the re-placement", survivors, now)
}
