package persistence_test

import (
	"fmt"
	"maps"
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
	if err := s.Ensure(ctx, "event", "event-000", gone); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Owners(ctx, "event", []string{"event-000"}); o["event-000"] != rest[0] {
		t.Fatalf("after a foreign release and an ensure: %v, want %s", o, rest[0])
	}
	if err := s.Release(ctx, "event", "event-000", rest[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, "event", "event-000", "m9"); err != nil {
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
