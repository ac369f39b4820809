package persistence

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
)

// validateCommit refuses a commit the writer cannot store: one without an
// event, or whose entries' versions are not consecutive.
func validateCommit(c *boxoffice.Commit) error {
	if c.EventID == uuid.Nil {
		return errors.New("persistence: commit without an event ID")
	}
	for i := 1; i < len(c.Entries); i++ {
		if c.Entries[i].Version != c.Entries[i-1].Version+1 {
			return fmt.Errorf("persistence: commit of event %s: versions %d and %d are not consecutive",
				c.EventID, c.Entries[i-1].Version, c.Entries[i].Version)
		}
	}
	for _, n := range c.Notices {
		if err := n.Validate(); err != nil {
			return fmt.Errorf("persistence: commit of event %s: %w", c.EventID, err)
		}
	}
	return nil
}

// JournalConfig tunes group commit: how long the first commit of a batch
// may wait for company, and how big a batch may grow.
type JournalConfig struct {
	// MaxDelay is the longest a commit waits for others before its
	// batch is written. Larger batches mean fewer fsyncs per record but
	// add up to this much latency at low load; under load, batches form
	// while the previous transaction commits, without waiting.
	MaxDelay time.Duration
	// MaxRecords closes a batch early once it holds this many journal
	// records; a single commit larger than this is written alone.
	MaxRecords int
	// Timeout bounds one transaction; a PostgreSQL that hangs fails the
	// batch as unavailable instead of stalling every event of the node.
	Timeout time.Duration
	// OnBatch, if set, is called from the writer goroutine after every
	// batch with the number of records it committed and how long its
	// transactions took; the metrics layer feeds a histogram from it. It
	// must not block.
	OnBatch func(records int, d time.Duration)
	// TracerProvider, if set, gives every batch that carries a traced
	// commit (boxoffice.Commit.Traces) a span, the parent of its
	// PostgreSQL spans; nil traces nothing.
	TracerProvider trace.TracerProvider
}

// DefaultJournalConfig suits a node serving hot on-sales.
func DefaultJournalConfig() JournalConfig {
	return JournalConfig{
		MaxDelay:   2 * time.Millisecond, // under one fsync; invisible next to network latency
		MaxRecords: 1000,                 // keeps one transaction well under 10 ms of work
		Timeout:    5 * time.Second,      // long enough for a busy server, short enough to fail over
	}
}

// Validate reports settings the writer cannot work with.
func (c JournalConfig) Validate() error {
	switch {
	case c.MaxDelay < 0 || c.MaxDelay > time.Second:
		return fmt.Errorf("persistence: JournalConfig.MaxDelay %v: want 0..1s", c.MaxDelay)
	case c.MaxRecords < 1:
		return fmt.Errorf("persistence: JournalConfig.MaxRecords %d: want at least 1", c.MaxRecords)
	case c.Timeout <= 0:
		return fmt.Errorf("persistence: JournalConfig.Timeout %v: want > 0", c.Timeout)
	}
	return nil
}

// JournalStats are the writer's counters since it started, for metrics.
type JournalStats struct {
	Batches      uint64        // batches written (each one transaction, plus retries)
	Transactions uint64        // transactions attempted, including the retries that isolate a failing commit
	Commits      uint64        // commits acknowledged as durable
	Records      uint64        // journal records in those commits
	Fenced       uint64        // commits refused with boxoffice.ErrFenced
	Failed       uint64        // commits failed for any other reason
	LastRecords  int           // records committed by the last batch
	LastCommits  int           // commits acknowledged by the last batch
	LastDuration time.Duration // time the last batch's transactions took
	TotalTime    time.Duration // sum of all batches' durations (with Batches: the mean)
	Queued       int           // commits waiting for the next batch now
}

// pending is one submitted commit waiting for its batch.
type pending struct {
	c    boxoffice.Commit
	done func(error)
	at   time.Time
}

// JournalWriter is a node's write-behind journal: it gathers commits from
// every event actor of the node and writes them with group commit, one
// PostgreSQL transaction per batch, fenced by each event's epoch.
type JournalWriter struct {
	db      *DB
	cfg     JournalConfig
	useCopy bool // COPY instead of INSERT ... unnest for journal rows (benchmarks)

	wake    chan struct{} // capacity 1: "the queue changed in a way the writer cares about"
	stopped chan struct{} // closed when the writer goroutine has returned
	// traceCtx is the batch being written's trace context (traceBatch),
	// the parent of its transactions' contexts; only the writer goroutine
	// touches it.
	traceCtx context.Context

	mu       sync.Mutex // guards queue, records, expect, minBatch, closed
	queue    []pending
	records  int // journal records in queue
	expect   int // commits in the last batch: that many waiting means the batch is due
	minBatch int // tests: wait for at least this many commits (MaxDelay does not apply)
	closed   bool

	stats struct {
		batches, txs, commits, records, fenced, failed atomic.Uint64
		lastRecords, lastCommits                       atomic.Int64
		lastDur, totalDur                              atomic.Int64
	}
}

// JournalWriter is the seat engine's boxoffice.Journal.
var _ boxoffice.Journal = (*JournalWriter)(nil)

// NewJournalWriter starts a writer on db; Close stops it. An invalid cfg
// panics, as it is a programming error caught by the node's Config check.
func NewJournalWriter(db *DB, cfg JournalConfig) *JournalWriter {
	return newJournalWriter(db, cfg, false)
}

