package search

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("search: index closed")

// Index is one node's catalog index: a bleve index of Listings, written by
// the catalog stream (Apply) and by rebuilds, read by GET /search. All its
// methods are safe for concurrent use.
type Index struct {
	cfg     Config
	mapping *mapping.IndexMappingImpl
	text    analysis.Analyzer // analyzerText, for q
	key     analysis.Analyzer // analyzerKey, for type and city

	// wmu serialises writers, so that Apply's read-revision-then-write is
	// atomic and a hot Rebuild can swap without losing a change. Lock order:
	// wmu before mu.
	wmu sync.Mutex
	// pending collects what writers applied while a hot Rebuild runs, to
	// replay onto the new index before it is swapped in; nil otherwise.
	// Guarded by wmu.
	pending []boxoffice.Listing
	// rebuilding is set while a hot Rebuild runs. Guarded by wmu.
	rebuilding bool

	// mu guards the live bleve index and its generation: searches and
	// writes hold it shared, Close and the swap of a Rebuild exclusively.
	mu     sync.RWMutex
	bi     bleve.Index
	gen    generation
	closed bool

	// slots admits MaxConcurrentSearches searches at a time, in FIFO order
	// (a channel queues its blocked senders).
	slots chan struct{}

	// availMu guards avail, the seat engine's latest available-seat counts.
	availMu sync.RWMutex
	avail   map[uuid.UUID]availability
}

// availability is one event's available-seat count at the seat engine's
// version; counts read from the store at start carry version 0, so any
// report of the engine replaces them.
type availability struct {
	available int
	version   uint64
}

// Open opens the index at cfg.Path, or creates an empty one (also when the
// directory holds an index built with an older mapping: the caller sees
// Count() == 0 and rebuilds). Path "" gives an in-memory index. Close it
// when done.
func Open(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ix, err := newIndex(cfg)
	if err != nil {
		return nil, err
	}
	bi, gen, err := openLive(cfg, ix.mapping)
	if err != nil {
		return nil, err
	}
	ix.bi, ix.gen = bi, gen
	return ix, nil
}

// docs builds documents with the index's analyzers.
func (ix *Index) docs() docBuilder { return docBuilder{text: ix.text, key: ix.key} }

// newIndex prepares an Index without a bleve index behind it.
func newIndex(cfg Config) (*Index, error) {
	im, err := newMapping()
	if err != nil {
		return nil, err
	}
	n := cfg.MaxConcurrentSearches
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ix := &Index{cfg: cfg, mapping: im, avail: make(map[uuid.UUID]availability), slots: make(chan struct{}, n)}
	ix.text = im.AnalyzerNamed(analyzerText)
	ix.key = im.AnalyzerNamed(analyzerKey)
	if ix.text == nil || ix.key == nil {
		return nil, fmt.Errorf("search: analyzers not registered")
	}
	return ix, nil
}

// openLive opens the live generation under cfg.Path, or creates one.
func openLive(cfg Config, im mapping.IndexMapping) (bleve.Index, generation, error) {
	if cfg.Path == "" {
		bi, err := createBleve("", im, !cfg.Durable)
		return bi, generation{}, err
	}
	gen, ok, err := currentGeneration(cfg.Path)
	if err != nil {
		return nil, generation{}, err
	}
	if ok {
		bi, err := bleve.OpenUsing(gen.dir(), runtimeConfig(!cfg.Durable))
		if err != nil {
			return nil, generation{}, fmt.Errorf("search: open %s: %w", gen.dir(), err)
		}
		removeStaleGenerations(cfg.Path, gen.Name)
		return bi, gen, nil
	}
	gen = newGeneration(cfg.Path)
	bi, err := createBleve(gen.dir(), im, !cfg.Durable)
	if err != nil {
		return nil, generation{}, err
	}
	if err := gen.commit(); err != nil {
		_ = bi.Close()
		return nil, generation{}, err
	}
	removeStaleGenerations(cfg.Path, gen.Name)
	return bi, gen, nil
}

// createBleve makes an empty scorch index at dir ("" for memory). Scorch in
// memory, rather than bleve's NewMemOnly (upsidedown), keeps the in-memory
// index's behaviour, including typo matching, identical to the on-disk one.
func createBleve(dir string, im mapping.IndexMapping, unsafe bool) (bleve.Index, error) {
	bi, err := bleve.NewUsing(dir, im, scorch.Name, scorch.Name, runtimeConfig(unsafe))
	if err != nil {
		return nil, fmt.Errorf("search: create index %q: %w", dir, err)
	}
	return bi, nil
}

// runtimeConfig is scorch's configuration: unsafe batches return once the
// change is searchable, without waiting for it to reach the disk.
func runtimeConfig(unsafe bool) map[string]any {
	return map[string]any{"unsafe_batch": unsafe}
}

// Count returns how many events the index holds.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	n, err := ix.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// SetAvailability records the seat engine's count of available seats for an
// event at version. Reports cross the bus unordered, so a count older than
// the one held is ignored: a late report never undoes a newer one. Results
// show it instead of the stored capacity.
func (ix *Index) SetAvailability(eventID uuid.UUID, available int, version uint64) {
	ix.availMu.Lock()
	defer ix.availMu.Unlock()
	if cur, ok := ix.avail[eventID]; ok && cur.version > version {
		return
	}
	ix.avail[eventID] = availability{available: max(available, 0), version: version}
}

// SeedAvailability fills in counts read from the store (an idle event's
// grain reports nothing until its seats change, so a node that starts would
// otherwise show such events at full capacity). A count the seat engine
// reported meanwhile is newer and stays.
func (ix *Index) SeedAvailability(counts map[uuid.UUID]int) {
	ix.availMu.Lock()
	defer ix.availMu.Unlock()
	for id, n := range counts {
		if _, ok := ix.avail[id]; !ok {
			ix.avail[id] = availability{available: max(n, 0)}
		}
	}
}

// availability returns the overlay count of each listing, or its capacity.
func (ix *Index) availability(ls []boxoffice.Listing) []int {
	out := make([]int, len(ls))
	ix.availMu.RLock()
	defer ix.availMu.RUnlock()
	for i, l := range ls {
		if a, ok := ix.avail[l.EventID]; ok {
			out[i] = a.available
		} else {
			out[i] = l.Capacity
		}
	}
	return out
}

// forgetAvailability drops overlay entries of deleted events.
func (ix *Index) forgetAvailability(ids []uuid.UUID) {
	if len(ids) == 0 {
		return
	}
	ix.availMu.Lock()
	for _, id := range ids {
		delete(ix.avail, id)
	}
	ix.availMu.Unlock()
}

// Close closes the index; later calls return nil. An index that a Rebuild
// has superseded on disk also deletes its directory.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	err := ix.bi.Close()
	ix.gen.removeIfSuperseded()
	if err != nil {
		return fmt.Errorf("search: close: %w", err)
	}
	return nil
}
