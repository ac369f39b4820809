package api

import "time"

// SetRateClock makes s's rate limits go by now instead of the wall clock,
// so that a test decides when a bucket refills.
func SetRateClock(s *Server, now func() time.Time) { s.rateClock.Store(&now) }

// BookingJSON is the wire form of a booking, for tests to decode replies.
type BookingJSON = bookingJSON
