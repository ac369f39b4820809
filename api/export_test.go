package api

import "time"

// SetRateClock makes s's rate limits go by now instead of the wall clock,
// so that a test decides when a bucket refills.
func SetRateClock(s *Server, now func() time.Time) { s.rateClock.Store(&now) }

// SetAuthClock makes s judge tokens' exp and iat by now instead of the wall
// clock, in the verified-token cache and the parser alike, so that a test
// decides when a token expires.
func SetAuthClock(s *Server, now func() time.Time) { s.auth.clock.Store(&now) }

// SetCatalogClock makes s's event cache judge its catalog TTL by now
// instead of the wall clock, so that a test decides when an entry is
// stale. Call it before the first request.
func SetCatalogClock(s *Server, now func() time.Time) { s.events.now = now }

// BookingJSON is the wire form of a booking, for tests to decode replies.
type BookingJSON = bookingJSON
