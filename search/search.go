package search

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/boxoffice/boxoffice"
)

// Result is one page of search hits.
type Result struct {
	// Total counts every match, not just this page.
	Total    uint64
	Page     int
	PageSize int
	// Hits are the listings of this page, in order.
	Hits []boxoffice.Listing
	// Available is, for each hit, the seat engine's latest count of
	// available seats (SetAvailability), else the event's capacity.
	Available []int
	// At is when the search ran; results show each event's status then.
	At time.Time
}

// Search runs q (from ParseQuery, or built in Go and checked the same way).
// It returns an invalid_argument *boxoffice.Error for a bad query, the
// context's error if ctx ends first, ErrClosed, or an index error.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	start := time.Now()
	q, err := q.normalize()
	if err != nil {
		return Result{}, err
	}
	if err := q.check(ix.cfg); err != nil {
		return Result{}, err
	}
	res := Result{Page: q.Page, PageSize: q.PageSize, Hits: []boxoffice.Listing{}, Available: []int{}, At: time.Now()}
	bq, err := ix.buildQuery(q)
	if err != nil || bq == nil {
		return res, err // nil query: q had no searchable word, nothing matches
	}
	req, err := newRequest(bq, q)
	if err != nil {
		return res, err
	}

	select {
	case ix.slots <- struct{}{}:
		defer func() { <-ix.slots }()
	case <-ctx.Done():
		return res, fmt.Errorf("search: %w", ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("search: %w", err)
	}
	ix.mu.RLock()
	if ix.closed {
		ix.mu.RUnlock()
		return res, ErrClosed
	}
	sr, err := ix.bi.SearchInContext(ctx, req)
	ix.mu.RUnlock()
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("search: %w", ctx.Err())
		}
		return res, fmt.Errorf("search: %w", err)
	}
	if err := fillHits(&res, sr); err != nil {
		return res, err
	}
	res.Available = ix.availability(res.Hits)
	if took := time.Since(start); ix.cfg.SlowQuery > 0 && took > ix.cfg.SlowQuery && ix.cfg.OnSlowQuery != nil {
		ix.cfg.OnSlowQuery(q, took)
	}
	return res, nil
}

// check applies the index's own limits to a normalized query.
func (q Query) check(cfg Config) error {
	if q.Page > cfg.MaxWindow/q.PageSize {
		return boxoffice.InvalidField("page", "only the first %d results can be paged through; narrow the search", cfg.MaxWindow)
	}
	if len(q.Text) > MaxTextBytes {
		return boxoffice.InvalidField("q", "q is at most %d bytes", MaxTextBytes)
	}
	if q.Near != nil {
		if !finite(q.Near.Lat) || !finite(q.Near.Lon) || q.Near.Validate() != nil {
			return boxoffice.InvalidField("near", "near must have lat in [-90,90] and lon in [-180,180]")
		}
		if !finite(q.RadiusKm) || q.RadiusKm <= 0 || q.RadiusKm > MaxRadiusKm {
			return boxoffice.InvalidField("radius_km", "radius_km must be a number in (0, %g]", MaxRadiusKm)
		}
	}
	return nil
}

// buildQuery turns q into one bleve query: the text query and every
// filter. It returns nil when q.Text has no searchable word.
func (ix *Index) buildQuery(q Query) (query.Query, error) {
	var text query.Query
	if q.Text != "" {
		tq, err := ix.textQuery(q.Text)
		if err != nil || tq == nil {
			return nil, err
		}
		text = tq
	}
	filters := ix.filters(q)
	switch {
	case text == nil && len(filters) == 0:
		return query.NewMatchAllQuery(), nil
	case text == nil:
		return conjunction(filters), nil
	case len(filters) == 0:
		return text, nil
	case q.Sort == SortRelevance:
		// Filters must not score: cell terms differ in weight, and terms
		// without norms (cells) score NaN in bleve; either reorders the
		// text matches. The text query drives and each of its hits is
		// checked against the filters.
		bq := query.NewBooleanQuery([]query.Query{text}, nil, nil)
		bq.AddFilter(conjunction(filters))
		return bq, nil
	}
	// Without scoring, a conjunction lets the most selective part drive.
	return conjunction(append([]query.Query{text}, filters...)), nil
}

