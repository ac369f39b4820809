package search

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice"
)

// Sort orders of GET /search.
const (
	SortRelevance = "relevance" // best text match first; the default with q
	SortDate      = "date"      // soonest start first; the default without q
	SortDistance  = "distance"  // nearest first; needs Near
)

// Paging and input bounds of GET /search.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// DefaultRadiusKm is the radius of near without radius_km.
	DefaultRadiusKm = 50.0
	// MaxRadiusKm is half the Earth's circumference: every point is within it.
	MaxRadiusKm = 20_038.0
	// MaxTextBytes and MaxTextWords bound q, since every word of q costs a
	// fuzzy walk of four term dictionaries.
	MaxTextBytes = 256
	MaxTextWords = 12
	// maxKeyBytes bounds type and city.
	maxKeyBytes = 128
)

// Years a start time may fall in: bleve stores datetimes as Unix
// nanoseconds, which cover 1677..2262.
const (
	minYear = 1700
	maxYear = 2200
)

// Query is a parsed GET /search request. Zero fields mean "no filter";
// Search fills in the defaults of Page, PageSize and Sort.
type Query struct {
	// Text is free text over event name, performer, venue and city. Every
	// word must match one of them, exactly or within a typo or two.
	Text string
	// Type is an event type (concert, sports, ...), matched exactly but
	// without regard to case.
	Type string
	// City is matched exactly, without regard to case or accents.
	City string
	// Near, with RadiusKm, keeps events within that distance of a point.
	Near     *boxoffice.Location
	RadiusKm float64
	// From and To bound the event's start, both inclusive; zero is open.
	From, To time.Time
	// Page counts from 1; PageSize is 1..MaxPageSize.
	Page, PageSize int
	// Sort is SortRelevance, SortDate or SortDistance.
	Sort string
}

// ParseQuery reads the query parameters of GET /search (API.md). An empty
// parameter counts as absent; unknown parameters are ignored. A bad value
// is an invalid_argument *boxoffice.Error naming the parameter in
// details.field.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var err error
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }

	q.Text = get("q")
	if len(q.Text) > MaxTextBytes {
		return q, boxoffice.InvalidField("q", "q is at most %d bytes", MaxTextBytes)
	}
	if q.Type, err = parseKey("type", get("type")); err != nil {
		return q, err
	}
	if q.City, err = parseKey("city", get("city")); err != nil {
		return q, err
	}
	if q.Near, err = parseNear(get("near")); err != nil {
		return q, err
	}
	if q.RadiusKm, err = parseRadius(get("radius_km"), q.Near != nil); err != nil {
		return q, err
	}
	if q.From, err = parseTime("from", get("from"), false); err != nil {
		return q, err
	}
	if q.To, err = parseTime("to", get("to"), true); err != nil {
		return q, err
	}
	if q.Page, err = parseInt("page", get("page"), 1, math.MaxInt32); err != nil {
		return q, err
	}
	if q.PageSize, err = parseInt("page_size", get("page_size"), 1, MaxPageSize); err != nil {
		return q, err
	}
	q.Sort = get("sort")
	return q.normalize()
}

// normalize fills in defaults and checks what relates several fields; it
// is also how Search validates a Query built in Go.
func (q Query) normalize() (Query, error) {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PageSize == 0 {
		q.PageSize = DefaultPageSize
	}
	if q.Page < 1 {
		return q, boxoffice.InvalidField("page", "page counts from 1")
	}
	if q.PageSize < 1 || q.PageSize > MaxPageSize {
		return q, boxoffice.InvalidField("page_size", "page_size must be 1..%d", MaxPageSize)
	}
	if q.Near != nil && q.RadiusKm == 0 {
		q.RadiusKm = DefaultRadiusKm
	}
	if q.Near == nil && q.RadiusKm != 0 {
		return q, boxoffice.InvalidField("radius_km", "radius_km needs near")
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return q, boxoffice.InvalidField("to", "to is before from")
	}
	q.From, q.To = clampTime(q.From), clampTime(q.To)
	switch q.Sort {
	case "":
		q.Sort = SortDate
		if q.Text != "" {
			q.Sort = SortRelevance
		}
	case SortRelevance, SortDate:
	case SortDistance:
		if q.Near == nil {
			return q, boxoffice.InvalidField("sort", "sort=distance needs near")
		}
	default:
		return q, boxoffice.InvalidField("sort", "sort must be relevance, date or distance")
	}
	return q, nil
}

func parseKey(field, s string) (string, error) {
	if len(s) > maxKeyBytes {
		return "", boxoffice.InvalidField(field, "%s is at most %d bytes", field, maxKeyBytes)
	}
	return s, nil
}

// parseNear reads "lat,lon" in decimal degrees.
func parseNear(s string) (*boxoffice.Location, error) {
	if s == "" {
		return nil, nil
	}
	const msg = "near must be <lat>,<lon> in decimal degrees"
	latS, lonS, ok := strings.Cut(s, ",")
	if !ok {
		return nil, boxoffice.InvalidField("near", msg)
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(lonS), 64)
	if err1 != nil || err2 != nil || !finite(lat) || !finite(lon) {
		return nil, boxoffice.InvalidField("near", msg)
	}
	loc := boxoffice.Location{Lat: lat, Lon: lon}
	if loc.Validate() != nil {
		return nil, boxoffice.InvalidField("near", "near must have lat in [-90,90] and lon in [-180,180]")
	}
	return &loc, nil
}

func parseRadius(s string, haveNear bool) (float64, error) {
	if s == "" {
		return 0, nil
	}
	if !haveNear {
		return 0, boxoffice.InvalidField("radius_km", "radius_km needs near")
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(r) || r <= 0 || r > MaxRadiusKm {
		return 0, boxoffice.InvalidField("radius_km", "radius_km must be a number in (0, %g]", MaxRadiusKm)
	}
	return r, nil
}

// parseTime reads RFC 3339 or YYYY-MM-DD (UTC). A bare date as an upper
// bound means the end of that day.
func parseTime(field, s string, upper bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, boxoffice.InvalidField(field, "%s must be RFC 3339 or YYYY-MM-DD", field)
	}
	if upper {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

// clampTime keeps a bound inside what the index can compare; beyond it
// every stored start is on one side anyway.
func clampTime(t time.Time) time.Time {
	lo := time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(maxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	switch {
	case t.IsZero():
		return t
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}

func parseInt(field, s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, boxoffice.InvalidField(field, "%s must be an integer in %d..%d", field, lo, hi)
	}
	return n, nil
}
