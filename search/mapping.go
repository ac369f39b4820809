package search

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// mappingVersion names the index layout below. Open refuses to reuse an
// index built with another version and starts an empty one instead (which
// the node then rebuilds), so bump it whenever the mapping or the stored
// document changes.
const mappingVersion = "boxoffice-search-v7"

// Field names in the index. Text fields are analysed for q; keyword fields
// hold one folded, lower-cased token for exact filters.
const (
	fieldName      = "name"      // text: event name
	fieldPerformer = "performer" // text: performer name
	fieldVenue     = "venue"     // text: venue name
	fieldCity      = "city"      // text: city, for q
	fieldCityKey   = "city_key"  // keyword: city, for the city filter
	fieldType      = "type"      // keyword: event type
	fieldStartsAt  = "starts_at" // datetime: the from/to range filter
	fieldStartsKey = "starts"    // keyword: seconds and ID as hex, for sorting
	fieldPoint     = "point"     // one raw term, a doc value: distance check and sort (geo.go)
	fieldCells     = "cells"     // keyword, one term per S2 cell level (geo.go)
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
// nothing but the source JSON is stored, and no _all field is built. The
// index saves it and its analyzers; documents themselves are built by
// docBuilder, which must index the same fields.
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
	starts.Store, starts.IncludeInAll, starts.DocValues = false, false, false
	dm.AddFieldMappingsAt(fieldStartsAt, starts)
	startsKey := keyField(fieldStartsKey)
	startsKey.DocValues, startsKey.SkipFreqNorm = true, true
	dm.AddFieldMappingsAt(fieldStartsKey, startsKey)

	point := keyField(fieldPoint)
	point.Analyzer = "keyword" // documents use no analyzer: the raw bytes are the term
	point.DocValues, point.SkipFreqNorm = true, true
	dm.AddFieldMappingsAt(fieldPoint, point)
	cells := keyField(fieldCells)
	cells.SkipFreqNorm = true
	dm.AddFieldMappingsAt(fieldCells, cells)

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
	return f
}

// docBuilder turns listings into bleve documents directly, bypassing the
// mapping's reflection: that is faster, and it can set doc-value options
// the mapping cannot express (see newDocument).
type docBuilder struct {
	text, key analysis.Analyzer
}

// Indexing options of each kind of field.
const (
	optText = index.IndexField
	// optKey fields (type, city) keep frequencies and norms: a word of q
	// may match the type, and a term without them scores NaN in bleve,
	// which silently turns relevance order into date order.
	optKey = index.IndexField
	// optCell fields only ever filter, so they skip them.
	optCell = index.IndexField | index.SkipFreqNorm
	// optSort keeps one small term per document as an uncompressed,
	// unchunked doc value: sorting then reads a few bytes per hit instead
	// of decompressing a chunk of other documents' values.
	optSort   = index.IndexField | index.SkipFreqNorm | index.DocValues | index.SkipDVCompression | index.SkipDVChunking
	optRange  = index.IndexField
	optStored = index.StoreField
)

// docID is the index's document ID of an event: its UUID text.
func docID(l boxoffice.Listing) string { return l.EventID.String() }

// newDocument converts a listing for indexing. The full listing travels
// along as JSON so that a hit renders without PostgreSQL and so that Apply
// can read back the stored revision.
func (d docBuilder) newDocument(l boxoffice.Listing) (*document.Document, error) {
	src, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encode listing %s: %w", l.EventID, err)
	}
	starts := l.StartsAt.UTC()
	startsAt, err := document.NewDateTimeFieldWithIndexingOptions(fieldStartsAt, nil, starts, time.RFC3339, optRange)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", l.EventID, err)
	}
	doc := document.NewDocument(docID(l))
	doc.AddField(document.NewTextFieldCustom(fieldName, nil, []byte(l.Name), optText, d.text))
	doc.AddField(document.NewTextFieldCustom(fieldPerformer, nil, []byte(l.PerformerName), optText, d.text))
	doc.AddField(document.NewTextFieldCustom(fieldVenue, nil, []byte(l.VenueName), optText, d.text))
	doc.AddField(document.NewTextFieldCustom(fieldCity, nil, []byte(l.City), optText, d.text))
	doc.AddField(document.NewTextFieldCustom(fieldCityKey, nil, []byte(strings.TrimSpace(l.City)), optKey, d.key))
	doc.AddField(document.NewTextFieldCustom(fieldType, nil, []byte(strings.TrimSpace(l.Type)), optKey, d.key))
	doc.AddField(startsAt)
	doc.AddField(document.NewTextFieldCustom(fieldStartsKey, nil, startsKey(starts, l.EventID), optSort, d.key))
	doc.AddField(document.NewTextFieldCustom(fieldPoint, nil, pointTerm(l.Location), optSort, nil))
	for i, cell := range cellTerms(l.Location) {
		doc.AddField(document.NewTextFieldCustom(fieldCells, []uint64{uint64(i)}, []byte(cell), optCell, d.key))
	}
	doc.AddField(document.NewTextFieldWithIndexingOptions(fieldSource, nil, src, optStored))
	doc.SetIndexed()
	return doc, nil
}

// startsKey encodes a start time as a fixed-width hex count of seconds
// since startsKeyEpoch, so that byte order is time order, followed by the
// first half of the event ID, so that events starting at the same second
// still have one order in every index built from the same catalog.
func startsKey(t time.Time, id uuid.UUID) []byte {
	return fmt.Appendf(nil, "%011x%x", t.Unix()-startsKeyEpoch, id[:8])
}

// startsKeyEpoch is the start of minYear, so that every valid start time
// gives a non-negative key.
var startsKeyEpoch = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// decodeSource reads a stored listing back.
func decodeSource(src string) (boxoffice.Listing, error) {
	var l boxoffice.Listing
	if err := json.Unmarshal([]byte(src), &l); err != nil {
		return l, fmt.Errorf("decode stored listing: %w", err)
	}
	return l, nil
}
