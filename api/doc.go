// Package api is the node's public HTTP and WebSocket interface: the
// contract of ../shared/API.md, described again by openapi.yaml (served at
// GET /openapi.yaml and checked against every response in the tests).
//
// The package owns the edge of the system and nothing behind it:
// authentication (HS256 tokens, or RS256/ES256 through a cached JWKS),
// per-IP and per-user rate limits, request decoding with hard limits, one
// table from domain error codes to HTTP statuses, Prometheus metrics, a
// per-event cache of the catalog half of GET /events/{eventId}, and the
// WebSocket hub that fans one bus subscription per event out to every
// local seat-map client. The seat frames' wire format is encoded here
// alone (frames.go): cmd has DeltaFrame encode each committed
// boxoffice.SeatDelta once, on the node that commits it. api/queueroom
// answers with this package's writers and limiter.
//
// It depends on the rest of the platform only through small interfaces
// declared here (Catalog, Bookings, Users, SeatFeed, Searcher, Queue,
// ClusterView) and boxoffice.SeatEngine; cmd/boxoffice passes the concrete
// persistence, actors, search and bus values in Deps, so that api never
// imports them and can be tested with in-memory fakes.
//
// Lifecycle: New validates the Config and starts the background work (the
// rate-limit sweeper, the JWKS refresher); Handler returns the routed
// http.Handler; Close stops that work, disconnects every WebSocket client
// and waits for their goroutines. http.Server.Shutdown does not see
// hijacked WebSocket connections, which is why Close exists.
package api
