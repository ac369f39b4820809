package search

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/boxoffice/boxoffice"
)

// mappingVersion names the index layout below. Open refuses to reuse an
// index built with another version and starts an empty one instead (which
// the node then rebuilds), so bump it whenever the mapping or the stored
// document changes.
const mappingVersion = "boxoffice-search-v1"

// Field names in the index. Text fields are analysed for q; keyword fields
// hold one folded, lower-cased token for exact filters.
const (
	fieldName      = "name"      // text: event name
	fieldPerformer = "performer" // text: performer name
	fieldVenue     = "venue"     // text: venue name
	fieldCity      = "city"      // text: city, for q
	fieldCityKey   = "city_key"  // keyword: city, for the city filter
	fieldType      = "type"      // keyword: event type
	fieldStartsAt  = "starts_at" // datetime, doc values for sorting
	fieldLocation  = "location"  // geopoint, doc values for distance sort
	fieldSource    = "src"       // stored only: the listing as JSON
)

// Analyzer names registered in the mapping (and so saved with the index).
const (
	// analyzerText is bleve's "en" (possessives, lower case, English stop
	// words, Porter stemming) behind ASCII folding, so that "Zurich" finds
	// "Zürich" and "Malmo" finds "Malmö".
	analyzerText = "boxoffice_text"
	// analyzerKey folds and lower-cases a whole value into one token, so
	// that type and city filters are exact but ignore case and accents.
	analyzerKey = "boxoffice_key"
)

// textFields are searched by q, with the query-time boost of each: a hit
// in the event name matters most.
var textFields = []struct {
	name  string
	boost float64
}{
	{fieldName, 3},
	{fieldPerformer, 2},
	{fieldVenue, 1},
	{fieldCity, 1},
}

// newMapping builds the explicit mapping: nothing is indexed dynamically,
// nothing but the source JSON is stored, and no _all field is built.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(analyzerText, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName, porter.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("text analyzer: %w", err)
	}
	err = im.AddCustomAnalyzer(analyzerKey, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     single.Name,
		"token_filters": []any{lowercase.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("key analyzer: %w", err)
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	for _, f := range textFields {
		dm.AddFieldMappingsAt(f.name, textField(f.name))
	}
	dm.AddFieldMappingsAt(fieldCityKey, keyField(fieldCityKey))
	dm.AddFieldMappingsAt(fieldType, keyField(fieldType))

	starts := bleve.NewDateTimeFieldMapping()
	starts.Store, starts.IncludeInAll, starts.DocValues = false, false, true
	dm.AddFieldMappingsAt(fieldStartsAt, starts)

	loc := bleve.NewGeoPointFieldMapping()
	loc.Store, loc.IncludeInAll, loc.DocValues = false, false, true
	dm.AddFieldMappingsAt(fieldLocation, loc)

	src := bleve.NewTextFieldMapping()
	src.Index, src.Store, src.IncludeInAll, src.DocValues = false, true, false, false
	src.IncludeTermVectors = false
	dm.AddFieldMappingsAt(fieldSource, src)

	im.DefaultMapping = dm
	im.DefaultAnalyzer = analyzerText
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}

func textField(name string) *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Name = name
	f.Analyzer = analyzerText
	// No term vectors (we never highlight) and no doc values (we never sort
	// on text): both would roughly double the size of these fields.
	f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
	return f
}

func keyField(name string) *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Name = name
	f.Analyzer = analyzerKey
	f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
	// A filter needs no norms or frequencies: every match scores the same.
	f.SkipFreqNorm = true
	return f
}

// indexDoc is what bleve indexes for one listing. Its json tags are the
// field paths of the mapping.
type indexDoc struct {
	Name      string      `json:"name"`
	Performer string      `json:"performer"`
	Venue     string      `json:"venue"`
	City      string      `json:"city"`
	CityKey   string      `json:"city_key"`
	Type      string      `json:"type"`
	StartsAt  time.Time   `json:"starts_at"`
	Location  geoLocation `json:"location"`
	Source    string      `json:"src"`
}

// geoLocation is how bleve's geopoint extractor finds lat and lon in a
// struct (exported fields named Lat and Lon).
type geoLocation struct {
	Lat float64
	Lon float64
}

// docID is the index's document ID of an event: its UUID text.
func docID(l boxoffice.Listing) string { return l.EventID.String() }

// newIndexDoc converts a listing for indexing. The full listing travels
// along as JSON so that a hit renders without PostgreSQL and so that Apply
// can read back the stored revision.
func newIndexDoc(l boxoffice.Listing) (indexDoc, error) {
	src, err := json.Marshal(l)
	if err != nil {
		return indexDoc{}, fmt.Errorf("encode listing %s: %w", l.EventID, err)
	}
	return indexDoc{
		Name:      l.Name,
		Performer: l.PerformerName,
		Venue:     l.VenueName,
		City:      l.City,
		CityKey:   strings.TrimSpace(l.City),
		Type:      strings.TrimSpace(l.Type),
		StartsAt:  l.StartsAt.UTC(),
		Location:  geoLocation{Lat: l.Location.Lat, Lon: l.Location.Lon},
		Source:    string(src),
	}, nil
}

// decodeSource reads a stored listing back.
func decodeSource(src string) (boxoffice.Listing, error) {
	var l boxoffice.Listing
	if err := json.Unmarshal([]byte(src), &l); err != nil {
		return l, fmt.Errorf("decode stored listing: %w", err)
	}
	return l, nil
}
