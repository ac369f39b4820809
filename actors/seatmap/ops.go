package seatmap

import (
	"container/heap"
	"fmt"
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
// details.ticket_ids), seat_unavailable (held or sold seats, all of them in
// details.ticket_ids, request order).
func (m *Map) Hold(owner, booking uuid.UUID, tickets []uuid.UUID, now time.Time, ttl time.Duration) (Record, error) {
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
	if _, ok := m.byBooking[booking]; ok {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "booking %s already holds seats", booking)
	}
	seats := make([]int32, len(tickets))
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
	if taken != nil {
		return Record{}, boxoffice.SeatsUnavailable(taken)
	}
	return m.commit(Record{Kind: KindHeld, Booking: booking, Owner: owner, Seats: seats,
		ExpiresAt: now.Add(ttl).UnixNano()})
}

// Release ends a hold at its owner's request.
// Errors: not_found, forbidden (another owner), booking_state (pinned for a payment).
func (m *Map) Release(booking, owner uuid.UUID) (Record, error) {
	h, err := m.owned(booking, owner)
	if err != nil {
		return Record{}, err
	}
	if h.pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "a payment for the booking is in progress")
	}
	return m.commit(m.recordOf(KindReleased, h))
}

// ExpireDue ends every unpinned hold whose expiry is at or before now, one
// record (one version) each, earliest first.
func (m *Map) ExpireDue(now time.Time) []Record {
	var out []Record
	t := now.UnixNano()
	for len(m.expiry.s) > 0 {
		h := &m.slots[m.expiry.s[0]]
		if h.expiresAt > t {
			break
		}
		r, err := m.commit(m.recordOf(KindExpired, h))
		if err != nil {
			panic(fmt.Sprintf("seatmap: expiring a live hold failed: %v", err)) // invariant broken
		}
		out = append(out, r)
	}
	return out
}

// PinForPayment keeps the hold from expiring while its payment is in flight.
// Errors: not_found, forbidden, hold_expired (now is at or past its expiry),
// booking_state (already pinned).
func (m *Map) PinForPayment(booking, owner uuid.UUID, now time.Time) (Record, error) {
	h, err := m.owned(booking, owner)
	if err != nil {
		return Record{}, err
	}
	if h.pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "a payment for the booking is already in progress")
	}
	if now.UnixNano() >= h.expiresAt {
		return Record{}, boxoffice.Errorf(boxoffice.EHoldExpired, "the hold expired at %s", time.Unix(0, h.expiresAt).UTC().Format(time.RFC3339))
	}
	return m.commit(m.recordOf(KindPinned, h))
}

// Unpin lets the hold expire again after a payment did not complete; an
// overdue hold then expires at the next ExpireDue.
// Errors: not_found, booking_state (not pinned).
func (m *Map) Unpin(booking uuid.UUID) (Record, error) {
	s, ok := m.byBooking[booking]
	if !ok {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	h := &m.slots[s]
	if !h.pinned {
		return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "the hold is not pinned")
	}
	return m.commit(m.recordOf(KindUnpinned, h))
}

