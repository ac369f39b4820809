package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/geo"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/blevesearch/geo/s1"
	"github.com/blevesearch/geo/s2"

	"github.com/boxoffice/boxoffice"
)

// Every location is indexed twice:
//
//   - as the S2 cells that contain it, one term per level from cellMinLevel
//     to cellMaxLevel in steps of cellLevelStep (level 4 cells are ~600 km
//     across, level 16 ~150 m), and
//   - as one point term (bleve's prefix-coded Morton hash of lon/lat) kept
//     as an unchunked, uncompressed doc value, for distance checks and the
//     distance sort.
//
// A radius query splits into cells entirely inside the circle, whose
// events match without further ado, and a thin ring of boundary cells,
// whose events alone are distance-checked. bleve's own radius query
// distance-checks every candidate, which was most of a near= query's time:
// events cluster in cities, and a city usually lies well inside its circle.
const (
	cellMinLevel  = 4
	cellMaxLevel  = 16
	cellLevelStep = 2
	// cellMaxCells is the coverer's target number of cells for each of the
	// interior and the outer covering.
	cellMaxCells = 16
	// cellMargin keeps the interior cells a little inside, and the ring a
	// little outside, the radius, so that rounding differences between s2
	// and the haversine check never decide a hit.
	cellMargin = 0.005
	// earthRadiusKm is the mean Earth radius, as s2 angles are converted.
	earthRadiusKm = 6371.0088
)

// cellTerms are the index terms of a location's cells.
func cellTerms(loc boxoffice.Location) []string {
	leaf := s2.CellIDFromLatLng(s2.LatLngFromDegrees(loc.Lat, loc.Lon))
	out := make([]string, 0, (cellMaxLevel-cellMinLevel)/cellLevelStep+1)
	for l := cellMinLevel; l <= cellMaxLevel; l += cellLevelStep {
		out = append(out, leaf.Parent(l).ToToken())
	}
	return out
}

// pointTerm is a location as bleve's geo code encodes a point, so that
// bleve's distance sort can read it.
func pointTerm(loc boxoffice.Location) []byte {
	return numeric.MustNewPrefixCodedInt64(int64(geo.MortonHash(loc.Lon, loc.Lat)), 0)
}

// nearQuery matches the events within radiusKm of center: those in cells
// inside the circle, and those in the ring of boundary cells that pass a
// distance check.
func nearQuery(center boxoffice.Location, radiusKm float64) query.Query {
	c := s2.PointFromLatLng(s2.LatLngFromDegrees(center.Lat, center.Lon))
	coverer := &s2.RegionCoverer{MinLevel: cellMinLevel, MaxLevel: cellMaxLevel, LevelMod: cellLevelStep, MaxCells: cellMaxCells}
	outer := coverer.Covering(capOf(c, radiusKm*(1+cellMargin)))
	inner := coverer.InteriorCovering(capOf(c, radiusKm*(1-cellMargin)))
	ring := &ringQuery{
		cells:    indexedLevels(s2.CellUnionFromDifference(outer, inner)),
		center:   center,
		radiusKm: radiusKm,
	}
	if len(inner) == 0 {
		return ring
	}
	in := cellsQuery(indexedLevels(inner))
	if len(ring.cells) == 0 {
		return in
	}
	return query.NewDisjunctionQuery([]query.Query{in, ring})
}

func capOf(center s2.Point, radiusKm float64) s2.Cap {
	return s2.CapFromCenterAngle(center, s1.Angle(min(radiusKm/earthRadiusKm, 3.14159)))
}

// indexedLevels rewrites cells at levels the index has no terms for as
// their descendants at the next indexed level.
func indexedLevels(cells []s2.CellID) []s2.CellID {
	out := make([]s2.CellID, 0, len(cells))
	var add func(id s2.CellID)
	add = func(id s2.CellID) {
		switch l := id.Level(); {
		case l > cellMaxLevel:
			// Cannot happen (coverings stop at cellMaxLevel); a coarser ring
			// cell would only cost distance checks, never a wrong hit.
			out = append(out, id.Parent(cellMaxLevel))
		case l >= cellMinLevel && (l-cellMinLevel)%cellLevelStep == 0:
			out = append(out, id)
		default:
			for _, child := range id.Children() {
				add(child)
			}
		}
	}
	for _, id := range cells {
		add(id)
	}
	return out
}