// filters are the type, city, near and date parts of q.
func (ix *Index) filters(q Query) []query.Query {
	var parts []query.Query
	if q.Type != "" {
		parts = append(parts, termQuery(ix.keyTerm(q.Type), fieldType, 0))
	}
	if q.City != "" {
		parts = append(parts, termQuery(ix.keyTerm(q.City), fieldCityKey, 0))
	}
	if q.Near != nil {
		parts = append(parts, nearQuery(*q.Near, q.RadiusKm))
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		yes := true
		dq := query.NewDateRangeInclusiveQuery(q.From, q.To, &yes, &yes)
		dq.SetField(fieldStartsAt)
		parts = append(parts, dq)
	}
	return parts
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// textQuery requires every word of text to match one text field (or the
// type), each word through the disjunction of an exact term query and a
// fuzzy query whose edit distance grows with the word's length.
func (ix *Index) textQuery(text string) (query.Query, error) {
	src := []byte(text)
	tokens := ix.text.Analyze(src)
	if len(tokens) > MaxTextWords {
		return nil, boxoffice.InvalidField("q", "q has at most %d words", MaxTextWords)
	}
	seen := make(map[string]bool, len(tokens))
	var words []query.Query
	for _, tok := range tokens {
		term := string(tok.Term)
		if seen[term] {
			continue
		}
		seen[term] = true
		word := string(src[tok.Start:tok.End])
		words = append(words, ix.wordQuery(term, word))
	}
	switch len(words) {
	case 0:
		return nil, nil
	case 1:
		return words[0], nil
	}
	return query.NewConjunctionQuery(words), nil
}

// wordQuery matches one analysed term in any text field, boosted per
// field, exactly or (for terms of 4+ characters) with typos. The word as
// typed may also name the event type ("comedy berlin").
func (ix *Index) wordQuery(term, word string) query.Query {
	fuzz := fuzziness(term)
	var alts []query.Query
	for _, f := range textFields {
		alts = append(alts, termQuery(term, f.name, f.boost))
		if fuzz > 0 {
			fq := query.NewFuzzyQuery(term)
			fq.SetField(f.name)
			fq.SetFuzziness(fuzz)
			fq.SetPrefix(ix.cfg.FuzzyPrefix)
			fq.SetBoost(f.boost)
			alts = append(alts, fq)
		}
	}
	alts = append(alts, termQuery(ix.keyTerm(word), fieldType, 1))
	dq := query.NewDisjunctionQuery(alts)
	dq.SetMin(1)
	return dq
}

// fuzziness is the edit distance a term tolerates: none below 4 characters
// (too many short words are one edit apart), 1 up to 7, 2 beyond.
func fuzziness(term string) int {
	switch n := utf8.RuneCountInString(term); {
	case n < 4:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

func termQuery(term, field string, boost float64) *query.TermQuery {
	tq := query.NewTermQuery(term)
	tq.SetField(field)
	if boost > 0 {
		tq.SetBoost(boost)
	}
	return tq
}

// keyTerm folds a type or city the way the index did.
func (ix *Index) keyTerm(s string) string {
	toks := ix.key.Analyze([]byte(s))
	if len(toks) == 0 {
		return ""
	}
	return string(toks[0].Term)
}

// newRequest sets paging, sort and the one stored field a hit needs. Every
// order ends with the starts key, which the event-ID suffix makes unique,
// so the order is total: pages never overlap or skip a hit, and any two
// indexes of one catalog answer alike. (bleve's "_id" sort key would do
// the same but loads every candidate's ID from the stored fields: over a
// quarter of a text query's time.)
func newRequest(bq query.Query, q Query) (*bleve.SearchRequest, error) {
	req := bleve.NewSearchRequestOptions(bq, q.PageSize, (q.Page-1)*q.PageSize, false)
	req.Fields = []string{fieldSource}
	sort := q.Sort
	if sort == SortRelevance && q.Text == "" {
		sort = SortDate // without q every match is equally relevant
	}
	switch sort {
	case SortRelevance:
		req.SortByCustom(bsearch.SortOrder{&bsearch.SortScore{Desc: true}, startsSort()})
	case SortDate:
		req.SortByCustom(bsearch.SortOrder{startsSort()})
		req.Score = bleve.ScoreNone
	case SortDistance:
		gs, err := bsearch.NewSortGeoDistance(fieldPoint, "km", q.Near.Lon, q.Near.Lat, false)
		if err != nil {
			return nil, fmt.Errorf("search: distance sort: %w", err)
		}
		req.SortByCustom(bsearch.SortOrder{gs, startsSort()})
		req.Score = bleve.ScoreNone
	}
	return req, nil
}

// startsSort orders by start time through the one-term starts key.
func startsSort() *bsearch.SortField {
	return &bsearch.SortField{Field: fieldStartsKey, Type: bsearch.SortFieldAsString}
}

// fillHits decodes the stored listings of a bleve result.
func fillHits(res *Result, sr *bleve.SearchResult) error {
	res.Total = sr.Total
	res.Hits = make([]boxoffice.Listing, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		src, ok := h.Fields[fieldSource].(string)
		if !ok {
			return fmt.Errorf("search: hit %s has no stored listing", h.ID)
		}
		l, err := decodeSource(src)
		if err != nil {
			return err
		}
		res.Hits = append(res.Hits, l)
	}
	return nil
}
