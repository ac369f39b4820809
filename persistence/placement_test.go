package persistence_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/boxoffice/boxoffice/cluster"
	"github.com/boxoffice/boxoffice/persistence"
)

// claimOne claims one identity, as a node's first call of a grain does
// when no other call is waiting.
func claimOne(tb testing.TB, s *persistence.Placements, kind, id string, live []string, choose func(map[string]int) string) (string, error) {
	tb.Helper()
	owners, err := s.Claim(tb.Context(), kind, []string{id}, live, func(_ string, counts map[string]int) string { return choose(counts) })
	return owners[id], err
}

// TestPlacementsClaim checks the PostgreSQL placement record: concurrent
// claims from several nodes keep every member within the bound, a live
// record stands, a dead member's record is re-placed, and releases and
// ensures follow their member.
func TestPlacementsClaim(t *testing.T) {
	ctx := t.Context()
	s := openDB(t).Placements()
	live := []string{"m1", "m2", "m3"}
	const events = 150
	var wg sync.WaitGroup
	errs := make(chan error, events)
	for i := range events {
		wg.Go(func() {
			id := fmt.Sprintf("event-%03d", i)
			_, err := claimOne(t, s, "event", id, live, func(counts map[string]int) string {
				return cluster.ChooseOwner(cluster.RendezvousOrder(id, live), counts, cluster.DefaultPlacementLoad)
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.Counts(ctx, "event", live)
	if err != nil {
		t.Fatal(err)
	}
	bound := cluster.Bound(events, len(live), cluster.DefaultPlacementLoad)
	total := 0
	for m, c := range counts {
		total += c
		if c > bound {
			t.Errorf("%s holds %d, bound %d (%v)", m, c, bound, counts)
		}
	}
	if total != events {
		t.Fatalf("counts %v sum to %d, want %d", counts, total, events)
	}

	never := func(map[string]int) string { t.Error("choose called for a live record"); return "" }
	owners, err := s.Owners(ctx, "event", []string{"event-000", "event-001", "nope"})
	if err != nil || len(owners) != 2 {
		t.Fatalf("Owners = %v, %v; want 2 records", owners, err)
	}
	if got, err := claimOne(t, s, "event", "event-000", live, never); err != nil || got != owners["event-000"] {
		t.Fatalf("sticky claim = %q, %v; want %q", got, err, owners["event-000"])
	}
	// Its member is gone: the claim re-places it among those still live.
	gone := owners["event-000"]
	var rest []string
	for _, m := range live {
		if m != gone {
			rest = append(rest, m)
		}
	}
	got, err := claimOne(t, s, "event", "event-000", rest, func(c map[string]int) string { return rest[0] })
	if err != nil || got != rest[0] {
		t.Fatalf("re-placed claim = %q, %v; want %q", got, err, rest[0])
	}
	// Release only by the holder; Ensure never overwrites.
	if err := s.Release(ctx, "event", "event-000", gone); err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, "event", []string{"event-000"}, gone); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Owners(ctx, "event", []string{"event-000"}); o["event-000"] != rest[0] {
		t.Fatalf("after a foreign release and an ensure: %v, want %s", o, rest[0])
	}
	if err := s.Release(ctx, "event", "event-000", rest[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, "event", []string{"event-000", "event-001"}, "m9"); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Owners(ctx, "event", []string{"event-000"}); o["event-000"] != "m9" {
		t.Fatalf("after release and ensure: %v, want m9", o)
	}
	// An excluded member takes nothing new, on every node's claims.
	if err := s.Exclude(ctx, "m2", true); err != nil {
		t.Fatal(err)
	}
	pick := func(id string) string {
		got, err := claimOne(t, s, "event", id, live, func(counts map[string]int) string {
			if counts["m2"] >= 0 {
				t.Errorf("counts %v: m2 not marked excluded", counts)
			}
			return cluster.ChooseOwner([]string{"m2", "m1", "m3"}, counts, cluster.DefaultPlacementLoad)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := pick("drained-1"); got == "m2" {
		t.Fatalf("claim placed on excluded m2")
	}
	if err := s.Exclude(ctx, "m2", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "event", "drained-1", pick("drained-1")); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Counts(ctx, "event", live)
	if err := s.ReleaseMember(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Counts(ctx, "event", live)
	if after["m1"] != 0 || after["m2"] != before["m2"] || after["m3"] != before["m3"] {
		t.Fatalf("ReleaseMember(m1): %v -> %v", maps.Clone(before), after)
	}
}

// BenchmarkPlacementsClaim measures a first claim (no record yet: the
// kind's advisory lock, the live counts, the insert) with 3,000 records of
// 3 live members in the table, as when a dead node's events are re-placed.
func BenchmarkPlacementsClaim(b *testing.B) {
	ctx := b.Context()
	s := openDB(b).Placements()
	live := []string{"m1", "m2", "m3"}
	claim := func(id string) {
		if _, err := s.Claim(ctx, "event", []string{id}, live, func(id string, counts map[string]int) string {
			return cluster.ChooseOwner(cluster.RendezvousOrder(id, live), counts, cluster.DefaultPlacementLoad)
		}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3000 {
		claim(fmt.Sprintf("seed-%d", i))
	}
	i := 0
	for b.Loop() {
		claim(fmt.Sprintf("bench-%d", i))
		i++
	}
}

// TestPlacementsClaimBatchesFromSeveralNodes: three nodes claim the same
// 900 identities at once, each in its own order and in batches of
// different sizes (as each node's claimer gathers its callers' claims):
// every node gets the same owner for each identity, the records say the
// same, and the busiest member stays within ceil(1.15 x mean).
func TestPlacementsClaimBatchesFromSeveralNodes(t *testing.T) {
	ctx := t.Context()
	s := openDB(t).Placements()
	live := []string{"m1", "m2", "m3"}
	const events = 900
	all := make([]string, events)
	for i := range all {
		all[i] = fmt.Sprintf("event-%03d", i)
	}
	choose := func(id string, counts map[string]int) string {
		return cluster.ChooseOwner(cluster.RendezvousOrder(id, live), counts, cluster.DefaultPlacementLoad)
	}
	got := make([]map[string]string, len(live))
	var wg sync.WaitGroup
	errs := make(chan error, len(live)*4)
	for node := range live {
		got[node] = map[string]string{}
		var mu sync.Mutex
		order := slices.Clone(all)
		rand.New(rand.NewPCG(uint64(node), 22)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		// Two claimers a node, so batches of one node also overlap.
		for half, part := range [][]string{order[:events/2], order[events/2:]} {
			wg.Go(func() {
				size := 1 + node*7 + half*50
				for batch := range slices.Chunk(part, size) {
					owners, err := s.Claim(ctx, "event", batch, live, choose)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					for _, id := range batch {
						got[node][id] = owners[id]
					}
					mu.Unlock()
					size = size*2 + 1 // 1, 3, 7, ... up to whole batches
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	records, err := s.Owners(ctx, "event", all)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range all {
		for node := range live {
			if got[node][id] == "" || got[node][id] != records[id] {
				t.Fatalf("%s: node %d was told %q, the record says %q", id, node, got[node][id], records[id])
			}
		}
	}
	counts, err := s.Counts(ctx, "event", live)
	if err != nil {
		t.Fatal(err)
	}
	bound := cluster.Bound(events, len(live), cluster.DefaultPlacementLoad)
	total := 0
	for m, c := range counts {
		total += c
		if c > bound {
			t.Errorf("%s holds %d, bound %d (%v)", m, c, bound, counts)
		}
	}
	if total != events {
		t.Fatalf("counts %v sum to %d, want %d", counts, total, events)
	}
	for m, c := range counts {
		if held, err := s.HeldBy(ctx, "event", []string{m}); err != nil || len(held) != c {
			t.Fatalf("HeldBy(%s) = %d identities, %v; counts say %d", m, len(held), err, c)
		}
	}
	// Asked again, the live records stand.
	again, err := s.Claim(ctx, "event", all, live, func(string, map[string]int) string {
		t.Error("choose called for a live record")
		return ""
	})
	if err != nil || len(again) != events {
		t.Fatalf("claim again: %d owners, %v", len(again), err)
	}
}

// BenchmarkPlacementsClaimBatch is BenchmarkPlacementsClaim for a batch of
// 1,000 first claims in one call (as a node's claimer decides the claims
// its callers asked while one was in the store, or a dead member's
// grains); ns/op is per batch.
func BenchmarkPlacementsClaimBatch(b *testing.B) {
	ctx := b.Context()
	s := openDB(b).Placements()
	live := []string{"m1", "m2", "m3"}
	choose := func(id string, counts map[string]int) string {
		return cluster.ChooseOwner(cluster.RendezvousOrder(id, live), counts, cluster.DefaultPlacementLoad)
	}
	batch := func(prefix string, n int) []string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		}
		return ids
	}
	if _, err := s.Claim(ctx, "event", batch("seed", 3000), live, choose); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := s.Claim(ctx, "event", batch(fmt.Sprintf("bench-%d", i), 1000), live, choose); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
