package seatmap

import (
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// ExtendPinned moves the expiry of the booking's pinned hold to until (a
// payment waiting for the buyer's action keeps its seats until then; the
// hold then expires there once unpinned). It never moves an expiry
// earlier. Errors: not_found, booking_state (not pinned, or until is not
// later than the hold's expiry).
func (m *Map) ExtendPinned(booking uuid.UUID, until time.Time) (Record, error) {
	s, ok := m.holdOf(booking)
	if !ok {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	h := m.holds.at(s)
	if !h.pinned || until.UnixNano() <= h.expiresAt {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "the hold is not pinned, or already expires at or after %s", until.UTC().Format(time.RFC3339))
	}
	r := Record{Version: m.version + 1, Kind: KindExtended, Booking: h.booking, Owner: h.owner,
		Seats: append([]int32(nil), h.seatList()...), ExpiresAt: until.UnixNano()}
	m.apply(&r, s)
	return r, nil
}
