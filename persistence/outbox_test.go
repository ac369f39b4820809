package persistence_test

import (
	"testing"

	"github.com/boxoffice/boxoffice/persistence"
)

func TestOutboxPendingAndSent(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		mustEvent(t, db, 1, 1, 1)
	}
	rows, err := db.PendingOutbox(ctx, 2)
	if err != nil || len(rows) != 2 || rows[0].ID >= rows[1].ID {
		t.Fatalf("first page %+v, %v; want 2 rows in ascending ID order", rows, err)
	}
	if err := db.MarkOutboxSent(ctx, []int64{rows[0].ID, rows[1].ID}); err != nil {
		t.Fatal(err)
	}
	rest, err := db.PendingOutbox(ctx, 10)
	if err != nil || len(rest) != 1 || rest[0].ID <= rows[1].ID {
		t.Fatalf("after marking: %+v, %v; want only the third row", rest, err)
	}
}

// Only one holder of the relay lock at a time, across connections.
func TestRelayLock(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	release, ok, err := db.TryRelayLock(ctx)
	if err != nil || !ok {
		t.Fatalf("first: ok=%v %v", ok, err)
	}
	cfg := persistence.DefaultConfig()
	cfg.URL = db.Pool().Config().ConnString()
	other, err := persistence.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, ok, err := other.TryRelayLock(ctx); ok || err != nil {
		t.Fatalf("second node got the lock too (ok=%v, %v)", ok, err)
	}
	release()
	release() // idempotent
	release2, ok, err := other.TryRelayLock(ctx)
	if err != nil || !ok {
		t.Fatalf("after release: ok=%v %v", ok, err)
	}
	release2()
}
