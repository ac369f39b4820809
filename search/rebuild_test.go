package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

// sliceSource serves ls the way persistence/ pages the catalog: by EventID.
func sliceSource(ls []boxoffice.Listing) search.Source {
	sorted := slices.Clone(ls)
	slices.SortFunc(sorted, func(a, b boxoffice.Listing) int { return bytes.Compare(a.EventID[:], b.EventID[:]) })
	return func(ctx context.Context, after uuid.UUID, limit int) ([]boxoffice.Listing, error) {
		i, _ := slices.BinarySearchFunc(sorted, after, func(l boxoffice.Listing, id uuid.UUID) int {
			return bytes.Compare(l.EventID[:], id[:])
		})
		for i < len(sorted) && sorted[i].EventID == after {
			i++
		}
		return slices.Clone(sorted[i:min(i+limit, len(sorted))]), nil
	}
}

// generationDirs lists the generation directories under dir.
func generationDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "gen-") {
			out = append(out, e.Name())
		}
	}
	return out
}

var comparisonQueries = []string{
	"", "q=metalica", "q=madrid", "q=tour", "q=live", "type=sports", "city=london",
	"near=48.85,2.35&radius_km=300", "from=2027-03-01&to=2027-09-30", "q=festival&sort=date",
	"near=40.4,-3.7&radius_km=600&sort=distance&page=2&page_size=5", "q=arena&type=concert",
}

func TestRebuildMatchesApply(t *testing.T) {
	listings := append(catalogListings(), generate(3000, 7)...)

	applied := mustOpen(t, search.DefaultConfig(""))
	for chunk := range slices.Chunk(listings, 500) {
		if err := applied.ApplyBatch(chunk); err != nil {
			t.Fatal(err)
		}
	}

	cfg := search.DefaultConfig(t.TempDir())
	cfg.BatchSize = 700
	var progress []int
	rebuilt, err := search.Rebuild(t.Context(), cfg, sliceSource(listings), func(done int) { progress = append(progress, done) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rebuilt.Close() })

	if !slices.IsSorted(progress) || len(progress) != 5 || progress[len(progress)-1] != len(listings) {
		t.Errorf("progress %v, want 5 increasing counts ending at %d", progress, len(listings))
	}
	mustCount(t, rebuilt, uint64(len(listings)))
	for _, raw := range comparisonQueries {
		q := parse(t, raw)
		a, b := mustSearch(t, applied, q), mustSearch(t, rebuilt, q)
		if a.Total != b.Total || !slices.Equal(keysOf(a), keysOf(b)) {
			t.Errorf("%q: applied %d %v\nrebuilt %d %v", raw, a.Total, keysOf(a), b.Total, keysOf(b))
		}
		if a.Total == 0 {
			t.Errorf("%q: no hits, the comparison tests nothing", raw)
		}
	}
}

