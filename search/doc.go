// Package search is the catalog index behind GET /search: a bleve index of
// boxoffice.Listing values that every node keeps locally, fed by the
// catalog change stream and rebuildable from PostgreSQL.
//
// # Writing
//
// Apply and ApplyBatch upsert or delete listings by EventID. A listing
// whose Revision is not newer than the index's is ignored, and deletes
// leave a tombstone revision, so the stream may redeliver and reorder
// freely. An invalid listing is an invalid_argument *boxoffice.Error (a
// poison message to drop); anything else is worth retrying.
// SetAvailability overlays the seat engine's periodic available-seat
// counts on results, in memory.
//
// Rebuild builds a complete index from a Source (keyset pages of the
// catalog) into a new generation directory and then makes it live by
// rewriting the CURRENT file atomically; Index.Rebuild does the same under a
// running node and replays the changes applied meanwhile before swapping.
// Open starts an empty index when the directory holds one built with an
// older mapping, so a node that sees Count() == 0 should rebuild.
//
// # Mapping
//
// One static mapping (no dynamic fields, no _all):
//   - name, performer, venue, city: text, analysed by bleve's English chain
//     (possessives, lower case, stop words, Porter stems) behind ASCII
//     folding; no term vectors, no doc values.
//   - type, city_key: one folded, lower-cased token each, for exact filters.
//   - starts_at: datetime with doc values (date sort, range filter).
//   - location: geopoint with doc values (radius filter, distance sort).
//   - src: the listing as JSON, stored only, so that a hit renders without
//     PostgreSQL and Apply can read the stored revision.
//
// # Querying
//
// ParseQuery reads API.md's parameters; Search runs them as one
// conjunction. q requires every word (after stop words) to match one of
// the text fields or the type, each word as the disjunction of an exact
// term and a fuzzy term (edit distance 0 below 4 characters, 1 up to 7, 2
// beyond, transpositions counting 1), with the event name boosted 3x and
// the performer 2x. type and city are exact, ignoring case and accents;
// near/radius_km is a geo-distance filter; from/to an inclusive range on
// starts_at. Every sort ends with the event ID, so pages are stable and
// complete; pages past Config.MaxWindow results are refused. RenderJSON
// shapes a Result as API.md's response.
//
// Generate makes realistic catalogs for the benchmarks, the seeder and the
// load generator.
package search
