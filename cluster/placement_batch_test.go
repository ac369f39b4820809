package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

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

// slowReleaseStore is a MemoryPlacement whose Release waits while its
// gate is shut, as a slow store would, or fails while failing is set, as a
// store that is down would: a shed grain's record then still names its old
// member for a while.
type slowReleaseStore struct {
	*cluster.MemoryPlacement
	mu      sync.Mutex
	gate    chan struct{} // closed: releases go through
	failing bool
	failed  int // releases that failed
}

func (s *slowReleaseStore) shut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
}

func (s *slowReleaseStore) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.gate)
}

func (s *slowReleaseStore) setFailing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = on
}

func (s *slowReleaseStore) failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *slowReleaseStore) Release(ctx context.Context, kind, id, member string) error {
	s.mu.Lock()
	gate := s.gate
	if s.failing {
		s.failed++
		s.mu.Unlock()
		return errors.New("placement store unavailable")
	}
	s.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.MemoryPlacement.Release(ctx, kind, id, member)
}

// shedScene is node-a over the placement bound after node-c joined a
// two-node cluster holding 60 grains.
type shedScene struct {
	store *slowReleaseStore
	a, c  *cluster.Node
	keys  []string
	bound int
}

func newShedScene(t *testing.T) *shedScene {
	t.Helper()
	store := &slowReleaseStore{MemoryPlacement: cluster.NewMemoryPlacement(), gate: make(chan struct{})}
	store.open()
	nodes := startPlaced(t, store, "node-a", "node-b")
	a := nodes[0]
	keys := ids(60)
	waitFor(t, 20*time.Second, "60 grains on two nodes", func() error {
		_, err := activate(nodes, keys)
		return err
	})
	c := startPlacedNode(t, store, "node-c", 0, a.GossipAddr())
	nodes = append(nodes, c)
	waitFor(t, 10*time.Second, "node-c joined", func() error { return allSee(nodes) })
	placed, err := owners(nodes, keys)
	if err != nil {
		t.Fatal(err)
	}
	bound := cluster.Bound(len(keys), 3, cluster.DefaultPlacementLoad)
	if spread(placed)["node-a"] <= bound {
		t.Fatalf("node-a holds %d, not over the bound %d: nothing to shed (spread %v)", spread(placed)["node-a"], bound, spread(placed))
	}
	return &shedScene{store: store, a: a, c: c, keys: keys, bound: bound}
}

// callAll calls every grain through node-c while the shed ones' records
// may still name node-a, waits until either every call was answered
// (node-a took its shed grains back: the bug) or node-a refused one, then
// lets the releases through (release) and checks the spread. The calls go
// through a Caller, as the API's do: a call that reached a shed grain's
// mailbox behind its poison pill is dropped without a word, and only the
// Caller sends it again (a plain Cluster().Request waits out its timeout).
func (sc *shedScene) callAll(t *testing.T, shed int, release func()) {
	t.Helper()
	caller := cluster.NewCaller(sc.c.Cluster())
	defer caller.Close()
	var (
		mu   sync.Mutex
		got  = map[string]string{}
		errs []error
		wg   sync.WaitGroup
	)
	for _, id := range sc.keys {
		wg.Go(func() {
			res, err := caller.Request(id, echoKind, wrapperspb.String(id), 30*time.Second)
			owner := ""
			if sv, ok := res.(*wrapperspb.StringValue); ok {
				owner = sv.Value
			} else if err == nil {
				err = fmt.Errorf("reply %T, want *wrapperspb.StringValue", res)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
			}
			got[id] = owner
		})
	}
	waitFor(t, 20*time.Second, "all calls answered or one refused", func() error {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == len(sc.keys) || cluster.ShedRefused(sc.a.Placement()) > 0 {
			return nil
		}
		return fmt.Errorf("%d of %d answered, none refused", n, len(sc.keys))
	})
	release()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if s := spread(got); s["node-a"] > sc.bound || s["node-c"] == 0 {
		t.Fatalf("after rebalance and the calls: spread %v, bound %d (node-a shed %d)", s, sc.bound, shed)
	}
}

// TestRebalanceIsNotUndoneBeforeRelease: a grain that Rebalance stopped is
// not activated on the same member again by a call that still finds its
// record there (its release is slow): the member refuses it, and the retry
// places it by the bound once the record is gone. Without the refusal the
// calls put every shed grain straight back and the spread stays as it was.
func TestRebalanceIsNotUndoneBeforeRelease(t *testing.T) {
	sc := newShedScene(t)
	sc.store.shut() // releases wait from here on
	shed, err := sc.a.Placement().Rebalance(t.Context())
	if err != nil || shed == 0 {
		t.Fatalf("rebalance: %d stopped, %v", shed, err)
	}
	sc.callAll(t, shed, sc.store.open)
}

// TestShedStaysRefusedWhileReleaseFails: when the release of a shed
// grain's record fails (the store is down), the member keeps refusing the
// grain, and a refused call's release, once the store is back, clears the
// way. Forgetting the shed on a failed release let the next call put the
// grain straight back on the member it was shed from.
func TestShedStaysRefusedWhileReleaseFails(t *testing.T) {
	sc := newShedScene(t)
	sc.store.setFailing(true)
	shed, err := sc.a.Placement().Rebalance(t.Context())
	if err != nil || shed == 0 {
		t.Fatalf("rebalance: %d stopped, %v", shed, err)
	}
	waitFor(t, 10*time.Second, "the shed grains' releases failed", func() error {
		if n := sc.store.failures(); n < shed {
			return fmt.Errorf("%d of %d releases tried", n, shed)
		}
		return nil
	})
	sc.callAll(t, shed, func() { sc.store.setFailing(false) })
}