// cellsQuery matches any of the cells.
func cellsQuery(cells []s2.CellID) query.Query {
	qs := make([]query.Query, len(cells))
	for i, id := range cells {
		qs[i] = termQuery(id.ToToken(), fieldCells, 0)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// ringQuery matches the events in its cells that lie within radiusKm of
// center. Its searcher only ever checks events of its own cells, however
// the enclosing query advances it (bleve's radius query, advanced by a
// conjunction, checks the events of the whole circle along the way).
type ringQuery struct {
	cells    []s2.CellID
	center   boxoffice.Location
	radiusKm float64
}

// Searcher implements query.Query.
func (q *ringQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	if len(q.cells) == 0 {
		return searcher.NewMatchNoneSearcher(r)
	}
	child, err := cellsQuery(q.cells).Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	dv, err := r.DocValueReader([]string{fieldPoint})
	if err != nil {
		_ = child.Close()
		return nil, fmt.Errorf("point doc values: %w", err)
	}
	var lon, lat float64
	var found bool
	visit := func(_ string, term []byte) {
		pc := numeric.PrefixCoded(term)
		if shift, err := pc.Shift(); err == nil && shift == 0 {
			if h, err := pc.Int64(); err == nil {
				lon, lat, found = geo.MortonUnhashLon(uint64(h)), geo.MortonUnhashLat(uint64(h)), true
			}
		}
	}
	within := func(d *search.DocumentMatch) bool {
		found = false
		if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil || !found {
			return false
		}
		return geo.Haversin(lon, lat, q.center.Lon, q.center.Lat) <= q.radiusKm
	}
	return &ringSearcher{child: child, within: within}, nil
}

// ringSearcher passes on the child's matches that are within the radius.
// Unlike bleve's FilteringSearcher it never moves its child backwards:
// while filtering, the child runs ahead of what the parent has seen, and a
// parent's Advance to an earlier document (or any Advance once the child
// is exhausted) makes scorch restart the postings from the beginning.
// That re-checked the same events millions of times in one query.
type ringSearcher struct {
	child  search.Searcher
	within func(*search.DocumentMatch) bool
	// at is a copy of the ID of the child's current match; nil before the
	// first. returned says whether that match went to the parent.
	at       index.IndexInternalID
	returned bool
	done     bool // the child is exhausted
}

// Next implements search.Searcher.
func (s *ringSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for !s.done {
		d, err := s.child.Next(ctx)
		if err != nil {
			return nil, err
		}
		if d, ok := s.take(ctx, d); ok {
			return d, nil
		}
	}
	return nil, nil
}

// Advance implements search.Searcher.
func (s *ringSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	if s.done {
		return nil, nil
	}
	if s.at != nil && !s.returned && s.at.Compare(id) >= 0 {
		// Already past id: the next match is ahead, not at id.
		return s.Next(ctx)
	}
	d, err := s.child.Advance(ctx, id)
	if err != nil {
		return nil, err
	}
	if d, ok := s.take(ctx, d); ok {
		return d, nil
	}
	return s.Next(ctx)
}

// take records the child's match d and reports whether it passes.
func (s *ringSearcher) take(ctx *search.SearchContext, d *search.DocumentMatch) (*search.DocumentMatch, bool) {
	if d == nil {
		s.done = true
		return nil, false
	}
	s.at = append(s.at[:0], d.IndexInternalID...)
	s.returned = s.within(d)
	if !s.returned {
		ctx.DocumentMatchPool.Put(d)
		return nil, false
	}
	return d, true
}

// Close implements search.Searcher.
func (s *ringSearcher) Close() error { return s.child.Close() }

// Weight implements search.Searcher.
func (s *ringSearcher) Weight() float64 { return s.child.Weight() }

// SetQueryNorm implements search.Searcher.
func (s *ringSearcher) SetQueryNorm(n float64) { s.child.SetQueryNorm(n) }

// Count implements search.Searcher: an upper bound, like bleve's filters.
func (s *ringSearcher) Count() uint64 { return s.child.Count() }

// Min implements search.Searcher.
func (s *ringSearcher) Min() int { return s.child.Min() }

// Size implements search.Searcher.
func (s *ringSearcher) Size() int { return s.child.Size() + len(s.at) + 64 }

// DocumentMatchPoolSize implements search.Searcher.
func (s *ringSearcher) DocumentMatchPoolSize() int { return s.child.DocumentMatchPoolSize() }
