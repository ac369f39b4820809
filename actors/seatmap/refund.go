package seatmap

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Refund gives the seats of a sold booking back to the event (its money
// went back): they become available and no longer count towards the
// buyer's per-user limit. The map does not know which booking bought a
// seat, so the caller passes the booking's buyer and seats as PostgreSQL
// stored them. Errors: invalid_argument (no seats, too many, twice, or
// past the venue), booking_state (a seat is not sold, or the booking still
// has a live hold).
func (m *Map) Refund(booking, owner uuid.UUID, seats []int32) (Record, error) {
	return m.RefundPromo(booking, owner, seats, "")
}

// RefundPromo is Refund of a booking bought with a promo code: the code's
// use is given back (h19price). Errors: Refund's, and booking_state when
// the map counts no sold use of the code.
func (m *Map) RefundPromo(booking, owner uuid.UUID, seats []int32, promo string) (Record, error) {
	r := Record{Version: m.version + 1, Kind: KindRefunded, Booking: booking, Owner: owner, Seats: slices.Clone(seats), Promo: promo}
	if err := m.checkRefund(r); err != nil {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "%v", err)
	}
	m.apply(&r, 0)
	return r, nil
}

// checkRefund validates a KindRefunded record against the state.
func (m *Map) checkRefund(r Record) error {
	if len(r.Seats) < 1 || len(r.Seats) > boxoffice.MaxSeatsPerHold {
		return fmt.Errorf("seatmap: v%d refunds %d seats", r.Version, len(r.Seats))
	}
	if _, ok := m.holdOf(r.Booking); ok {
		return fmt.Errorf("seatmap: v%d: booking %s still holds seats", r.Version, r.Booking)
	}
	for k, s := range r.Seats {
		if s < 0 || int(s) >= len(m.status) || m.status[s] != boxoffice.SeatBooked || slices.Contains(r.Seats[:k], s) {
			return fmt.Errorf("seatmap: v%d: seat %d is not sold", r.Version, s)
		}
	}
	if r.Promo != "" && m.promos.sold[r.Promo] < 1 {
		return fmt.Errorf("seatmap: v%d: promo code %q has no sold use to give back", r.Version, r.Promo)
	}
	if m.owners.sold[r.Owner] < int32(len(r.Seats)) {
		return fmt.Errorf("seatmap: v%d: buyer %s bought fewer than %d seats", r.Version, r.Owner, len(r.Seats))
	}
	return nil
}
