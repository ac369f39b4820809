package search

import (
	"fmt"
	"time"
)

// Config tunes one node's catalog index. The zero value is not useful; start
// from DefaultConfig.
type Config struct {
	// Path is the directory that holds the index. "" keeps the index in
	// memory only (tests, a throw-away node): it is empty after every start
	// and must be rebuilt. On disk the directory holds one generation
	// subdirectory per build and a CURRENT file naming the live one, so that
	// Rebuild can build beside the live index and switch atomically.
	Path string

	// Durable makes Apply and ApplyBatch return only once the change is
	// persisted on disk. The catalog stream acknowledges a message after
	// Apply, so an acknowledged change survives a crash only when this is
	// set. It costs a disk sync per call (batch your writes); it has no
	// effect in memory.
	Durable bool

	// BatchSize is how many listings Rebuild asks its source for, and
	// indexes, at a time. Larger batches index faster per document (fewer,
	// larger segments) but hold more in memory.
	BatchSize int

	// FuzzyPrefix is how many leading characters of a query word must match
	// exactly before typo tolerance applies. 0 also forgives a wrong first
	// letter; 1 or 2 shrink the term dictionary each fuzzy word has to walk,
	// which matters with millions of distinct words.
	FuzzyPrefix int

	// MaxWindow bounds (page-1)*page_size+page_size. Deep pages cost memory
	// and time proportional to their depth in every query, so they are
	// refused (400) past this window, like Elasticsearch's
	// max_result_window.
	MaxWindow int

	// MaxConcurrentSearches bounds how many searches run at once; the rest
	// wait their turn in arrival order. A search is pure CPU, so more of them
	// than cores only makes each slower: Go's scheduler time-slices them
	// in 10 ms quanta, which turned 16 concurrent clients on 2 cores into
	// a p99 of ~80 ms for queries that take 0.3 ms alone. 0 means
	// GOMAXPROCS.
	MaxConcurrentSearches int

	// SlowQuery, if positive, is the latency above which Search reports a
	// query to OnSlowQuery.
	SlowQuery time.Duration

	// OnSlowQuery receives queries slower than SlowQuery; nil drops them.
	// It runs on the searching goroutine and must not block.
	OnSlowQuery func(q Query, took time.Duration)
}

// DefaultConfig returns a durable on-disk configuration at path ("" for
// memory) with the tuning the benchmarks settled on (see doc.go).
func DefaultConfig(path string) Config {
	return Config{
		Path:        path,
		Durable:     true,  // acknowledged stream messages survive a crash
		BatchSize:   5000,  // a few MB per batch; larger did not build faster
		FuzzyPrefix: 0,     // keep first-letter typos findable; see doc.go
		MaxWindow:   10000, // page 500 at page_size 20, page 100 at 100
		SlowQuery:   250 * time.Millisecond,
		// MaxConcurrentSearches 0: one search per core.
	}
}

// Validate reports the first out-of-range field.
func (c Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > 100_000:
		return fmt.Errorf("search config: BatchSize %d not in 1..100000", c.BatchSize)
	case c.FuzzyPrefix < 0 || c.FuzzyPrefix > 8:
		return fmt.Errorf("search config: FuzzyPrefix %d not in 0..8", c.FuzzyPrefix)
	case c.MaxWindow < MaxPageSize:
		return fmt.Errorf("search config: MaxWindow %d below the largest page (%d)", c.MaxWindow, MaxPageSize)
	case c.MaxConcurrentSearches < 0:
		return fmt.Errorf("search config: MaxConcurrentSearches %d is negative", c.MaxConcurrentSearches)
	case c.SlowQuery < 0:
		return fmt.Errorf("search config: SlowQuery %v is negative", c.SlowQuery)
	}
	return nil
}
