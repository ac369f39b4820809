package search

import (
	"encoding/binary"
	"testing"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// forwardOnly is a child searcher over doc numbers that fails the test if
// it is ever moved backwards or asked again once exhausted: with scorch,
// either restarts the postings from the beginning.
type forwardOnly struct {
	t    *testing.T
	docs []uint64
	i    int // index of the next doc to return
}

func docNum(n uint64) index.IndexInternalID { return binary.BigEndian.AppendUint64(nil, n) }

func (f *forwardOnly) match(ctx *search.SearchContext) *search.DocumentMatch {
	if f.i >= len(f.docs) {
		f.i++ // a second call past the end is a bug
		return nil
	}
	d := ctx.DocumentMatchPool.Get()
	d.IndexInternalID = docNum(f.docs[f.i])
	f.i++
	return d
}

func (f *forwardOnly) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if f.i > len(f.docs) {
		f.t.Errorf("Next on an exhausted child")
	}
	return f.match(ctx), nil
}

func (f *forwardOnly) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	target := binary.BigEndian.Uint64(id)
	if f.i > len(f.docs) {
		f.t.Errorf("Advance(%d) on an exhausted child", target)
	}
	if f.i > 0 && f.i <= len(f.docs) && f.docs[f.i-1] >= target {
		f.t.Errorf("Advance(%d) backwards: the child is at %d", target, f.docs[f.i-1])
	}
	for f.i < len(f.docs) && f.docs[f.i] < target {
		f.i++
	}
	return f.match(ctx), nil
}

func (f *forwardOnly) Close() error               { return nil }
func (f *forwardOnly) Weight() float64            { return 1 }
func (f *forwardOnly) SetQueryNorm(float64)       {}
func (f *forwardOnly) Count() uint64              { return uint64(len(f.docs)) }
func (f *forwardOnly) Min() int                   { return 0 }
func (f *forwardOnly) Size() int                  { return 0 }
func (f *forwardOnly) DocumentMatchPoolSize() int { return 1 }

func TestRingSearcherNeverRewinds(t *testing.T) {
	var docs []uint64
	for n := uint64(1); n <= 100; n++ {
		docs = append(docs, n)
	}
	child := &forwardOnly{t: t, docs: docs}
	// Only every tenth event is inside the circle, and none after 50: the
	// tail is what a conjunction used to make the filter re-scan.
	inside := func(d *search.DocumentMatch) bool {
		n := binary.BigEndian.Uint64(d.IndexInternalID)
		return n%10 == 0 && n <= 50
	}
	s := &ringSearcher{child: child, within: inside}
	ctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(4, 0)}

	steps := []struct {
		advance uint64 // 0: Next
		want    uint64 // 0: no match
	}{
		{0, 10}, {11, 20}, {21, 30}, {0, 40}, {45, 50}, {51, 0}, {60, 0}, {0, 0}, {99, 0},
	}
	for _, st := range steps {
		var d *search.DocumentMatch
		var err error
		if st.advance == 0 {
			d, err = s.Next(ctx)
		} else {
			d, err = s.Advance(ctx, docNum(st.advance))
		}
		if err != nil {
			t.Fatal(err)
		}
		got := uint64(0)
		if d != nil {
			got = binary.BigEndian.Uint64(d.IndexInternalID)
		}
		if got != st.want {
			t.Errorf("advance %d: got %d, want %d", st.advance, got, st.want)
		}
	}
}
