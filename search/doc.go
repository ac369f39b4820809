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
// poison message to drop); anything else is worth retrying. With
// Config.Durable (the default) a write returns once it is on disk.
// SetAvailability overlays the seat engine's available-seat counts on
// results, in memory, newest version first (late reports are ignored);
// SeedAvailability fills in the counts of idle events from the store when a
// node starts.
//
// Rebuild builds a complete index from a Source (keyset pages of the
// catalog) into a new generation directory and makes it live by rewriting
// the CURRENT file atomically; Index.Rebuild does the same under a running
// node and replays the changes applied meanwhile before swapping. Open
// starts an empty index when the directory holds one built with an older
// mapping, so a node that sees Count() == 0 should rebuild. One process
// opens a Path at a time.
//
// # Index layout
//
// Documents are built directly rather than through the mapping, which
// only records the same fields and their analyzers:
//   - name, performer, venue, city: text, analysed by bleve's English chain
//     (possessives, lower case, stop words, Porter stems) behind ASCII
//     folding; no term vectors, no doc values.
//   - type, city_key: one folded, lower-cased token each, for exact filters.
//   - starts_at: datetime, for the from/to range.
//   - starts: seconds since 1700 and half the event ID, in hex, as a doc
//     value: the sort key of every order, unique per event.
//   - cells: the location's S2 cells at levels 4, 6, ..., 16.
//   - point: the location as bleve's Morton-hash term, as a doc value: the
//     distance check and the distance sort.
//   - src: the listing as JSON, stored only, so that a hit renders without
//     PostgreSQL and Apply can read the stored revision.
//
// # Querying
//
// ParseQuery reads API.md's parameters; Search runs them. q requires every
// word (after stop words) to match one of the text fields or the type,
// each word as the disjunction of an exact term and a fuzzy term (edit
// distance 0 below 4 characters, 1 up to 7, 2 beyond, a transposition
// counting 1), with the event name boosted 3x and the performer 2x. type
// and city are exact, ignoring case and accents; from/to is inclusive on
// starts_at. near/radius_km matches the events in S2 cells inside the
// circle outright and distance-checks only those in the ring of boundary
// cells (geo.go).
//
// Under relevance the filters do not score (a boolean filter clause): only
// the text decides the order, then the start time. Date order is the start
// time, distance order the distance then the start time. The start-time
// key ends with the event ID, so every order is total: pages are stable
// and complete, and two indexes of one catalog answer identically. Pages
// past Config.MaxWindow results are refused. RenderJSON shapes a Result as
// API.md's response.
//
// # Performance
//
// bench_test.go measures builds and a query mix over a generated catalog
// (BOXOFFICE_SEARCH_BENCH_EVENTS sets the size). What moved the numbers,
// in the order found:
//   - A rebuild force-merges to one segment: every query pays per segment.
//     (bleve's single-segment plan merges 10 segments per task and plans
//     once, which left 3 segments at 1M events; the task is widened.)
//   - The sort key is one short, unchunked, uncompressed doc value. bleve's
//     datetime doc values hold 16 terms in snappy chunks; decompressing a
//     chunk per hit was half of a filter query's time.
//   - No "_id" sort key: it loads every candidate's ID from stored fields
//     (a quarter of a text query); the ID suffix of the start key replaces it.
//   - Searches are admitted one per core, first come first served
//     (Config.MaxConcurrentSearches): 16 concurrent clients on 2 cores had
//     p99 ~80 ms for 0.3 ms queries from Go's 10 ms time slices alone.
//   - Radius queries by S2 cells with a checked ring (above). bleve's
//     default probes the term dictionary for every cell of a recursive
//     grid; with its s2 plugin it distance-checks every candidate.
//   - Rebuild indexes on one goroutine per core (scorch builds a batch's
//     segment on the calling goroutine).
//
// The realistic catalogs that the tests and benchmarks query come from
// generate in generator_test.go: test code, not part of the package.
package search
