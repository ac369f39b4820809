package seatmap

import (
	"bytes"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Map is one event's seats and holds. It is not safe for concurrent use:
// one actor owns it and serialises every operation.
type Map struct {
	eventID uuid.UUID
	space   boxoffice.TicketSpace
	version uint64
	// status is one byte per seat; holds find their seats through their
	// own inline seat lists, so a seat costs nothing more.
	status []boxoffice.SeatStatus
	counts boxoffice.SeatCounts

	holds  holdStore
	index  bookingIndex // booking -> slot in holds (index.go)
	expiry []uint32     // slots of unpinned holds, a min-heap by expiry (holds.go)

	owners owners // seats held and bought per user (owners.go)
	limit  int    // max seats per user, 0 none (SetLimit)

	admitted map[int32]admission // checked-in seats (admit.go)

	areas []area  // standing areas in index order (standing.go)
	slab  []int32 // where records' seat lists are cut from (seatsOf)

	promos promoBook // promo code uses (promo.go; h19price)
	// types are the seats' ticket types of the holds that have a type
	// other than the first, by slot (h19price).
	types map[uint32]*[boxoffice.MaxSeatsPerHold]uint8
	// Seated rows and accessible seats for best available (best.go,
	// h19access): static venue data from SetRows, never journalled.
	rows       []rowSpan
	sections   []string // seated sections' names, rowSpan.sec indexes them
	access     []uint8  // per seat: accWheelchair, accCompanion or 0; nil when none
	wheelchair []int32  // wheelchair spaces, in index order
	// rowBound is, per row, an upper bound of its longest run of seats a
	// plain request may take: a scan sets it, a hold only shortens runs,
	// and a seat made available again resets it (rowChanged), so pickPlain
	// skips the rows it knows cannot seat a party. rowNoClean has bit q set
	// when a scan found no block of q that leaves no single seat; any
	// change in the row clears it.
	rowBound   []int32
	rowNoClean []uint16
	rowPlain   []int32 // per row, available seats a plain request may take
	rowStart   []int32 // per 64-seat block, where rowOf starts (best.go)
}

// hold is one live hold. Seats are kept inline (at most ten) so a hold
// costs no separate allocation.
type hold struct {
	booking   uuid.UUID
	owner     uuid.UUID
	expiresAt int64
	seats     [boxoffice.MaxSeatsPerHold]int32
	n         uint8
	pinned    bool
	// promo is the hold's promo code (1 + its index in promoBook.names, 0
	// none; h19price). It sits in what was padding before heapIdx, so a
	// hold still takes 88 bytes; ticket types other than the first live
	// beside the holds (Map.types), costing unpriced holds nothing.
	promo   uint16
	heapIdx int32 // position in expiry, -1 when pinned
}

func (h *hold) seatList() []int32 { return h.seats[:h.n] }

// HoldInfo describes a live hold.
type HoldInfo struct {
	Booking   uuid.UUID
	Owner     uuid.UUID
	Seats     []int32
	ExpiresAt time.Time
	Pinned    bool
	// Types are the seats' ticket types (nil: all the first type) and
	// Promo the hold's promo code ("" none); h19price.
	Types []uint8
	Promo string
}

// New returns an event's seat map with every seat available at version 0.
func New(eventID uuid.UUID, seats int) *Map {
	m := &Map{
		eventID:  eventID,
		space:    boxoffice.NewTicketSpace(eventID),
		status:   make([]boxoffice.SeatStatus, seats),
		index:    newBookingIndex(),
		owners:   newOwners(),
		admitted: map[int32]admission{},
		promos:   newPromoBook(),
		types:    map[uint32]*[boxoffice.MaxSeatsPerHold]uint8{},
	}
	m.counts.Available = seats
	return m
}

// EventID is the event the map belongs to.
func (m *Map) EventID() uuid.UUID { return m.eventID }

// Len is the number of seats.
func (m *Map) Len() int { return len(m.status) }

// Version counts the records applied; every change adds exactly one.
func (m *Map) Version() uint64 { return m.version }

// Index maps a ticket ID of this event to its seat index.
func (m *Map) Index(ticket uuid.UUID) (int, bool) {
	i, ok := m.space.Index(ticket)
	if !ok || i >= len(m.status) {
		return 0, false
	}
	return i, true
}

// TicketID is the ticket ID of seat i.
func (m *Map) TicketID(i int) uuid.UUID { return m.space.ID(i) }

// Status is seat i's status.
func (m *Map) Status(i int) boxoffice.SeatStatus { return m.status[i] }

// Statuses appends every seat's status, in index order, to dst.
func (m *Map) Statuses(dst []boxoffice.SeatStatus) []boxoffice.SeatStatus {
	return append(dst, m.status...)
}

// Counts is how many seats are in each status, kept incrementally.
func (m *Map) Counts() boxoffice.SeatCounts { return m.counts }

// Holds is the number of live holds.
func (m *Map) Holds() int { return m.index.n }

// HoldInfo describes the booking's live hold, if it has one.
func (m *Map) HoldInfo(booking uuid.UUID) (HoldInfo, bool) {
	s, ok := m.holdOf(booking)
	if !ok {
		return HoldInfo{}, false
	}
	return m.holdInfo(s), true
}

// PinnedHolds lists holds pinned for a payment, by booking ID, so that a
// fresh activation can settle payments a crash interrupted.
func (m *Map) PinnedHolds() []HoldInfo {
	var out []HoldInfo
	for s := range m.holds.used {
		if h := m.holds.at(s); h.n > 0 && h.pinned {
			out = append(out, m.holdInfo(s))
		}
	}
	slices.SortFunc(out, func(a, b HoldInfo) int { return bytes.Compare(a.Booking[:], b.Booking[:]) })
	return out
}

func (m *Map) holdInfo(s uint32) HoldInfo {
	h := m.holds.at(s)
	return HoldInfo{Booking: h.booking, Owner: h.owner, Seats: append([]int32(nil), h.seatList()...),
		ExpiresAt: time.Unix(0, h.expiresAt).UTC(), Pinned: h.pinned, Types: m.typeList(s), Promo: m.promos.name(h.promo)}
}

// NextExpiry is when the earliest unpinned hold runs out.
func (m *Map) NextExpiry() (time.Time, bool) {
	if len(m.expiry) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, m.holds.at(m.expiry[0]).expiresAt), true
}
