package persistence_test

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// newestMigration is the highest version among the embedded migrations.
func newestMigration(t *testing.T) int {
	t.Helper()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	for _, f := range files {
		prefix, _, _ := strings.Cut(f.Name(), "_")
		if v, err := strconv.Atoi(prefix); err == nil && v > newest {
			newest = v
		}
	}
	return newest
}

// Migrate is idempotent, and nodes that start together may all run it.
func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	t.Parallel()
	db := openRaw(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var version int
	var dirty bool
	if err := db.Pool().QueryRow(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty); err != nil {
		t.Fatal(err)
	}
	if want := newestMigration(t); version != want || dirty {
		t.Fatalf("schema version %d dirty=%v, want %d clean", version, dirty, want)
	}
	var tables int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
		AND tablename = ANY('{users,venues,performers,events,tickets,bookings,journal,snapshots,event_ownership,sold_seats,payments,outbox}')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 12 {
		t.Fatalf("%d of the 12 tables exist", tables)
	}
}
