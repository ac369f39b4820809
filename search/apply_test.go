package search_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

// eventNamed searches q and returns the names of the hits.
func namesFor(t *testing.T, ix *search.Index, q string) []string {
	t.Helper()
	r := mustSearch(t, ix, search.Query{Text: q})
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.Name
	}
	return out
}

func mustCount(t *testing.T, ix *search.Index, want uint64) {
	t.Helper()
	n, err := ix.Count()
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("Count = %d, want %d", n, want)
	}
}

func mustApply(t *testing.T, ix *search.Index, ls ...boxoffice.Listing) {
	t.Helper()
	for _, l := range ls {
		if err := ix.Apply(l); err != nil {
			t.Fatalf("Apply(%s rev %d): %v", l.Name, l.Revision, err)
		}
	}
}

func withRev(l boxoffice.Listing, rev int64, name string) boxoffice.Listing {
	l.Revision = rev
	if name != "" {
		l.Name = name
	}
	return l
}

func TestApplyIsIdempotent(t *testing.T) {
	for _, path := range []string{"", "disk"} {
		t.Run("path="+path, func(t *testing.T) {
			cfg := search.DefaultConfig("")
			if path != "" {
				cfg.Path = t.TempDir()
			}
			ix := mustOpen(t, cfg)
			l := catalog[9].listing() // Hamlet
			mustApply(t, ix, l, l, l)
			mustCount(t, ix, 1)
			if got := namesFor(t, ix, "hamlet"); len(got) != 1 {
				t.Fatalf("hamlet found %d times", len(got))
			}
			if err := ix.ApplyBatch([]boxoffice.Listing{l, l}); err != nil {
				t.Fatal(err)
			}
			mustCount(t, ix, 1)
		})
	}
}

func TestApplyRevisionOrder(t *testing.T) {
	ix := mustOpen(t, search.DefaultConfig(""))
	base := catalog[9].listing()

	mustApply(t, ix, withRev(base, 2, "Hamlet Revived"), withRev(base, 1, "Hamlet Stale"))
	if got := namesFor(t, ix, "hamlet"); len(got) != 1 || got[0] != "Hamlet Revived" {
		t.Fatalf("after rev 2 then rev 1: %v, want [Hamlet Revived]", got)
	}
	if got := namesFor(t, ix, "stale"); len(got) != 0 {
		t.Fatalf("an older revision was indexed: %v", got)
	}

	// Within one batch the highest revision wins, whatever the order.
	ix2 := mustOpen(t, search.DefaultConfig(""))
	if err := ix2.ApplyBatch([]boxoffice.Listing{withRev(base, 5, "Hamlet Five"), withRev(base, 3, "Hamlet Three")}); err != nil {
		t.Fatal(err)
	}
	if got := namesFor(t, ix2, "hamlet"); len(got) != 1 || got[0] != "Hamlet Five" {
		t.Fatalf("batch: %v, want [Hamlet Five]", got)
	}
}

func TestApplyDelete(t *testing.T) {
	ix := mustOpen(t, search.DefaultConfig(t.TempDir()))
	base := catalog[9].listing()
	other := catalog[10].listing()
	mustApply(t, ix, withRev(base, 1, ""), other)
	ix.SetAvailability(base.EventID, 3, 1)

	del := boxoffice.Listing{EventID: base.EventID, Deleted: true, Revision: 2}
	mustApply(t, ix, del)
	mustCount(t, ix, 1)
	if got := namesFor(t, ix, "hamlet"); len(got) != 0 {
		t.Fatalf("deleted event still found: %v", got)
	}

	// A redelivered older upsert must not bring it back, even after a restart.
	mustApply(t, ix, withRev(base, 1, ""))
	if got := namesFor(t, ix, "hamlet"); len(got) != 0 {
		t.Fatalf("older upsert resurrected a deleted event: %v", got)
	}
	// A newer one does (an event re-published).
	mustApply(t, ix, withRev(base, 3, ""))
	if got := namesFor(t, ix, "hamlet"); len(got) != 1 {
		t.Fatalf("newer upsert after delete: %v", got)
	}
	r := mustSearch(t, ix, search.Query{Text: "hamlet"})
	if r.Available[0] != base.Capacity {
		t.Errorf("availability of a deleted then re-published event = %d, want capacity %d (stale count dropped)", r.Available[0], base.Capacity)
	}
	// Deleting an event the index never saw leaves a tombstone too.
	ghost := catalog[11].listing()
	mustApply(t, ix, boxoffice.Listing{EventID: ghost.EventID, Deleted: true, Revision: 9}, withRev(ghost, 8, ""))
	if got := namesFor(t, ix, "miserables"); len(got) != 0 {
		t.Fatalf("upsert older than an unseen delete was indexed: %v", got)
	}
}

func TestApplyTombstoneSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	base := catalog[9].listing()
	ix, err := search.Open(search.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, ix, withRev(base, 1, ""), boxoffice.Listing{EventID: base.EventID, Deleted: true, Revision: 2})
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := ix.Apply(base); !errors.Is(err, search.ErrClosed) {
		t.Fatalf("Apply after Close: %v, want ErrClosed", err)
	}

	ix = mustOpen(t, search.DefaultConfig(dir))
	mustApply(t, ix, withRev(base, 1, ""))
	if got := namesFor(t, ix, "hamlet"); len(got) != 0 {
		t.Fatalf("after restart an older upsert resurrected a deleted event: %v", got)
	}
}

func TestApplyPersists(t *testing.T) {
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
	ix = mustOpen(t, search.DefaultConfig(dir))
	mustCount(t, ix, uint64(len(catalog)))
	if got := namesFor(t, ix, "metalica"); len(got) != 3 {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestApplyRename(t *testing.T) {
	ix := catalogIndex(t)
	l := catalog[12].listing() // Swan Lake
	mustApply(t, ix, withRev(l, 2, "The Sleeping Beauty"))
	if got := namesFor(t, ix, "swan"); len(got) != 0 {
		t.Errorf("old name still found: %v", got)
	}
	if got := namesFor(t, ix, "sleeping beauty"); len(got) != 1 || got[0] != "The Sleeping Beauty" {
		t.Errorf("new name: %v", got)
	}
	if got := namesFor(t, ix, "sleping"); len(got) != 1 {
		t.Errorf("new name with a typo: %v", got)
	}
	mustCount(t, ix, uint64(len(catalog)))
}

func TestApplyRejectsUnindexable(t *testing.T) {
	ix := mustOpen(t, search.DefaultConfig(""))
	good := catalog[0].listing()
	bad := map[string]func(*boxoffice.Listing){
		"event_id":  func(l *boxoffice.Listing) { l.EventID = uuid.Nil },
		"name":      func(l *boxoffice.Listing) { l.Name = "  " },
		"starts_at": func(l *boxoffice.Listing) { l.StartsAt = time.Time{} },
		"location":  func(l *boxoffice.Listing) { l.Location.Lat = math.NaN() },
	}
	for field, mutate := range bad {
		l := good
		mutate(&l)
		err := ix.ApplyBatch([]boxoffice.Listing{catalog[1].listing(), l})
		var e *boxoffice.Error
		if !errors.As(err, &e) || e.Code != boxoffice.EInvalid || e.Details["field"] != field {
			t.Errorf("%s: err %v, want invalid_argument on %s", field, err, field)
		}
	}
	mustCount(t, ix, 0) // nothing of a rejected batch is applied
	l := good
	l.Location.Lon = 200
	if err := ix.Apply(l); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Errorf("lon 200: err %v", err)
	}
}
