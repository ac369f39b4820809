package persistence

import (
	"context"

	"github.com/golang-migrate/migrate/v4"
)

// NewJournalWriterMode exposes the journal row method to the benchmarks
// that chose it (BenchmarkJournalRows).
func NewJournalWriterMode(db *DB, cfg JournalConfig, useCopy bool) *JournalWriter {
	return newJournalWriter(db, cfg, useCopy)
}

// SetMinBatch makes every batch wait for n commits (or MaxRecords, or
// Close; not MaxDelay), so a test can put chosen commits into one batch
// without relying on timing.
func (w *JournalWriter) SetMinBatch(n int) {
	w.mu.Lock()
	w.minBatch = n
	w.mu.Unlock()
}

// MigrateTo moves the schema up or down to version, for migration tests.
func (db *DB) MigrateTo(ctx context.Context, version uint) error {
	return db.migrate(ctx, func(m *migrate.Migrate) error { return m.Migrate(version) })
}

// EachRecord exposes the journal row decoder to tests.
var EachRecord = eachRecord

// AppendRecords exposes the journal row encoder to tests.
var AppendRecords = appendRecords
