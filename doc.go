// Package boxoffice holds the domain of the ticketing platform: events, venues,
// performers, tickets, bookings, the error codes of the public API, and the
// small interfaces the adapter packages implement.
//
// It imports nothing of ours and nothing heavy, so that every adapter
// (actors/, persistence/, search/, api/, cluster/) can depend on it without
// depending on each other; cmd/boxoffice wires the adapters together.
package boxoffice
