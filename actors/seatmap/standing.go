package seatmap

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Standing sections (general admission, API.md). A standing area is a run
// of flat indexes, one per place, each with its own ticket like a seat. So
// every rule a seat follows (hold, expiry, per-user limit, pin, sale,
// refund, admission) holds for a place unchanged, and the journal's
// ordinary records carry the places a hold took: a record needs no
// quantity, and replay and snapshots rebuild which places are taken. What
// the map adds per area is its capacity counter (places left, kept with
// every status change) and the choice of places for a quantity.

// area is one standing area: places first..first+n-1.
type area struct {
	name  string
	first int32
	n     int32
	left  int32 // available places
	next  int32 // where the next pick starts looking (next fit)
}

// Area describes a standing area and how many of its places are left.
type Area struct {
	Name     string
	First    int
	Capacity int
	Left     int
}

// Want asks for Quantity places of the standing area named Section.
type Want struct {
	Section  string
	Quantity int
	// Type is the places' ticket type (ReservePriced; h19price).
	Type uint8
}

// SetStanding declares the map's standing areas (from the venue's layout,
// boxoffice.SeatMap.StandingAreas) and counts their places left from the
// statuses. Areas must lie inside the map, in index order, without
// overlap; the previous areas are replaced.
func (m *Map) SetStanding(areas []boxoffice.StandingArea) error {
	out := make([]area, 0, len(areas))
	end := 0
	for _, a := range areas {
		if a.Capacity < 1 || a.First < end || a.First+a.Capacity > len(m.status) {
			return fmt.Errorf("seatmap: standing area %q [%d,+%d) outside the map or overlapping", a.Name, a.First, a.Capacity)
		}
		if slices.ContainsFunc(out, func(o area) bool { return o.name == a.Name }) {
			return fmt.Errorf("seatmap: standing area %q twice", a.Name)
		}
		end = a.First + a.Capacity
		ar := area{name: a.Name, first: int32(a.First), n: int32(a.Capacity)}
		for _, s := range m.status[a.First:end] {
			if s == boxoffice.SeatAvailable {
				ar.left++
			}
		}
		out = append(out, ar)
	}
	m.areas = out
	return nil
}

// Areas lists the standing areas with their places left, in index order.
func (m *Map) Areas() []Area {
	out := make([]Area, len(m.areas))
	for k, a := range m.areas {
		out[k] = Area{Name: a.name, First: int(a.first), Capacity: int(a.n), Left: int(a.left)}
	}
	return out
}

// areaOf is the area holding index i, or nil.
func (m *Map) areaOf(i int) *area {
	k := sort.Search(len(m.areas), func(k int) bool { return int(m.areas[k].first+m.areas[k].n) > i })
	if k < len(m.areas) && int(m.areas[k].first) <= i {
		return &m.areas[k]
	}
	return nil
}

// countArea keeps the area counter of index i as its status goes from
// from to to.
func (m *Map) countArea(i int, from, to boxoffice.SeatStatus) {
	a := m.areaOf(i)
	if a == nil {
		return
	}
	if from == boxoffice.SeatAvailable {
		a.left--
	}
	if to == boxoffice.SeatAvailable {
		a.left++
	}
}

// Reserve holds, all or none, the tickets named and the standing places
// wanted: the map picks which places of each area. Without wants it is
// Hold. Errors beyond Hold's: invalid_argument (field standing: an area
// that is not standing, named twice, a quantity below 1, or seats and
// places together not 1..10), and seat_unavailable with details.section
// and details.left (and an empty details.ticket_ids) when an area has
// fewer places left than wanted; a short
// area is refused after booking_state and limit_reached, like a taken seat.
func (m *Map) Reserve(owner, booking uuid.UUID, tickets []uuid.UUID, wants []Want, now time.Time, ttl time.Duration) (Record, error) {
	if len(wants) == 0 {
		return m.Hold(owner, booking, tickets, now, ttl)
	}
	total := len(tickets)
	for k, w := range wants {
		if m.areaNamed(w.Section) == nil {
			return Record{}, boxoffice.InvalidField("standing", "section %q is not a standing section of this event", w.Section)
		}
		if slices.ContainsFunc(wants[:k], func(o Want) bool { return o.Section == w.Section }) {
			return Record{}, boxoffice.InvalidField("standing", "section %q appears twice", w.Section)
		}
		if w.Quantity < 1 || w.Quantity > boxoffice.MaxSeatsPerHold {
			return Record{}, boxoffice.InvalidField("standing", "quantity must be 1..%d, not %d", boxoffice.MaxSeatsPerHold, w.Quantity)
		}
		total += w.Quantity
	}
	if total > boxoffice.MaxSeatsPerHold {
		return Record{}, boxoffice.InvalidField("standing", "a hold takes 1 to %d seats and places, not %d", boxoffice.MaxSeatsPerHold, total)
	}
	skip := make([]int32, 0, len(tickets))
	for _, t := range tickets {
		if i, ok := m.Index(t); ok {
			skip = append(skip, int32(i))
		}
	}
	all := slices.Clone(tickets)
	for _, w := range wants {
		a := m.areaNamed(w.Section)
		picked := m.pick(a, w.Quantity, skip)
		if len(picked) < w.Quantity {
			if _, held := m.holdOf(booking); held {
				return Record{}, boxoffice.Errorf(boxoffice.EBookingState, "booking %s already holds seats", booking)
			}
			if err := m.checkLimit(owner, total); err != nil {
				return Record{}, err
			}
			e := boxoffice.Errorf(boxoffice.ESeatUnavailable, "standing section %q has %d place(s) left, %d wanted", a.name, a.left, w.Quantity)
			e.Details = map[string]any{"ticket_ids": []string{}, "section": a.name, "left": int(a.left)}
			return Record{}, e
		}
		for _, i := range picked {
			all = append(all, m.TicketID(int(i)))
		}
		skip = append(skip, picked...)
	}
	return m.Hold(owner, booking, all, now, ttl)
}

func (m *Map) areaNamed(name string) *area {
	for k := range m.areas {
		if m.areas[k].name == name {
			return &m.areas[k]
		}
	}
	return nil
}

// pick finds q available places of a not in skip, next fit from where
// the last pick stopped, so a busy area is not rescanned from its start.
// It returns fewer when the area has fewer.
func (m *Map) pick(a *area, q int, skip []int32) []int32 {
	if int(a.left) < q {
		return nil
	}
	out := make([]int32, 0, q)
	p := a.next
	for scanned := int32(0); len(out) < q && scanned < a.n; scanned++ {
		i := a.first + p
		if m.status[i] == boxoffice.SeatAvailable && !slices.Contains(skip, i) {
			out = append(out, i)
		}
		if p++; p == a.n {
			p = 0
		}
	}
	a.next = p
	return out
}

// StandingCount is how many of seats lie in each standing area, in the
// order of Areas (for matching a retried reserve to its hold).
func (m *Map) StandingCount(seats []int32) []int {
	out := make([]int, len(m.areas))
	for _, s := range seats {
		for k, a := range m.areas {
			if s >= a.first && s < a.first+a.n {
				out[k]++
			}
		}
	}
	return out
}

// checkAreas verifies each area's counter against the statuses.
func (m *Map) checkAreas() error {
	for _, a := range m.areas {
		left := int32(0)
		for _, s := range m.status[a.first : a.first+a.n] {
			if s == boxoffice.SeatAvailable {
				left++
			}
		}
		if left != a.left {
			return fmt.Errorf("seatmap: standing area %q counts %d places left, statuses say %d", a.name, a.left, left)
		}
	}
	return nil
}
