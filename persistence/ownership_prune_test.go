package persistence_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestPruneOwnershipHistory: pruning drops old acquisitions but keeps each
// event's latest, the recent ones, and every one the I3 audit of `boxoffice
// check` may use; the audit's verdict inputs (each hold's "due" time) are
// the same before and after.
func TestPruneOwnershipHistory(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	base := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	at := func(epoch int) time.Time { return base.Add(time.Duration(epoch) * time.Hour) }
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Pool().Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	history := func(ev uuid.UUID, epoch int, acquired time.Time) {
		exec(`INSERT INTO ownership_history (event_id, epoch, node, acquired_at) VALUES ($1, $2, 'n', $3)`, ev, epoch, acquired)
	}
	booking := func(ev uuid.UUID, status string, expires, updated time.Time) {
		exec(`INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
			VALUES ($1, $2, $3, '{}', $4, 100, 'EUR', $5, $5, $6)`, uuid.New(), uuid.New(), ev, status, expires, updated)
	}

	busy, quiet, recent := uuid.New(), uuid.New(), uuid.New()
	for e := 1; e <= 8; e++ {
		history(busy, e, at(e))
	}
	// Released late across epoch 3's acquisition: the audit forgives it.
	booking(busy, "expired", at(3).Add(-time.Minute), at(3).Add(time.Minute))
	// Released on time, and late without a move: no acquisition inside.
	booking(busy, "expired", at(4).Add(time.Minute), at(4).Add(time.Minute))
	booking(busy, "released", at(2).Add(-time.Minute), at(2).Add(time.Minute))
	// Still held since before epoch 6: epochs 6, 7, 8 may be its excuse.
	booking(busy, "in-progress", at(6).Add(-time.Minute), at(6).Add(-time.Minute))
	history(quiet, 1, at(1)) // its only (latest) row
	history(recent, 1, at(1))
	history(recent, 2, time.Now().Add(-time.Minute))
	history(recent, 3, time.Now())

	dueBefore := auditDue(t, db.Pool())
	deleted, err := db.PruneOwnershipHistory(ctx, 24*time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID][]int64{busy: {3, 6, 7, 8}, quiet: {1}, recent: {2, 3}}
	for ev, epochs := range want {
		if got := epochsOf(t, db.Pool(), ev); !reflect.DeepEqual(got, epochs) {
			t.Errorf("kept epochs %v, want %v", got, epochs)
		}
	}
	if deleted != 5 {
		t.Errorf("deleted %d rows, want 5", deleted)
	}
	if dueAfter := auditDue(t, db.Pool()); !reflect.DeepEqual(dueBefore, dueAfter) {
		t.Errorf("the I3 audit's due times changed:\nbefore %v\nafter  %v", dueBefore, dueAfter)
	}
	if again, err := db.PruneOwnershipHistory(ctx, 24*time.Hour, 1000); err != nil || again != 0 {
		t.Errorf("second prune deleted %d, %v; want 0", again, err)
	}
}

// auditDue computes, for every hold, the time from which the I3 audit of
// `boxoffice check` (cmd/boxoffice/check.go, expiries) counts its second.
func auditDue(t *testing.T, pool *pgxpool.Pool) map[uuid.UUID]time.Time {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT b.id,
			GREATEST(b.expires_at, (SELECT max(h.acquired_at) FROM ownership_history h
				WHERE h.event_id = b.event_id
				  AND h.acquired_at <= CASE WHEN b.status = 'expired' THEN b.updated_at ELSE now() END))
		FROM bookings b WHERE b.status IN ('expired', 'in-progress')`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]time.Time{}
	var id uuid.UUID
	var due time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &due}, func() error { out[id] = due; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func epochsOf(t *testing.T, pool *pgxpool.Pool, ev uuid.UUID) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT epoch FROM ownership_history WHERE event_id = $1 ORDER BY epoch`, ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSnapshotBefore walks an event's snapshots from the newest down, as an
// activation does when the newest cannot be used.
func TestSnapshotBefore(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	for _, v := range []uint64{10, 20} {
		if err := db.SaveSnapshot(ctx, event, epoch, v, []byte{byte(v)}); err != nil {
			t.Fatalf("save %d: %v", v, err)
		}
	}
	cases := []struct {
		before uint64
		want   uint64
		ok     bool
	}{
		{^uint64(0), 20, true},
		{21, 20, true},
		{20, 10, true},
		{11, 10, true},
		{10, 0, false},
		{0, 0, false},
	}
	for _, c := range cases {
		v, state, ok, err := db.SnapshotBefore(ctx, event, c.before)
		if err != nil || ok != c.ok || v != c.want || (ok && !reflect.DeepEqual(state, []byte{byte(v)})) {
			t.Errorf("SnapshotBefore(%d) = %d %v %v %v, want %d %v", c.before, v, state, ok, err, c.want, c.ok)
		}
	}
}

// TestConcurrentSnapshotsKeepTwo: saves of one event at once keep exactly
// the two newest snapshots (each pruned what it saw, and together they
// could keep three or more).
func TestConcurrentSnapshotsKeepTwo(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	errs := make(chan error, 16)
	for v := range 16 {
		go func() { errs <- db.SaveSnapshot(ctx, event, epoch, uint64(v+1), []byte{byte(v + 1)}) }()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var versions []int64
	rows, err := db.Pool().Query(ctx, `SELECT version FROM snapshots WHERE event_id = $1 ORDER BY version`, event)
	if err != nil {
		t.Fatal(err)
	}
	if versions, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(versions, []int64{15, 16}) {
		t.Fatalf("kept snapshots %v, want the two newest [15 16]", versions)
	}
}
