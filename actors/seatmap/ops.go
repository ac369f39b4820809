package seatmap

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Hold holds the tickets for the booking, all or none, until now+ttl.
// Errors, in the order they are checked: invalid_argument (0 or more than
// 10 tickets, field ticket_ids; ttl <= 0, field ttl; a ticket twice, field
// ticket_ids), booking_state (the booking already has a live hold),
// not_found (tickets of another event or past the venue, all of them in
// details.ticket_ids), limit_reached (the owner would pass SetLimit's
// limit; details.limit, details.current), seat_unavailable (held or sold seats, all of them in
// details.ticket_ids, request order).
func (m *Map) Hold(owner, booking uuid.UUID, tickets []uuid.UUID, now time.Time, ttl time.Duration) (r Record, err error) {
	if n := len(tickets); n < 1 || n > boxoffice.MaxSeatsPerHold {
		return Record{}, boxoffice.InvalidField("ticket_ids", "a hold takes 1 to %d seats, not %d", boxoffice.MaxSeatsPerHold, n)
	}
	if ttl <= 0 {
		return Record{}, boxoffice.InvalidField("ttl", "a hold needs a positive duration")
	}
	for k, t := range tickets {
		if slices.Contains(tickets[:k], t) {
			return Record{}, boxoffice.InvalidField("ticket_ids", "ticket %s appears twice", t)
		}
	}
	hint := slotHint{hash: m.index.hash(booking)}
	var found bool
	if hint.pos, found = m.index.find(&m.holds, booking, hint.hash); found {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "booking %s already holds seats", booking)
	}
	var seats [boxoffice.MaxSeatsPerHold]int32
	var unknown, taken []string
	for k, t := range tickets {
		i, ok := m.Index(t)
		if !ok {
			unknown = append(unknown, t.String())
			continue
		}
		seats[k] = int32(i)
		if m.status[i] != boxoffice.SeatAvailable {
			taken = append(taken, t.String())
		}
	}
	if unknown != nil {
		e := boxoffice.Errorf(boxoffice.ENotFound, "%d ticket(s) do not belong to this event", len(unknown))
		e.Details = map[string]any{"ticket_ids": unknown}
		return Record{}, e
	}
	// API.md: limit_reached is given before seat_unavailable.
	if err := m.checkLimit(owner, len(tickets)); err != nil {
		return Record{}, err
	}
	if taken != nil {
		return Record{}, boxoffice.SeatsUnavailable(taken)
	}
	// Filled in place: r is the result itself, so the 144-byte Record is
	// not built on the stack and copied out (about 20 ns of Hold1).
	r.Version, r.Kind, r.Booking, r.Owner = m.version+1, KindHeld, booking, owner
	r.Seats, r.ExpiresAt = m.seatsOf(seats[:len(tickets)]), now.UnixNano()+int64(ttl)
	m.version = r.Version
	m.addHold(&r, hint)
	return r, nil
}

// Release ends a hold at its owner's request.
// Errors: not_found, forbidden (another owner), booking_state (pinned for a payment).
func (m *Map) Release(booking, owner uuid.UUID) (Record, error) {
	s, err := m.owned(booking, owner)
	if err != nil {
		return Record{}, err
	}
	if m.holds.at(s).pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "a payment for the booking is in progress")
	}
	return m.commit(KindReleased, s), nil
}

// ExpireDue ends every unpinned hold whose expiry is at or before now, one
// record (one version) each, earliest first.
func (m *Map) ExpireDue(now time.Time) []Record {
	var out []Record
	t := now.UnixNano()
	for len(m.expiry) > 0 {
		s := m.expiry[0]
		if m.holds.at(s).expiresAt > t {
			break
		}
		out = append(out, m.commit(KindExpired, s))
	}
	return out
}

// PinForPayment keeps the hold from expiring while its payment is in flight.
// Errors: not_found, forbidden, hold_expired (now is at or past its expiry),
// booking_state (already pinned).
func (m *Map) PinForPayment(booking, owner uuid.UUID, now time.Time) (Record, error) {
	s, err := m.owned(booking, owner)
	if err != nil {
		return Record{}, err
	}
	h := m.holds.at(s)
	if h.pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "a payment for the booking is already in progress")
	}
	if now.UnixNano() >= h.expiresAt {
		return Record{}, boxoffice.Errorf(boxoffice.EHoldExpired, "the hold expired at %s", time.Unix(0, h.expiresAt).UTC().Format(time.RFC3339))
	}
	return m.commit(KindPinned, s), nil
}

// Unpin lets the hold expire again after a payment did not complete; an
// overdue hold then expires at the next ExpireDue.
// Errors: not_found, booking_state (not pinned).
func (m *Map) Unpin(booking uuid.UUID) (Record, error) {
	s, ok := m.holdOf(booking)
	if !ok {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	if !m.holds.at(s).pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "the hold is not pinned")
	}
	return m.commit(KindUnpinned, s), nil
}

// Sell turns the hold's seats into booked seats and ends the hold.
// Errors: not_found.
func (m *Map) Sell(booking uuid.UUID) (Record, error) {
	s, ok := m.holdOf(booking)
	if !ok {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	return m.commit(KindSold, s), nil
}

// owned finds the booking's hold slot and checks the caller owns it.
func (m *Map) owned(booking, owner uuid.UUID) (uint32, error) {
	s, ok := m.holdOf(booking)
	if !ok {
		return 0, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	if m.holds.at(s).owner != owner {
		return 0, boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user")
	}
	return s, nil
}

// commit records and applies a change of kind k to the hold in slot s,
// which the calling operation has already validated.
func (m *Map) commit(k Kind, s uint32) Record {
	h := m.holds.at(s)
	r := Record{Version: m.version + 1, Kind: k, Booking: h.booking, Owner: h.owner,
		Seats: m.seatsOf(h.seatList()), ExpiresAt: h.expiresAt, Types: m.typeList(s), Promo: m.promos.name(h.promo)}
	m.apply(&r, s)
	return r
}
