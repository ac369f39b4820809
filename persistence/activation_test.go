package persistence_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

// One LoadActivations call over several events gives each exactly its own
// epoch, rows, newest snapshot and the journal after it, and claims nothing
// for an event that does not exist.
func TestLoadActivations(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	w := newWriter(t, db, time.Millisecond)
	type want struct {
		epoch   int64
		snap    uint64 // 0: none
		journal []uint64
	}
	var ids []uuid.UUID
	wants := map[uuid.UUID]want{}
	for i := range 6 {
		ev, _ := mustEvent(t, db, 1, 1, 10+i)
		epoch := acquire(t, db, ev.ID, "node-a")
		for range i % 3 { // earlier owners: epochs 1..i%3+1
			epoch = acquire(t, db, ev.ID, "node-a")
		}
		// i records of one commit each; event i has a snapshot at i/2
		// when i >= 2 (the journal rows before it are not read).
		for v := 1; v <= i; v++ {
			if err := submit(w, boxoffice.Commit{EventID: ev.ID, Epoch: epoch, Entries: records(uint64(v), 1)}); err != nil {
				t.Fatalf("event %d commit %d: %v", i, v, err)
			}
		}
		wt := want{epoch: epoch + 1}
		if i >= 2 {
			wt.snap = uint64(i / 2)
			if err := db.SaveSnapshot(ctx, ev.ID, epoch, wt.snap, []byte(fmt.Sprintf("state %s", ev.ID))); err != nil {
				t.Fatal(err)
			}
		}
		wt.journal = seq(wt.snap+1, uint64(i))
		ids = append(ids, ev.ID)
		wants[ev.ID] = wt
	}
	missing := uuid.New()
	got, err := db.LoadActivations(ctx, append(ids, missing), "node-b", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("load activations: %v", err)
	}
	if len(got) != len(ids) || got[missing] != nil {
		t.Fatalf("loaded %d events, want %d (and not the missing one)", len(got), len(ids))
	}
	for i, id := range ids {
		a, wt := got[id], wants[id]
		if a == nil {
			t.Fatalf("event %d not loaded", i)
		}
		if a.Event.ID != id || a.Venue.ID != a.Event.VenueID || a.Venue.SeatMap.Capacity() != 10+i {
			t.Errorf("event %d: event %s venue %s of %d seats, want its own (%d seats)", i, a.Event.ID, a.Venue.ID,
				a.Venue.SeatMap.Capacity(), 10+i)
		}
		if a.Epoch != wt.epoch {
			t.Errorf("event %d: epoch %d, want %d", i, a.Epoch, wt.epoch)
		}
		if a.HasSnapshot != (wt.snap > 0) || a.SnapshotVersion != wt.snap ||
			(wt.snap > 0 && !bytes.Equal(a.Snapshot, []byte(fmt.Sprintf("state %s", id)))) {
			t.Errorf("event %d: snapshot v%d %q (%v), want v%d", i, a.SnapshotVersion, a.Snapshot, a.HasSnapshot, wt.snap)
		}
		var vs []uint64
		for _, e := range a.Journal {
			vs = append(vs, e.Version)
			if string(e.Record) != fmt.Sprintf("record %d", e.Version) {
				t.Errorf("event %d: record %d is %q", i, e.Version, e.Record)
			}
		}
		if fmt.Sprint(vs) != fmt.Sprint(wt.journal) {
			t.Errorf("event %d: journal %v, want %v", i, vs, wt.journal)
		}
	}
	var owned int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM event_ownership WHERE event_id = $1`, missing).Scan(&owned); err != nil || owned != 0 {
		t.Fatalf("the missing event got %d ownership rows (%v)", owned, err)
	}
}

// A batched claim fences the earlier owner exactly as Acquire does: its
// next commit and snapshot fail with ErrFenced and write nothing, and the
// new owner's commit follows the old journal without a gap (I4, I5).
func TestLoadActivationsFencesOldOwner(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	w := newWriter(t, db, time.Millisecond)
	ev, _ := mustEvent(t, db, 1, 1, 10)
	other, _ := mustEvent(t, db, 1, 1, 10)
	old := acquire(t, db, ev.ID, "node-a")
	if err := submit(w, boxoffice.Commit{EventID: ev.ID, Epoch: old, Entries: records(1, 2)}); err != nil {
		t.Fatal(err)
	}
	got, err := db.LoadActivations(ctx, []uuid.UUID{other.ID, ev.ID}, "node-b", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := got[ev.ID]
	if a == nil || a.Epoch != old+1 || len(a.Journal) != 2 {
		t.Fatalf("batched claim: %+v, want epoch %d and the 2 records", a, old+1)
	}
	wantIs(t, submit(w, boxoffice.Commit{EventID: ev.ID, Epoch: old, Entries: records(3, 1)}), boxoffice.ErrFenced)
	wantIs(t, db.SaveSnapshot(ctx, ev.ID, old, 2, []byte("stale")), boxoffice.ErrFenced)
	if err := submit(w, boxoffice.Commit{EventID: ev.ID, Epoch: a.Epoch, Entries: records(3, 1)}); err != nil {
		t.Fatalf("new owner's commit: %v", err)
	}
	if vs := versions(t, db, ev.ID); fmt.Sprint(vs) != fmt.Sprint(seq(1, 3)) {
		t.Fatalf("journal versions %v, want 1..3", vs)
	}
	var node string
	if err := db.Pool().QueryRow(ctx, `SELECT node FROM ownership_history WHERE event_id = $1 AND epoch = $2`,
		ev.ID, a.Epoch).Scan(&node); err != nil || node != "node-b" {
		t.Fatalf("ownership history of the batched claim: %q (%v)", node, err)
	}
}
