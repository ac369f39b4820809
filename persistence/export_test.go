package persistence

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
