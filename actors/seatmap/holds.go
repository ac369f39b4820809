package seatmap

import "bytes"

// chunkBits sizes the chunks holds live in: 128 holds (11 KB) a chunk.
// Chunks never move, so growing to thousands of holds copies nothing, and
// a *hold stays valid while other holds come and go.
const (
	chunkBits = 7
	chunkSize = 1 << chunkBits
)

// holdStore is the slot allocator of live holds. A slot number (uint32)
// is a hold's identity inside the map: the booking index and the expiry
// heap refer to holds by slot, which costs 4 bytes where a pointer costs 8
// and gives the garbage collector nothing to trace.
type holdStore struct {
	chunks []*[chunkSize]hold
	free   []uint32 // released slots, reused last-in first-out
	used   uint32   // slots ever handed out: the high-water mark
}

// at is the hold in slot s.
func (st *holdStore) at(s uint32) *hold { return &st.chunks[s>>chunkBits][s&(chunkSize-1)] }

// alloc returns an empty slot, reusing a released one first.
func (st *holdStore) alloc() uint32 {
	if n := len(st.free); n > 0 {
		s := st.free[n-1]
		st.free = st.free[:n-1]
		return s
	}
	if int(st.used) == len(st.chunks)*chunkSize {
		st.chunks = append(st.chunks, new([chunkSize]hold))
	}
	st.used++
	return st.used - 1
}

// seatSlabSize is the most seat numbers one slab holds: 2 KB, one
// allocation per ~500 single-seat records. Slabs start at 16 and double,
// so an event with few holds (most of 10,000 active ones) keeps 64 bytes,
// not 2 KB.
const seatSlabSize = 512

// seatsOf copies a record's seats out of a hold or a request into the
// map's current slab, so that a record costs no allocation of its own. The
// copy is capped (three-index slice): a caller that appends to it gets its
// own array and never writes into the next record's seats. A slab lives as
// long as any record still refers to it.
func (m *Map) seatsOf(seats []int32) []int32 {
	if len(seats) > cap(m.slab)-len(m.slab) {
		m.slab = make([]int32, 0, max(min(seatSlabSize, 2*cap(m.slab)), 16, len(seats)))
	}
	from := len(m.slab)
	m.slab = append(m.slab, seats...)
	return m.slab[from:len(m.slab):len(m.slab)]
}

// release empties slot s for reuse.
func (st *holdStore) release(s uint32) {
	*st.at(s) = hold{heapIdx: -1}
	st.free = append(st.free, s)
}

// The expiry heap is a binary min-heap of the slots of unpinned holds,
// ordered by (expiresAt, booking ID); each hold keeps its heapIdx so a
// release, sale or pin removes it in O(log n). It is written out rather
// than built on container/heap, whose Push boxes every slot in an
// interface (an allocation per hold).

// heapLess orders slots a and b by expiry, then booking ID: ties go by
// booking ID, not slot, so that a map decoded from a snapshot expires
// holds in the same order as the live one did.
func (m *Map) heapLess(a, b uint32) bool {
	x, y := m.holds.at(a), m.holds.at(b)
	if x.expiresAt != y.expiresAt {
		return x.expiresAt < y.expiresAt
	}
	return bytes.Compare(x.booking[:], y.booking[:]) < 0
}

// heapSet puts slot s at heap position i.
func (m *Map) heapSet(i int, s uint32) {
	m.expiry[i] = s
	m.holds.at(s).heapIdx = int32(i)
}

func (m *Map) heapPush(s uint32) {
	m.expiry = append(m.expiry, s)
	m.holds.at(s).heapIdx = int32(len(m.expiry) - 1)
	m.heapUp(len(m.expiry) - 1)
}

// heapRemove takes out the slot at heap position i.
func (m *Map) heapRemove(i int) {
	last := len(m.expiry) - 1
	s := m.expiry[i]
	if i != last {
		m.heapSet(i, m.expiry[last])
	}
	m.expiry = m.expiry[:last]
	m.holds.at(s).heapIdx = -1
	if i != last && !m.heapDown(i) {
		m.heapUp(i)
	}
}

func (m *Map) heapUp(i int) {
	s := m.expiry[i]
	for i > 0 {
		p := (i - 1) / 2
		if !m.heapLess(s, m.expiry[p]) {
			break
		}
		m.heapSet(i, m.expiry[p])
		i = p
	}
	m.heapSet(i, s)
}

// heapDown sifts position i down and reports whether it moved.
func (m *Map) heapDown(i0 int) bool {
	i, s, n := i0, m.expiry[i0], len(m.expiry)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && m.heapLess(m.expiry[r], m.expiry[c]) {
			c = r
		}
		if !m.heapLess(m.expiry[c], s) {
			break
		}
		m.heapSet(i, m.expiry[c])
		i = c
	}
	m.heapSet(i, s)
	return i > i0
}
