package seatmap

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// snapshotMagic starts every snapshot; the digit is the format version.
// BXS2 adds the buyers (seats sold per user, for max_tickets_per_user);
// BXS3 adds the admissions (check-in); BXS4 the standing areas (so a
// snapshot alone says which places its counters count). BXS1 snapshots
// still decode when they have no sold seat, BXS2 ones as having no
// admission, BXS3 ones as having no standing area (the grain declares its
// areas from the venue after a restore anyway, SetStanding). BXS5 adds
// each hold's ticket types and promo code and the sold uses per promo code
// (h19price); BXS4 ones decode as holding no type and no code.
const (
	snapshotMagic   = "BXS5"
	snapshotMagicV4 = "BXS4"
	snapshotMagicV3 = "BXS3"
	snapshotMagicV2 = "BXS2"
	snapshotMagicV1 = "BXS1"
)

// ErrNoBuyers is Decode's answer to a BXS1 snapshot with sold seats: it
// does not say who bought them, so the caller rebuilds the map from the
// whole journal instead (every SeatsSold record names its buyer).
var ErrNoBuyers = errors.New("seatmap: snapshot predates per-buyer counts")

// MarshalBinary encodes the whole state as a snapshot:
//
//	"BXS2" | uvarint version | uvarint seats | ceil(seats/4) bytes of 2-bit statuses
//	| uvarint holds | per hold, by booking ID: 16 booking | 16 owner | varint expiresAt
//	| byte pinned | uvarint n | n × uvarint seat
//	| uvarint buyers | per buyer, by user ID: 16 user | uvarint seats sold
//	| uvarint admitted | per admission, by seat: uvarint seat | 16 booking | 16 scanner
//	| varint at | varint scannedAt | uvarint len | gate
//	| uvarint areas | per area, in index order: uvarint first | uvarint capacity | uvarint len | name
//	| uvarint promos | per code, in code order: uvarint len | code | uvarint sold uses
//
// and, since BXS5, each hold ends with its priced extension (appendPriced,
// always with its flags byte).
//
// Holds are written in booking-ID order so that equal states encode to
// equal bytes, whatever order they were reached in.
func (m *Map) MarshalBinary() ([]byte, error) {
	n := len(m.status)
	buf := make([]byte, 0, m.snapshotSize())
	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, m.version)
	buf = binary.AppendUvarint(buf, uint64(n))
	at := len(buf)
	buf = append(buf, make([]byte, (n+3)/4)...) // appends zeros in place
	packed := buf[at:]
	for i, s := range m.status {
		packed[i/4] |= byte(s) << (2 * (i % 4))
	}
	keys := m.holdsByBooking()
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		s := k.slot
		h := m.holds.at(s)
		buf = append(buf, h.booking[:]...)
		buf = append(buf, h.owner[:]...)
		buf = binary.AppendVarint(buf, h.expiresAt)
		pinned := byte(0)
		if h.pinned {
			pinned = 1
		}
		buf = append(buf, pinned)
		buf = binary.AppendUvarint(buf, uint64(h.n))
		for _, i := range h.seatList() {
			buf = binary.AppendUvarint(buf, uint64(i))
		}
		if h.promo == 0 && m.types[s] == nil {
			buf = append(buf, 0) // appendPriced's flags of an unpriced hold
			continue
		}
		var err error
		if buf, err = appendPriced(buf, m.typeList(s), m.promos.name(h.promo), int(h.n), true); err != nil {
			return nil, err
		}
	}
	buyers := make([]uuid.UUID, 0, len(m.owners.sold))
	for u := range m.owners.sold {
		buyers = append(buyers, u)
	}
	slices.SortFunc(buyers, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	buf = binary.AppendUvarint(buf, uint64(len(buyers)))
	for _, u := range buyers {
		buf = append(buf, u[:]...)
		buf = binary.AppendUvarint(buf, uint64(m.owners.sold[u]))
	}
	return m.appendPromos(m.appendAreas(m.appendAdmissions(buf))), nil
}

