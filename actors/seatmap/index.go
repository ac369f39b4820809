package seatmap

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/google/uuid"
)

// bookingIndex maps a booking ID to its hold's slot. It is an
// open-addressing table with linear probing instead of a Go map because
// it sits on the hold path twice (the "already holds" lookup and the
// insert) and Go's map of 16-byte keys cost about half of a hold's 150 ns,
// growth included. Each entry is 8 bytes: the top 32 bits of the booking's
// hash, which also pick its home position, and slot+1 (0 means empty).
// Growth therefore rehashes without touching the holds, and a probe
// compares the stored hash bits before it reads a hold's booking ID.
//
// Booking IDs are random UUIDs the API generates, and the hash is seeded
// per map, so no caller can aim keys at one probe chain.
type bookingIndex struct {
	e    []uint64 // len is 0 or a power of two; at most half full
	n    int
	seed uint64
}

func newBookingIndex() bookingIndex { return bookingIndex{seed: rand.Uint64()} }

func (x *bookingIndex) hash(b uuid.UUID) uint32 {
	h := binary.LittleEndian.Uint64(b[:8]) ^ x.seed
	h = (h ^ h>>32) * 0x9e3779b97f4a7c15
	h ^= binary.LittleEndian.Uint64(b[8:])
	h = (h ^ h>>29) * 0xbf58476d1ce4e5b9
	return uint32(h >> 32)
}

// find returns where booking b, of hash h, is, or the empty position
// where it would go (-1 in an empty index), and whether it is there.
func (x *bookingIndex) find(st *holdStore, b uuid.UUID, h uint32) (pos int, found bool) {
	if len(x.e) == 0 {
		return -1, false
	}
	mask := len(x.e) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := x.e[i]
		if e == 0 {
			return i, false
		}
		if uint32(e>>32) == h && st.at(uint32(e)-1).booking == b {
			return i, true
		}
	}
}

// holdOf is the slot of b's hold.
func (m *Map) holdOf(b uuid.UUID) (uint32, bool) {
	pos, ok := m.index.find(&m.holds, b, m.index.hash(b))
	if !ok {
		return 0, false
	}
	return uint32(m.index.e[pos]) - 1, true
}

// slotHint carries what Hold's "already holds" lookup learnt, so that
// the insert that follows neither hashes nor probes again.
type slotHint struct {
	hash uint32
	pos  int // -1: unknown
}

// indexPut adds booking b, which must be absent, at slot s; hint is from
// a lookup of b since the index last changed, or has pos -1.
func (m *Map) indexPut(b uuid.UUID, s uint32, hint slotHint) {
	x := &m.index
	if hint.pos < 0 {
		hint.hash = x.hash(b)
	}
	if 2*(x.n+1) > len(x.e) {
		x.grow()
		hint.pos = -1
	}
	if hint.pos < 0 {
		hint.pos, _ = x.find(&m.holds, b, hint.hash)
	}
	x.e[hint.pos] = uint64(hint.hash)<<32 | uint64(s+1)
	x.n++
}

// reserve sizes an empty index for n bookings at once, as growing to
// them would (the smallest power of two at least 2n, at least 16), so that
// a snapshot's decode of n holds neither grows nor rehashes.
func (x *bookingIndex) reserve(n int) {
	if x.n != 0 {
		return
	}
	size := 16
	for size < 2*n {
		size *= 2
	}
	if size > len(x.e) {
		x.e = make([]uint64, size)
	}
}

func (x *bookingIndex) grow() {
	old := x.e
	x.e = make([]uint64, max(16, 2*len(old)))
	mask := len(x.e) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := int(e>>32) & mask
		for x.e[i] != 0 {
			i = (i + 1) & mask
		}
		x.e[i] = e
	}
}

// indexDelete removes booking b, which must be present, shifting the
// entries after it back so that no probe chain breaks (no tombstones).
func (m *Map) indexDelete(b uuid.UUID) {
	x := &m.index
	i, _ := x.find(&m.holds, b, x.hash(b))
	mask := len(x.e) - 1
	for j := i; ; {
		x.e[i] = 0
		for {
			j = (j + 1) & mask
			if x.e[j] == 0 {
				x.n--
				return
			}
			// The entry at j may fill the hole at i unless its home lies
			// cyclically in (i, j].
			home := int(x.e[j]>>32) & mask
			if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
				x.e[i] = x.e[j]
				i = j
				break
			}
		}
	}
}
