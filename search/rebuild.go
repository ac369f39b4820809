package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Source pages through the whole catalog in EventID order: it returns up
// to limit listings whose EventID is greater than after (uuid.Nil first),
// and fewer than limit only on the last page. persistence/ implements it
// with a keyset query.
type Source func(ctx context.Context, after uuid.UUID, limit int) ([]boxoffice.Listing, error)

// ErrRebuilding is returned by Index.Rebuild while another one runs.
var ErrRebuilding = errors.New("search: a rebuild is already running")

// Rebuild builds a complete index from src into a fresh generation under
// cfg.Path and makes it the live one, which an Index open on the old
// generation deletes when it is closed. progress, if not nil, gets the
// running count of listings indexed after each page, one call at a time
// from the build's goroutines. On error or when ctx ends, the partial
// build is deleted and the old generation stays live.
//
// Use it when no Index is open yet; to rebuild under a running node, use
// Index.Rebuild, which also keeps the changes applied meanwhile.
func Rebuild(ctx context.Context, cfg Config, src Source, progress func(done int)) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ix, err := newIndex(cfg)
	if err != nil {
		return nil, err
	}
	bi, gen, err := build(ctx, cfg, ix.mapping, ix.docs(), src, progress)
	if err != nil {
		return nil, err
	}
	if err := gen.commit(); err != nil {
		_ = bi.Close()
		gen.remove()
		return nil, err
	}
	ix.bi, ix.gen = bi, gen
	return ix, nil
}

// Rebuild replaces the index's contents with a complete build from src
// while the index keeps serving searches and accepting Apply. Changes
// applied during the build are replayed onto the new generation (revisions
// keep that correct) before it is swapped in, so none is lost. It returns
// ErrRebuilding if a rebuild is already running, ErrClosed, or the build's
// error (the old contents then stay).
func (ix *Index) Rebuild(ctx context.Context, src Source, progress func(done int)) error {
	ix.wmu.Lock()
	if ix.rebuilding {
		ix.wmu.Unlock()
		return ErrRebuilding
	}
	ix.rebuilding, ix.pending = true, nil
	ix.wmu.Unlock()
	defer func() {
		ix.wmu.Lock()
		ix.rebuilding, ix.pending = false, nil
		ix.wmu.Unlock()
	}()

	bi, gen, err := build(ctx, ix.cfg, ix.mapping, ix.docs(), src, progress)
	if err != nil {
		return err
	}
	old, err := ix.swap(bi, gen)
	if err != nil {
		_ = bi.Close()
		gen.remove()
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("search: close replaced index: %w", err)
	}
	old.gen.removeIfSuperseded()
	return nil
}

// retired is the bleve index and generation a swap replaced.
type retired struct {
	bleve.Index
	gen generation
}

// swap replays the pending changes onto bi, makes gen live and bi the
// index searches use, and returns what it replaced. Searches wait for the
// swap (a rename and two fsyncs), never see a half-replayed index.
func (ix *Index) swap(bi bleve.Index, gen generation) (retired, error) {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	for p := ix.pending; len(p) > 0; {
		n := min(len(p), ix.cfg.BatchSize)
		if _, err := applyNewer(bi, ix.docs(), p[:n]); err != nil {
			return retired{}, err
		}
		p = p[n:]
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// Check before committing: CURRENT must never name a generation that
	// the caller then deletes.
	if ix.closed {
		return retired{}, ErrClosed
	}
	if err := gen.commit(); err != nil {
		return retired{}, err
	}
	old := retired{Index: ix.bi, gen: ix.gen}
	ix.bi, ix.gen = bi, gen
	return old, nil
}

// build fills a new generation from src. Batches do not wait for the disk
// (the generation is not live yet); once all are persisted the segments
// are merged into one, and the index is reopened with cfg's durability.
func build(ctx context.Context, cfg Config, im mapping.IndexMapping, d docBuilder, src Source, progress func(int)) (bleve.Index, generation, error) {
	gen := newGeneration(cfg.Path)
	if cfg.Path != "" {
		if _, _, err := currentGeneration(cfg.Path); err != nil {
			return nil, gen, err
		}
	}
	bi, err := createBleve(dirOf(gen), im, true)
	if err != nil {
		return nil, gen, err
	}
	fail := func(err error) (bleve.Index, generation, error) {
		_ = bi.Close()
		gen.remove()
		return nil, generation{}, err
	}
	if err := fill(ctx, bi, d, cfg.BatchSize, src, progress); err != nil {
		return fail(err)
	}
	if cfg.Path == "" {
		return bi, gen, nil
	}
	if err := waitPersisted(ctx, bi); err != nil {
		return fail(err)
	}
	if err := forceMerge(ctx, bi); err != nil {
		return fail(err)
	}
	if err := waitPersisted(ctx, bi); err != nil { // records the merged segment
		return fail(err)
	}
	if err := bi.Close(); err != nil {
		gen.remove()
		return nil, generation{}, fmt.Errorf("search: close build: %w", err)
	}
	bi, err = bleve.OpenUsing(gen.dir(), runtimeConfig(!cfg.Durable))
	if err != nil {
		gen.remove()
		return nil, generation{}, fmt.Errorf("search: reopen build: %w", err)
	}
	return bi, gen, nil
}

func dirOf(g generation) string {
	if g.root == "" {
		return ""
	}
	return g.dir()
}

// fill pages through src into bi. Pages are read in order (keyset paging
// needs the previous page's last ID) and indexed by one worker per CPU:
// scorch builds a batch's segment on the calling goroutine, so concurrent
// batches are what keeps every core busy. progress is called under a
// mutex, one call at a time.
func fill(ctx context.Context, bi bleve.Index, d docBuilder, limit int, src Source, progress func(int)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pages := make(chan []boxoffice.Listing)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards done and serialises progress
		done int
	)
	for range buildWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page := range pages {
				if err := indexPage(bi, d, page); err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				done += len(page)
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		}()
	}
	err := readPages(ctx, limit, src, pages)
	close(pages)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // a worker's error
	}
	return err
}