// snapshotSize is an upper bound of MarshalBinary's length in all but
// rare cases (long gate names, many promo codes), so that the snapshot is
// written into one buffer that never grows: per hold its IDs, expiry,
// flags and up to 3 bytes per seat; per buyer an ID and a count; per
// admission two IDs, two times and a short gate.
func (m *Map) snapshotSize() int {
	return 64 + (len(m.status)+3)/4 + m.index.n*46 + m.counts.Reserved*3 +
		len(m.owners.sold)*21 + len(m.admitted)*64 + len(m.areas)*48 + len(m.promos.sold)*40
}

// holdKey is a live hold's booking ID as two big-endian words, which
// order as the ID's bytes do, beside its slot: sorting these compares
// integers in place instead of following each slot to its hold.
type holdKey struct {
	hi, lo uint64
	slot   uint32
}

// holdsByBooking lists the live holds in booking-ID order.
func (m *Map) holdsByBooking() []holdKey {
	keys := make([]holdKey, 0, m.index.n)
	for s := range m.holds.used {
		if h := m.holds.at(s); h.n > 0 {
			keys = append(keys, holdKey{binary.BigEndian.Uint64(h.booking[:8]), binary.BigEndian.Uint64(h.booking[8:]), s})
		}
	}
	slices.SortFunc(keys, func(a, b holdKey) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		return cmp.Compare(a.lo, b.lo)
	})
	return keys
}

// Decode rebuilds a map from a snapshot. It checks everything (seat
// indexes in range, held seats reserved and in one hold only, no reserved
// seat without a hold) and returns an error rather than a broken map; it
// never panics on bad input.
//
// A BXS1 snapshot with sold seats is ErrNoBuyers.
func Decode(eventID uuid.UUID, data []byte) (*Map, error) {
	v1 := bytes.HasPrefix(data, []byte(snapshotMagicV1))
	v2 := bytes.HasPrefix(data, []byte(snapshotMagicV2))
	v3 := bytes.HasPrefix(data, []byte(snapshotMagicV3))
	v4 := bytes.HasPrefix(data, []byte(snapshotMagicV4))
	if !v1 && !v2 && !v3 && !v4 && !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return nil, errors.New("seatmap: not a snapshot")
	}
	d := &reader{b: data[len(snapshotMagic):]}
	version := d.uvarint()
	n := d.uvarint()
	if d.err == nil && n > boxoffice.MaxVenueSeats {
		return nil, fmt.Errorf("seatmap: snapshot of %d seats", n)
	}
	packed := d.bytes(int((n + 3) / 4))
	if d.err != nil {
		return nil, d.err
	}
	if n%4 != 0 && packed[len(packed)-1]>>(2*(n%4)) != 0 {
		return nil, errors.New("seatmap: snapshot has bits set past the last seat")
	}
	m := New(eventID, int(n))
	m.version = version
	var tally [4]int // seats per 2-bit status; 3 is none
	for i := range m.status {
		s := boxoffice.SeatStatus(packed[i>>2] >> (2 * (i & 3)) & 3)
		m.status[i] = s
		tally[s]++
	}
	if tally[3] > 0 {
		i := slices.Index(m.status, 3)
		return nil, fmt.Errorf("seatmap: seat %d has status %d", i, m.status[i])
	}
	m.counts = boxoffice.SeatCounts{Available: tally[boxoffice.SeatAvailable],
		Reserved: tally[boxoffice.SeatReserved], Booked: tally[boxoffice.SeatBooked]}
	if v1 && m.counts.Booked > 0 {
		return nil, ErrNoBuyers
	}
	if err := m.decodeHolds(d, v1, v1 || v2, v1 || v2 || v3, v1 || v2 || v3 || v4); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Map) decodeHolds(d *reader, v1, noAdmissions, noAreas, noPriced bool) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(len(m.status)) {
		return fmt.Errorf("seatmap: snapshot has %d holds for %d seats", count, len(m.status))
	}
	// A hold takes at least 36 bytes (two IDs, expiry, pinned, one seat,
	// its count): a count the data cannot hold sizes nothing.
	m.index.reserve(min(int(count), len(d.b)/36))
	m.expiry = slices.Grow(m.expiry, min(int(count), len(d.b)/36))
	inHold := newBitset(len(m.status))
	held := 0
	var prev uuid.UUID // a value: a slice of booking would move every booking to the heap
	var buf [boxoffice.MaxSeatsPerHold]int32
	for range count {
		booking, owner := d.uuid(), d.uuid()
		exp := d.varint()
		pinned := d.bytes(1)
		seats := d.seats(&buf)
		var types []uint8
		var promo string
		if !noPriced {
			if len(d.b) > 0 && d.b[0] == 0 {
				d.b = d.b[1:] // an unpriced hold: priced's flags 0, nothing else
			} else {
				types, promo = d.priced(len(seats), true)
			}
		}
		if d.err != nil {
			return d.err
		}
		if pinned[0] > 1 || (held > 0 && bytes.Compare(prev[:], booking[:]) >= 0) {
			return errors.New("seatmap: snapshot holds out of order or malformed")
		}
		prev = booking
		for _, s := range seats {
			if s < 0 || int(s) >= len(m.status) || m.status[s] != boxoffice.SeatReserved || inHold.has(int(s)) {
				return fmt.Errorf("seatmap: snapshot hold %s has bad seat %d", booking, s)
			}
			inHold.set(int(s))
		}
		held += len(seats)
		slot := m.holds.alloc()
		m.putHold(slot, booking, owner, exp, pinned[0] == 1, seats, slotHint{pos: -1})
		if types != nil || promo != "" {
			m.setPriced(slot, types, promo)
		}
		m.owners.add(m.owners.total, owner, int32(len(seats)))
	}
	if !v1 {
		if err := m.decodeBuyers(d); err != nil {
			return err
		}
	}
	if !noAdmissions {
		if err := m.decodeAdmissions(d); err != nil {
			return err
		}
	}
	if !noAreas {
		if err := m.decodeAreas(d); err != nil {
			return err
		}
	}
	if !noPriced {
		if err := m.decodePromos(d); err != nil {
			return err
		}
	}
	if d.err == nil && len(d.b) != 0 {
		return errors.New("seatmap: trailing bytes after snapshot")
	}
	if d.err != nil {
		return d.err
	}
	if held != m.counts.Reserved {
		return fmt.Errorf("seatmap: %d reserved seats but %d in holds", m.counts.Reserved, held)
	}
	return nil
}

