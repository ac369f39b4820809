package persistence_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

func TestAcquireBumpsEpoch(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	event := uuid.New()
	for want := int64(1); want <= 3; want++ {
		if got := acquire(t, db, event, "node"); got != want {
			t.Fatalf("epoch %d, want %d", got, want)
		}
	}
	if got := acquire(t, db, uuid.New(), "node"); got != 1 {
		t.Fatalf("another event's first epoch %d, want 1", got)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	event := uuid.New()
	if _, _, ok, err := db.LatestSnapshot(ctx, event); ok || err != nil {
		t.Fatalf("snapshot of a new event: ok=%v err=%v", ok, err)
	}
	epoch := acquire(t, db, event, "node-a")
	for _, v := range []uint64{10, 20, 30} {
		if err := db.SaveSnapshot(ctx, event, epoch, v, []byte{byte(v)}); err != nil {
			t.Fatalf("save %d: %v", v, err)
		}
	}
	v, state, ok, err := db.LatestSnapshot(ctx, event)
	if err != nil || !ok || v != 30 || !reflect.DeepEqual(state, []byte{30}) {
		t.Fatalf("latest: %d %v %v %v, want 30 [30]", v, state, ok, err)
	}
	var kept []int64
	rows, _ := db.Pool().Query(ctx, `SELECT version FROM snapshots WHERE event_id = $1 ORDER BY version`, event)
	for rows.Next() {
		var k int64
		_ = rows.Scan(&k)
		kept = append(kept, k)
	}
	if rows.Err() != nil || !reflect.DeepEqual(kept, []int64{20, 30}) {
		t.Fatalf("kept snapshots %v (%v), want the last two [20 30]", kept, rows.Err())
	}

	newer := acquire(t, db, event, "node-b")
	err = db.SaveSnapshot(ctx, event, epoch, 40, []byte{40})
	if !errors.Is(err, boxoffice.ErrFenced) {
		t.Fatalf("stale owner's snapshot: %v, want ErrFenced", err)
	}
	if v, _, _, _ := db.LatestSnapshot(ctx, event); v != 30 {
		t.Fatalf("a fenced snapshot was stored: latest %d", v)
	}
	if err := db.SaveSnapshot(ctx, event, newer, 40, []byte{40}); err != nil {
		t.Fatalf("new owner's snapshot: %v", err)
	}
	err = db.SaveSnapshot(ctx, uuid.New(), 1, 1, nil)
	if !errors.Is(err, boxoffice.ErrFenced) {
		t.Fatalf("snapshot of an unowned event: %v, want ErrFenced", err)
	}
}