// buildWorkers is how many batches a rebuild indexes at once.
func buildWorkers() int { return min(max(runtime.GOMAXPROCS(0), 1), 4) }

// readPages feeds src's pages to out until the last one or ctx ends.
func readPages(ctx context.Context, limit int, src Source, out chan<- []boxoffice.Listing) error {
	after := uuid.Nil
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search: rebuild: %w", err)
		}
		page, err := src(ctx, after, limit)
		if err != nil {
			return fmt.Errorf("search: rebuild source after %s: %w", after, err)
		}
		select {
		case out <- page:
		case <-ctx.Done():
			return fmt.Errorf("search: rebuild: %w", ctx.Err())
		}
		if len(page) < limit {
			return nil
		}
		last := page[len(page)-1].EventID
		if bytes.Compare(last[:], after[:]) <= 0 {
			return fmt.Errorf("search: rebuild source did not advance past %s", after)
		}
		after = last
	}
}

// indexPage writes one page of a fresh build: no revision checks (the
// index is new and keyset paging yields each event once), deleted
// listings skipped.
func indexPage(bi bleve.Index, d docBuilder, page []boxoffice.Listing) error {
	b := bi.NewBatch()
	for _, l := range page {
		if l.Deleted {
			continue
		}
		if err := validListing(l); err != nil {
			return fmt.Errorf("search: rebuild: %w", err)
		}
		doc, err := d.newDocument(l)
		if err != nil {
			return err
		}
		if err := b.IndexAdvanced(doc); err != nil {
			return fmt.Errorf("search: rebuild: index %s: %w", l.EventID, err)
		}
	}
	if b.Size() == 0 {
		return nil
	}
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("search: rebuild: write batch: %w", err)
	}
	return nil
}

// forceMerge merges the fresh build into one segment. Every query pays per
// segment (a term dictionary and a doc-values lookup in each), so a
// rebuilt index starts with the fewest; later updates add small segments
// that scorch's background merger folds in.
func forceMerge(ctx context.Context, bi bleve.Index) error {
	adv, err := bi.Advanced()
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	// bleve's single-segment plan merges at most 10 segments per task and
	// plans once: a rebuild has more, so let one task take them all.
	opts := mergeplan.SingleSegmentMergePlanOptions
	opts.SegmentsPerMergeTask = 1 << 20
	if err := s.ForceMerge(ctx, &opts); err != nil {
		return fmt.Errorf("search: rebuild: merge: %w", err)
	}
	return nil
}

// waitPersisted returns once everything written to bi so far is on disk.
func waitPersisted(ctx context.Context, bi bleve.Index) error {
	done := make(chan error, 1)
	b := bi.NewBatch()
	b.SetInternal([]byte("boxoffice/built"), []byte(mappingVersion))
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("search: rebuild: flush: %w", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("search: rebuild: persist: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("search: rebuild: %w", ctx.Err())
	}
}
