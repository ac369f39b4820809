package search

import (
	"strconv"

	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/geo/s1"
	"github.com/blevesearch/geo/s2"

	"github.com/boxoffice/boxoffice"
)

// Every location is also indexed as the S2 cells that contain it, one term
// per level from cellMinLevel to cellMaxLevel in steps of cellLevelStep
// (level 4 cells are ~600 km across, level 16 ~150 m). A radius query
// then splits into cells entirely inside the circle, whose events match
// without further ado, and a thin ring of boundary cells, whose events
// bleve checks for distance. Without the split every candidate was
// distance-checked, which was most of a near= query's time: events
// cluster in cities, and a city usually lies well inside its circle.
const (
	cellMinLevel  = 4
	cellMaxLevel  = 16
	cellLevelStep = 2
	// cellMaxRadiusKm is the largest radius split into cells; beyond it the
	// covering needs too many terms and bleve's own radius query is used.
	cellMaxRadiusKm = 1000
	// cellMargin keeps the interior cells a little inside, and the boundary
	// ring a little outside, the radius, so that rounding differences
	// between s2 and bleve's distance never decide a hit.
	cellMargin = 0.005
	// earthRadiusKm is the mean Earth radius.
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

// nearQuery matches the events within radiusKm of center: those in cells
// inside the circle, and those in boundary cells that bleve's distance
// filter accepts.
func nearQuery(center boxoffice.Location, radiusKm float64) query.Query {
	exact := query.NewGeoDistanceQuery(center.Lon, center.Lat, strconv.FormatFloat(radiusKm, 'f', -1, 64)+"km")
	exact.SetField(fieldLocation)
	if radiusKm > cellMaxRadiusKm {
		return exact
	}
	c := s2.PointFromLatLng(s2.LatLngFromDegrees(center.Lat, center.Lon))
	coverer := &s2.RegionCoverer{MinLevel: cellMinLevel, MaxLevel: cellMaxLevel, LevelMod: cellLevelStep, MaxCells: 16}
	inner := coverer.InteriorCovering(s2.CapFromCenterAngle(c, s1.Angle(radiusKm*(1-cellMargin)/earthRadiusKm)))
	outer := coverer.Covering(s2.CapFromCenterAngle(c, s1.Angle(radiusKm*(1+cellMargin)/earthRadiusKm)))
	ring := indexedLevels(s2.CellUnionFromDifference(outer, inner))
	if len(inner) == 0 {
		return exact
	}
	parts := []query.Query{cellsQuery(inner)}
	if len(ring) > 0 {
		parts = append(parts, query.NewConjunctionQuery([]query.Query{cellsQuery(ring), exact}))
	}
	return query.NewDisjunctionQuery(parts)
}

// indexedLevels rewrites cells at levels the index has no terms for as
// their children at the next indexed level. The cells of a difference of
// two coverings are never finer than the coverings' own.
func indexedLevels(cells s2.CellUnion) []s2.CellID {
	out := make([]s2.CellID, 0, len(cells))
	var add func(id s2.CellID)
	add = func(id s2.CellID) {
		switch l := id.Level(); {
		case l > cellMaxLevel:
			// Cannot happen (coverings stop at cellMaxLevel); a coarser
			// ring cell only costs distance checks, never a wrong hit.
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