// newJournalWriter chooses how journal rows are sent: INSERT ... unnest
// (the default: measured faster for the batch sizes group commit forms,
// see BenchmarkJournalRows) or COPY.
func newJournalWriter(db *DB, cfg JournalConfig, useCopy bool) *JournalWriter {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	w := &JournalWriter{db: db, cfg: cfg, useCopy: useCopy, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.run() // owned by w: Close stops it and waits
	return w
}

// Submit queues c for the next batch and returns at once. done is called
// exactly once: with nil only after c's rows are committed, with an error
// wrapping ErrFenced, ErrSeatSold or an unavailable-coded error otherwise.
// It is called from the writer goroutine and must not block; after Close
// it is called from Submit itself with ErrClosed.
func (w *JournalWriter) Submit(c boxoffice.Commit, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		done(boxoffice.ErrClosed)
		return
	}
	wasEmpty := len(w.queue) == 0
	before := w.records
	w.queue = append(w.queue, pending{c: c, done: done, at: time.Now()})
	w.records += len(c.Entries)
	full := before < w.cfg.MaxRecords && w.records >= w.cfg.MaxRecords
	company := len(w.queue) == max(w.expect, w.minBatch)
	w.mu.Unlock()
	if wasEmpty || full || company {
		w.signal()
	}
}

func (w *JournalWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close writes what is queued, stops the writer and waits for it. It is
// idempotent.
func (w *JournalWriter) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
	<-w.stopped
}

// Stats returns the writer's counters.
func (w *JournalWriter) Stats() JournalStats {
	w.mu.Lock()
	queued := len(w.queue)
	w.mu.Unlock()
	s := &w.stats
	return JournalStats{
		Batches: s.batches.Load(), Transactions: s.txs.Load(), Commits: s.commits.Load(),
		Records: s.records.Load(), Fenced: s.fenced.Load(), Failed: s.failed.Load(),
		LastRecords: int(s.lastRecords.Load()), LastCommits: int(s.lastCommits.Load()),
		LastDuration: time.Duration(s.lastDur.Load()), TotalTime: time.Duration(s.totalDur.Load()),
		Queued: queued,
	}
}

func (w *JournalWriter) run() {
	defer close(w.stopped)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		batch, ok := w.next(timer)
		if !ok {
			return
		}
		w.write(batch)
	}
}

// next blocks until a batch is due: its oldest commit has waited MaxDelay,
// it holds MaxRecords records, the writer is closing, or as many commits
// wait as the last batch had. The last rule ends the wait early when
// everyone who was going to come back has: event actors submit their next
// group as soon as the previous one is acknowledged, so under steady load
// a batch fills in microseconds, and waiting out MaxDelay would only add
// latency. At low load (last batch of one) a commit is written at once.
// ok is false once the writer is closed and the queue is empty.
func (w *JournalWriter) next(timer *time.Timer) (batch []pending, ok bool) {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			closed := w.closed
			w.mu.Unlock()
			if closed {
				return nil, false
			}
			<-w.wake
			continue
		}
		wait := time.Until(w.queue[0].at.Add(w.cfg.MaxDelay))
		if w.minBatch > 0 && len(w.queue) < w.minBatch && !w.closed && w.records < w.cfg.MaxRecords {
			wait = time.Hour // tests: the batch is due only when the chosen commits are all queued
		}
		if w.closed || w.records >= w.cfg.MaxRecords || wait <= 0 || len(w.queue) >= max(w.expect, w.minBatch) {
			batch = w.take()
			w.expect = len(batch)
			w.mu.Unlock()
			return batch, true
		}
		w.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-w.wake:
			timer.Stop() // Go 1.23+: no stale tick can be received after Stop
		case <-timer.C:
		}
	}
}

// take removes the next batch from the queue: commits in order until
// MaxRecords records, at least one. The caller holds mu.
func (w *JournalWriter) take() []pending {
	n, records := 0, 0
	for n < len(w.queue) && (n == 0 || records+len(w.queue[n].c.Entries) <= w.cfg.MaxRecords) {
		records += len(w.queue[n].c.Entries)
		n++
	}
	batch := make([]pending, n)
	copy(batch, w.queue[:n])
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	w.records -= records
	return batch
}

// ReadJournal calls fn for every record of the event with a version
// greater than after, in ascending version order, streaming rows (one per
// commit, see journal_format.go) rather than loading them all. An error
// from fn stops the read and is returned as is.
func (db *DB) ReadJournal(ctx context.Context, eventID uuid.UUID, after uint64, fn func(boxoffice.Entry) error) error {
	rows, err := db.pool.Query(ctx, `
		SELECT first_version, last_version, records FROM journal
		WHERE event_id = $1 AND last_version > $2 ORDER BY last_version`,
		eventID, int64(after))
	if err != nil {
		return wrap("read journal", err)
	}
	defer rows.Close()
	var fnErr error
	for rows.Next() {
		var first, last int64
		var recs []byte
		if err := rows.Scan(&first, &last, &recs); err != nil {
			return wrap("read journal", err)
		}
		err := eachRecord(uint64(first), uint64(last), recs, after+1, func(e boxoffice.Entry) error {
			if err := fn(e); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return fmt.Errorf("persistence: read journal of event %s: %w", eventID, err)
		}
	}
	return wrap("read journal", rows.Err())
}

// JournalVersions lists an event's journal versions in ascending order, for
// gap checks (I5) in tests and `boxoffice check`.
func (db *DB) JournalVersions(ctx context.Context, eventID uuid.UUID) ([]uint64, error) {
	rows, err := db.pool.Query(ctx, `SELECT first_version, last_version FROM journal WHERE event_id = $1 ORDER BY last_version`, eventID)
	if err != nil {
		return nil, wrap("read journal versions", err)
	}
	var out []uint64
	var first, last int64
	_, err = pgx.ForEachRow(rows, []any{&first, &last}, func() error {
		for v := first; v <= last; v++ {
			out = append(out, uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, wrap("read journal versions", err)
	}
	return out, nil
}
