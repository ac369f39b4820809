package seatmap

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Apply replays a journal record: the same change the operation made, so
// that a snapshot plus the records after it rebuild the live state exactly.
// A record out of order or inconsistent with the state is refused and
// changes nothing.
func (m *Map) Apply(r Record) error {
	if r.Version != m.version+1 {
		return fmt.Errorf("seatmap: record v%d does not follow v%d", r.Version, m.version)
	}
	s, err := m.check(r)
	if err != nil {
		return err
	}
	m.apply(&r, s)
	return nil
}

// check validates r against the state without changing anything and
// returns the slot of the hold r changes (0 for KindHeld).
func (m *Map) check(r Record) (uint32, error) {
	if r.Kind < KindHeld || r.Kind > lastKind {
		return 0, fmt.Errorf("seatmap: v%d has kind %d", r.Version, r.Kind)
	}
	if r.Kind == KindAdmitted {
		return 0, m.checkAdmit(r)
	}
	if r.Kind == KindHeld {
		if len(r.Seats) < 1 || len(r.Seats) > boxoffice.MaxSeatsPerHold {
			return 0, fmt.Errorf("seatmap: v%d holds %d seats", r.Version, len(r.Seats))
		}
		if _, ok := m.holdOf(r.Booking); ok {
			return 0, fmt.Errorf("seatmap: v%d: booking %s already holds seats", r.Version, r.Booking)
		}
		if r.Types != nil && len(r.Types) != len(r.Seats) {
			return 0, fmt.Errorf("seatmap: v%d: %d types for %d seats", r.Version, len(r.Types), len(r.Seats))
		}
		for k, s := range r.Seats {
			if s < 0 || int(s) >= len(m.status) || m.status[s] != boxoffice.SeatAvailable || slices.Contains(r.Seats[:k], s) {
				return 0, fmt.Errorf("seatmap: v%d: seat %d cannot be held", r.Version, s)
			}
		}
		return 0, nil
	}
	if r.Kind == KindRefunded {
		return 0, m.checkRefund(r)
	}
	s, ok := m.holdOf(r.Booking)
	if !ok {
		return 0, fmt.Errorf("seatmap: v%d %s: no hold for booking %s", r.Version, r.Kind, r.Booking)
	}
	h := m.holds.at(s)
	// ExpiresAt 0 is accepted on the kinds that end or pin a hold: records
	// journaled before they carried the expiry left it out, and it changes
	// nothing on replay.
	moved := r.Kind == KindExtended // carries the new expiry
	if !slices.Equal(h.seatList(), r.Seats) || h.owner != r.Owner || (!moved && r.ExpiresAt != 0 && r.ExpiresAt != h.expiresAt) ||
		!slices.Equal(m.typeList(s), r.Types) || m.promos.name(h.promo) != r.Promo {
		return 0, fmt.Errorf("seatmap: v%d %s: seats, owner, expiry, types or promo differ from the hold", r.Version, r.Kind)
	}
	if moved && (!h.pinned || r.ExpiresAt <= h.expiresAt) {
		return 0, fmt.Errorf("seatmap: v%d %s: only a pinned hold's expiry moves, and only later", r.Version, r.Kind)
	}
	switch {
	case r.Kind == KindPinned && h.pinned, r.Kind == KindUnpinned && !h.pinned:
		return 0, fmt.Errorf("seatmap: v%d %s: hold pinned=%v", r.Version, r.Kind, h.pinned)
	case (r.Kind == KindReleased || r.Kind == KindExpired) && h.pinned:
		return 0, fmt.Errorf("seatmap: v%d %s of a pinned hold", r.Version, r.Kind)
	}
	return s, nil
}

// apply makes the change of a valid record r; s is the slot of the hold it
// changes (unused for KindHeld).
func (m *Map) apply(r *Record, s uint32) {
	m.version = r.Version
	switch r.Kind {
	case KindHeld:
		m.addHold(r, slotHint{pos: -1})
	case KindReleased, KindExpired:
		m.endHold(s, boxoffice.SeatAvailable)
	case KindSold:
		m.endHold(s, boxoffice.SeatBooked)
	case KindPinned:
		h := m.holds.at(s)
		m.heapRemove(int(h.heapIdx))
		h.pinned = true
	case KindUnpinned:
		m.holds.at(s).pinned = false
		m.heapPush(s)
	case KindExtended:
		// Pinned, so not in the expiry heap: nothing to reorder.
		m.holds.at(s).expiresAt = r.ExpiresAt
	case KindAdmitted:
		m.admit(*r)
	case KindRefunded:
		for _, i := range r.Seats {
			m.setStatus(int(i), boxoffice.SeatAvailable)
		}
		if r.Promo != "" {
			m.promos.refund(r.Promo)
		}
		n := int32(len(r.Seats))
		m.owners.add(m.owners.sold, r.Owner, -n)
		m.owners.add(m.owners.total, r.Owner, -n)
	}
}

func (m *Map) addHold(r *Record, hint slotHint) {
	s := m.holds.alloc()
	m.putHold(s, r.Booking, r.Owner, r.ExpiresAt, false, r.Seats, hint)
	if r.Types != nil || r.Promo != "" {
		m.setPriced(s, r.Types, r.Promo)
	}
	for _, i := range r.Seats {
		m.setStatus(int(i), boxoffice.SeatReserved)
	}
	m.owners.add(m.owners.total, r.Owner, int32(len(r.Seats)))
}

// putHold fills slot s and indexes it; the seats' statuses are the
// caller's business.
func (m *Map) putHold(s uint32, booking, owner uuid.UUID, exp int64, pinned bool, seats []int32, hint slotHint) {
	h := m.holds.at(s)
	*h = hold{booking: booking, owner: owner, expiresAt: exp, n: uint8(len(seats)), pinned: pinned, heapIdx: -1}
	copy(h.seats[:], seats)
	m.indexPut(booking, s, hint)
	if !pinned {
		m.heapPush(s)
	}
}

func (m *Map) endHold(s uint32, to boxoffice.SeatStatus) {
	h := m.holds.at(s)
	if h.heapIdx >= 0 {
		m.heapRemove(int(h.heapIdx))
	}
	for _, i := range h.seatList() {
		m.setStatus(int(i), to)
	}
	if h.promo != 0 {
		m.promos.end(h.promo, to == boxoffice.SeatBooked)
	}
	if to == boxoffice.SeatBooked {
		m.owners.add(m.owners.sold, h.owner, int32(h.n))
	} else {
		m.owners.add(m.owners.total, h.owner, -int32(h.n))
	}
	m.indexDelete(h.booking)
	if len(m.types) > 0 {
		delete(m.types, s)
	}
	m.holds.release(s)
}

func (m *Map) setStatus(i int, to boxoffice.SeatStatus) {
	if m.status[i] == boxoffice.SeatBooked && to != boxoffice.SeatBooked {
		// A sale undone (a refund) takes its admission with it: a resold
		// seat is admitted afresh, and Admitted counts sold seats only.
		delete(m.admitted, int32(i))
	}
	if len(m.areas) > 0 {
		m.countArea(i, m.status[i], to)
	}
	if len(m.rows) > 0 {
		m.rowChanged(int32(i), to) // best.go: forget what the row could seat
	}
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