// Sell turns the hold's seats into booked seats and ends the hold.
// Errors: not_found.
func (m *Map) Sell(booking uuid.UUID) (Record, error) {
	s, ok := m.byBooking[booking]
	if !ok {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	return m.commit(m.recordOf(KindSold, &m.slots[s]))
}

func (m *Map) owned(booking, owner uuid.UUID) (*hold, error) {
	s, ok := m.byBooking[booking]
	if !ok {
		return nil, boxoffice.Errorf(boxoffice.ENotFound, "no live hold for booking %s", booking)
	}
	h := &m.slots[s]
	if h.owner != owner {
		return nil, boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user")
	}
	return h, nil
}

func (m *Map) recordOf(k Kind, h *hold) Record {
	return Record{Kind: k, Booking: h.booking, Owner: h.owner, Seats: append([]int32(nil), h.seatList()...), ExpiresAt: h.expiresAt}
}

// commit stamps the next version on r and applies it.
func (m *Map) commit(r Record) (Record, error) {
	r.Version = m.version + 1
	if err := m.Apply(r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Apply replays a journal record: the same change the operation made, so
// that a snapshot plus the records after it rebuild the live state exactly.
// A record out of order or inconsistent with the state is refused and
// changes nothing.
func (m *Map) Apply(r Record) error {
	if r.Version != m.version+1 {
		return fmt.Errorf("seatmap: record v%d does not follow v%d", r.Version, m.version)
	}
	if err := m.check(r); err != nil {
		return err
	}
	m.version = r.Version
	switch r.Kind {
	case KindHeld:
		m.addHold(r)
	case KindReleased, KindExpired:
		m.endHold(r.Booking, boxoffice.SeatAvailable)
	case KindSold:
		m.endHold(r.Booking, boxoffice.SeatBooked)
	case KindPinned:
		h := &m.slots[m.byBooking[r.Booking]]
		heap.Remove(&m.expiry, int(h.heapIdx))
		h.pinned = true
	case KindUnpinned:
		s := m.byBooking[r.Booking]
		m.slots[s].pinned = false
		heap.Push(&m.expiry, s)
	}
	return nil
}

// check validates r against the state without changing anything.
func (m *Map) check(r Record) error {
	if r.Kind == KindHeld {
		if len(r.Seats) < 1 || len(r.Seats) > boxoffice.MaxSeatsPerHold {
			return fmt.Errorf("seatmap: v%d holds %d seats", r.Version, len(r.Seats))
		}
		if _, ok := m.byBooking[r.Booking]; ok {
			return fmt.Errorf("seatmap: v%d: booking %s already holds seats", r.Version, r.Booking)
		}
		for k, s := range r.Seats {
			if s < 0 || int(s) >= len(m.status) || m.status[s] != boxoffice.SeatAvailable || slices.Contains(r.Seats[:k], s) {
				return fmt.Errorf("seatmap: v%d: seat %d cannot be held", r.Version, s)
			}
		}
		return nil
	}
	s, ok := m.byBooking[r.Booking]
	if !ok {
		return fmt.Errorf("seatmap: v%d %s: no hold for booking %s", r.Version, r.Kind, r.Booking)
	}
	h := &m.slots[s]
	// ExpiresAt 0 is accepted on the kinds that end or pin a hold: records
	// journaled before they carried the expiry left it out, and it changes
	// nothing on replay.
	if !slices.Equal(h.seatList(), r.Seats) || h.owner != r.Owner || (r.ExpiresAt != 0 && r.ExpiresAt != h.expiresAt) {
		return fmt.Errorf("seatmap: v%d %s: seats, owner or expiry differ from the hold", r.Version, r.Kind)
	}
	switch {
	case r.Kind == KindPinned && h.pinned, r.Kind == KindUnpinned && !h.pinned:
		return fmt.Errorf("seatmap: v%d %s: hold pinned=%v", r.Version, r.Kind, h.pinned)
	case (r.Kind == KindReleased || r.Kind == KindExpired) && h.pinned:
		return fmt.Errorf("seatmap: v%d %s of a pinned hold", r.Version, r.Kind)
	case r.Kind < KindHeld || r.Kind > KindSold:
		return fmt.Errorf("seatmap: v%d kind %d", r.Version, r.Kind)
	}
	return nil
}

func (m *Map) addHold(r Record) {
	var s uint32
	if n := len(m.free); n > 0 {
		s, m.free = m.free[n-1], m.free[:n-1]
	} else {
		m.slots = append(m.slots, hold{})
		s = uint32(len(m.slots) - 1)
	}
	h := &m.slots[s]
	*h = hold{booking: r.Booking, owner: r.Owner, expiresAt: r.ExpiresAt, n: uint8(len(r.Seats)), heapIdx: -1}
	copy(h.seats[:], r.Seats)
	for _, i := range r.Seats {
		m.setStatus(int(i), boxoffice.SeatReserved)
	}
	m.byBooking[r.Booking] = s
	heap.Push(&m.expiry, s)
}

func (m *Map) endHold(booking uuid.UUID, to boxoffice.SeatStatus) {
	s := m.byBooking[booking]
	h := &m.slots[s]
	if h.heapIdx >= 0 {
		heap.Remove(&m.expiry, int(h.heapIdx))
	}
	for _, i := range h.seatList() {
		m.setStatus(int(i), to)
	}
	delete(m.byBooking, booking)
	*h = hold{heapIdx: -1}
	m.free = append(m.free, s)
}

func (m *Map) setStatus(i int, to boxoffice.SeatStatus) {
	m.countOf(m.status[i], -1)
	m.countOf(to, +1)
	m.status[i] = to
}

func (m *Map) countOf(s boxoffice.SeatStatus, d int) {
	switch s {
	case boxoffice.SeatAvailable:
		m.counts.Available += d
	case boxoffice.SeatReserved:
		m.counts.Reserved += d
	case boxoffice.SeatBooked:
		m.counts.Booked += d
	}
}