// decodeBuyers reads the seats sold per user; they must add up to the
// booked seats.
func (m *Map) decodeBuyers(d *reader) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(m.counts.Booked) {
		return fmt.Errorf("seatmap: snapshot has %d buyers for %d sold seats", count, m.counts.Booked)
	}
	sold := 0
	var prev uuid.UUID // a value, as in decodeHolds
	for range count {
		u := d.uuid()
		n := d.uvarint()
		if d.err != nil {
			return d.err
		}
		if n < 1 || n > uint64(m.counts.Booked) || (sold > 0 && bytes.Compare(prev[:], u[:]) >= 0) {
			return errors.New("seatmap: snapshot buyers out of order or malformed")
		}
		prev = u
		sold += int(n)
		m.owners.add(m.owners.sold, u, int32(n))
		m.owners.add(m.owners.total, u, int32(n))
	}
	if d.err == nil && sold != m.counts.Booked {
		return fmt.Errorf("seatmap: %d sold seats but %d in buyers", m.counts.Booked, sold)
	}
	return d.err
}

// appendAdmissions encodes the admissions in seat order.
func (m *Map) appendAdmissions(buf []byte) []byte {
	seats := make([]int32, 0, len(m.admitted))
	for s := range m.admitted {
		seats = append(seats, s)
	}
	slices.Sort(seats)
	buf = binary.AppendUvarint(buf, uint64(len(seats)))
	for _, s := range seats {
		a := m.admitted[s]
		buf = binary.AppendUvarint(buf, uint64(s))
		buf = append(buf, a.booking[:]...)
		buf = append(buf, a.scanner[:]...)
		buf = binary.AppendVarint(buf, a.at)
		buf = binary.AppendVarint(buf, a.scannedAt)
		buf = binary.AppendUvarint(buf, uint64(len(a.gate)))
		buf = append(buf, a.gate...)
	}
	return buf
}