func TestRebuildSwapsGenerations(t *testing.T) {
	dir := t.TempDir()
	old, err := search.Open(search.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.ApplyBatch(catalogListings()); err != nil {
		t.Fatal(err)
	}
	oldGen := generationDirs(t, dir)

	renamed := catalogListings()
	renamed[9] = withRev(renamed[9], 2, "Macbeth")
	ix, err := search.Rebuild(t.Context(), search.DefaultConfig(dir), sliceSource(renamed), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := namesFor(t, ix, "macbeth"); len(got) != 1 {
		t.Errorf("rebuilt index: %v", got)
	}
	if got := namesFor(t, old, "hamlet"); len(got) != 1 {
		t.Errorf("the old index must keep serving until closed: %v", got)
	}
	if got := generationDirs(t, dir); len(got) != 2 {
		t.Errorf("while both are open: generations %v, want 2", got)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if got := generationDirs(t, dir); len(got) != 1 || got[0] == oldGen[0] {
		t.Errorf("after closing the old index: generations %v (old was %v)", got, oldGen)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix = mustOpen(t, search.DefaultConfig(dir))
	if got := namesFor(t, ix, "macbeth"); len(got) != 1 {
		t.Errorf("reopened after rebuild: %v", got)
	}
}

func TestRebuildFailureKeepsOldIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := search.DefaultConfig(dir)
	cfg.BatchSize = 100 // so that the source fails mid-build
	ix := mustOpen(t, cfg)
	if err := ix.ApplyBatch(catalogListings()); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("store down")
	src := sliceSource(generate(500, 3))
	calls := 0
	failing := func(ctx context.Context, after uuid.UUID, limit int) ([]boxoffice.Listing, error) {
		if calls++; calls == 3 {
			return nil, boom
		}
		return src(ctx, after, limit)
	}
	if _, err := search.Rebuild(t.Context(), cfg, failing, nil); !errors.Is(err, boom) {
		t.Fatalf("Rebuild: %v, want the source's error", err)
	}
	calls = 0
	if err := ix.Rebuild(t.Context(), failing, nil); !errors.Is(err, boom) {
		t.Fatalf("Index.Rebuild: %v, want the source's error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ix.Rebuild(ctx, src, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Index.Rebuild: %v", err)
	}
	if got := generationDirs(t, dir); len(got) != 1 {
		t.Errorf("failed builds left directories: %v", got)
	}
	mustCount(t, ix, uint64(len(catalog)))
	if got := namesFor(t, ix, "metallica"); len(got) != 3 {
		t.Errorf("after failed rebuilds: %v", got)
	}
}

func TestIndexRebuildKeepsConcurrentChanges(t *testing.T) {
	for _, path := range []string{"", "disk"} {
		t.Run("path="+path, func(t *testing.T) {
			cfg := search.DefaultConfig("")
			if path != "" {
				cfg.Path = t.TempDir()
			}
			ix := mustOpen(t, cfg)
			snapshot := catalogListings() // what the store returned: revision 1 of everything
			if err := ix.ApplyBatch(snapshot); err != nil {
				t.Fatal(err)
			}
			src := sliceSource(snapshot)
			first := true
			during := func(ctx context.Context, after uuid.UUID, limit int) ([]boxoffice.Listing, error) {
				if first {
					first = false
					// The catalog stream keeps flowing while the build reads.
					mustApply(t, ix,
						withRev(snapshot[9], 2, "Macbeth"),
						boxoffice.Listing{EventID: snapshot[0].EventID, Deleted: true, Revision: 2})
					if got := namesFor(t, ix, "macbeth"); len(got) != 1 {
						t.Errorf("during the rebuild the live index missed a change: %v", got)
					}
					if err := ix.Rebuild(ctx, src, nil); !errors.Is(err, search.ErrRebuilding) {
						t.Errorf("second concurrent Rebuild: %v, want ErrRebuilding", err)
					}
				}
				return src(ctx, after, limit)
			}
			if err := ix.Rebuild(t.Context(), during, nil); err != nil {
				t.Fatal(err)
			}
			if got := namesFor(t, ix, "macbeth"); len(got) != 1 {
				t.Errorf("a change applied during the rebuild was lost: %v", got)
			}
			if got := namesFor(t, ix, "hamlet"); len(got) != 0 {
				t.Errorf("the stale snapshot overwrote a newer change: %v", got)
			}
			mustCount(t, ix, uint64(len(catalog)-1))
			if path != "" {
				if got := generationDirs(t, cfg.Path); len(got) != 1 {
					t.Errorf("generations after a hot rebuild: %v", got)
				}
			}
			mustApply(t, ix, withRev(snapshot[9], 3, "King Lear"))
			if got := namesFor(t, ix, "lear"); len(got) != 1 {
				t.Errorf("Apply after the swap: %v", got)
			}
		})
	}
}

func TestOpenDiscardsOtherMappingVersion(t *testing.T) {
	dir := t.TempDir()
	ix, err := search.Open(search.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.ApplyBatch(catalogListings()); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	cur := filepath.Join(dir, "CURRENT")
	b, err := os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["mapping"] = "boxoffice-search-v0"
	b, _ = json.Marshal(m)
	if err := os.WriteFile(cur, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ix = mustOpen(t, search.DefaultConfig(dir))
	mustCount(t, ix, 0)
	if got := generationDirs(t, dir); len(got) != 1 || got[0] == m["generation"] {
		t.Errorf("generations %v; the old-mapping one (%s) should be gone", got, m["generation"])
	}
}

func TestRebuildLeavesOneSegment(t *testing.T) {
	// Every query pays per segment, so a rebuild merges to one. (How many
	// segments there are before depends on the persister's timing; at 100k
	// events there were 11, more than bleve's plan merges in one task.)
	dir := t.TempDir()
	cfg := search.DefaultConfig(dir)
	cfg.BatchSize = 200
	ix, err := search.Rebuild(t.Context(), cfg, sliceSource(generate(5000, 5)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	gens := generationDirs(t, dir)
	zaps, err := filepath.Glob(filepath.Join(dir, gens[len(gens)-1], "store", "*.zap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(zaps) != 1 {
		t.Errorf("%d segments after a rebuild, want 1: %v", len(zaps), zaps)
	}
	mustCount(t, ix, 5000)
}
