package seatmap

import (
	"fmt"

	"github.com/boxoffice/boxoffice"
)

// Check verifies every invariant of the map: counts match the statuses,
// each hold's seats are reserved and belong to no other hold, every
// reserved seat is in a hold, every admitted seat is sold, and the expiry heap holds exactly the
// unpinned holds in heap order. It costs O(seats + holds); the tests and
// fuzzers run it after every step, and an actor may run it after a replay
// it does not trust.
func (m *Map) Check() error {
	var c boxoffice.SeatCounts
	for i, s := range m.status {
		if s > boxoffice.SeatBooked {
			return fmt.Errorf("seatmap: seat %d has status %d", i, s)
		}
		countInto(&c, s)
	}
	if c != m.counts {
		return fmt.Errorf("seatmap: counts %+v, statuses say %+v", m.counts, c)
	}
	if err := m.checkAreas(); err != nil {
		return err
	}
	if err := m.checkPromos(); err != nil {
		return err
	}
	if err := m.checkRows(); err != nil { // best.go (h19access)
		return err
	}
	for s := range m.admitted {
		if s < 0 || int(s) >= len(m.status) || m.status[s] != boxoffice.SeatBooked {
			return fmt.Errorf("seatmap: seat %d is admitted but not sold", s)
		}
	}
	inHold := newBitset(len(m.status))
	held, unpinned := 0, 0
	owned := map[[16]byte]int32{} // per user: held seats, then plus sold
	live := 0
	for s := range m.holds.used {
		h := m.holds.at(s)
		if h.n == 0 {
			continue
		}
		live++
		b := h.booking
		if got, ok := m.holdOf(b); !ok || got != s {
			return fmt.Errorf("seatmap: booking %s of slot %d is not indexed to it", b, s)
		}
		for _, i := range h.seatList() {
			if i < 0 || int(i) >= len(m.status) || m.status[i] != boxoffice.SeatReserved || inHold.has(int(i)) {
				return fmt.Errorf("seatmap: hold %s has bad seat %d", b, i)
			}
			inHold.set(int(i))
		}
		held += int(h.n)
		owned[h.owner] += int32(h.n)
		if h.pinned != (h.heapIdx < 0) {
			return fmt.Errorf("seatmap: hold %s pinned=%v at heap index %d", b, h.pinned, h.heapIdx)
		}
		if !h.pinned {
			unpinned++
			if int(h.heapIdx) >= len(m.expiry) || m.expiry[h.heapIdx] != s {
				return fmt.Errorf("seatmap: hold %s lost from the expiry heap", b)
			}
		}
	}
	if held != m.counts.Reserved {
		return fmt.Errorf("seatmap: %d reserved seats but %d in holds", m.counts.Reserved, held)
	}
	if unpinned != len(m.expiry) {
		return fmt.Errorf("seatmap: %d unpinned holds but %d in the expiry heap", unpinned, len(m.expiry))
	}
	for i := 1; i < len(m.expiry); i++ {
		if m.heapLess(m.expiry[i], m.expiry[(i-1)/2]) {
			return fmt.Errorf("seatmap: expiry heap out of order at %d", i)
		}
	}
	if live != m.index.n || live+len(m.holds.free) != int(m.holds.used) {
		return fmt.Errorf("seatmap: %d live holds, %d indexed, %d free slots of %d", live, m.index.n, len(m.holds.free), m.holds.used)
	}
	for _, s := range m.holds.free {
		if s >= m.holds.used || m.holds.at(s).n != 0 {
			return fmt.Errorf("seatmap: free slot %d is in use", s)
		}
	}
	return m.checkOwners(owned)
}

// checkOwners verifies the per-user counts: sold seats add up to the
// booked ones, and each user's total is its held seats plus its sold ones.
func (m *Map) checkOwners(owned map[[16]byte]int32) error {
	sold := 0
	for u, n := range m.owners.sold {
		if n <= 0 {
			return fmt.Errorf("seatmap: buyer %s has %d seats", u, n)
		}
		sold += int(n)
		owned[u] += n
	}
	if sold != m.counts.Booked {
		return fmt.Errorf("seatmap: %d booked seats but %d sold to buyers", m.counts.Booked, sold)
	}
	if len(owned) != len(m.owners.total) {
		return fmt.Errorf("seatmap: %d users hold or own seats, %d counted", len(owned), len(m.owners.total))
	}
	for u, n := range owned {
		if m.owners.total[u] != n {
			return fmt.Errorf("seatmap: user %x holds and owns %d seats, counted %d", u, n, m.owners.total[u])
		}
	}
	return nil
}

// countInto adds one seat of status s to c.
func countInto(c *boxoffice.SeatCounts, s boxoffice.SeatStatus) {
	switch s {
	case boxoffice.SeatAvailable:
		c.Available++
	case boxoffice.SeatReserved:
		c.Reserved++
	case boxoffice.SeatBooked:
		c.Booked++
	}
}

// bitset marks seats; one bit each, so checking 200,000 seats costs 25 KB.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