// decodeAdmissions reads the admissions: sold seats, in increasing order
// (a sale undone drops its admission, see setStatus).
func (m *Map) decodeAdmissions(d *reader) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(len(m.status)) {
		return fmt.Errorf("seatmap: snapshot has %d admissions for %d seats", count, len(m.status))
	}
	prev := int64(-1)
	for range count {
		s := d.uvarint()
		var a admission
		a.booking, a.scanner = d.uuid(), d.uuid()
		a.at, a.scannedAt = d.varint(), d.varint()
		n := d.uvarint()
		if d.err == nil && (n > boxoffice.MaxGateLen || s >= uint64(len(m.status)) || int64(s) <= prev ||
			m.status[s] != boxoffice.SeatBooked) {
			return errors.New("seatmap: snapshot admissions out of order or malformed")
		}
		if n > 0 {
			a.gate = string(d.bytes(int(n)))
		}
		if d.err != nil {
			return d.err
		}
		prev = int64(s)
		m.admitted[int32(s)] = a
	}
	return d.err
}

// appendAreas encodes the standing areas in index order; their counters
// are not stored, the statuses give them.
func (m *Map) appendAreas(buf []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(m.areas)))
	for _, a := range m.areas {
		buf = binary.AppendUvarint(buf, uint64(a.first))
		buf = binary.AppendUvarint(buf, uint64(a.n))
		buf = binary.AppendUvarint(buf, uint64(len(a.name)))
		buf = append(buf, a.name...)
	}
	return buf
}

// decodeAreas reads the standing areas and declares them (SetStanding
// checks them and counts their places left).
func (m *Map) decodeAreas(d *reader) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(len(m.status)) {
		return fmt.Errorf("seatmap: snapshot has %d standing areas for %d seats", count, len(m.status))
	}
	var areas []boxoffice.StandingArea
	for range count {
		first, n, l := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err == nil && (first > uint64(len(m.status)) || n > uint64(len(m.status)) || l > 255) {
			return errors.New("seatmap: snapshot standing area malformed")
		}
		name := string(d.bytes(int(l)))
		if d.err != nil {
			return d.err
		}
		areas = append(areas, boxoffice.StandingArea{Name: name, First: int(first), Capacity: int(n)})
	}
	if d.err != nil {
		return d.err
	}
	return m.SetStanding(areas)
}

// appendPromos encodes the sold uses per promo code, in code order (the
// held uses are the holds').
func (m *Map) appendPromos(buf []byte) []byte {
	codes := make([]string, 0, len(m.promos.sold))
	for c := range m.promos.sold {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	buf = binary.AppendUvarint(buf, uint64(len(codes)))
	for _, c := range codes {
		buf = binary.AppendUvarint(buf, uint64(len(c)))
		buf = append(buf, c...)
		buf = binary.AppendUvarint(buf, uint64(m.promos.sold[c]))
	}
	return buf
}

// decodePromos reads the sold uses per promo code: in increasing code
// order, each at least 1 and at most the sold seats.
func (m *Map) decodePromos(d *reader) error {
	count := d.uvarint()
	if d.err == nil && count > uint64(m.counts.Booked) {
		return fmt.Errorf("seatmap: snapshot has %d promo codes for %d sold seats", count, m.counts.Booked)
	}
	prev := ""
	for k := range count {
		l := d.uvarint()
		if d.err == nil && (l < 1 || l > maxPromoLen) {
			return errors.New("seatmap: snapshot promo code malformed")
		}
		code := string(d.bytes(int(l)))
		n := d.uvarint()
		if d.err != nil {
			return d.err
		}
		if (k > 0 && code <= prev) || n < 1 || n > uint64(m.counts.Booked) {
			return errors.New("seatmap: snapshot promo codes out of order or malformed")
		}
		prev = code
		m.promos.sold[code] = int32(n)
		m.promos.uses[code] += int32(n)
	}
	return d.err
}
