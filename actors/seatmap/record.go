package seatmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Kind says what a record did to one hold.
type Kind uint8

// Record kinds. Their numbers are stored in the journal: append only.
const (
	KindHeld Kind = iota + 1
	KindReleased
	KindExpired
	KindPinned
	KindUnpinned
	KindSold
	// KindExtended moves a pinned hold's expiry later, to the record's
	// ExpiresAt: a payment that waits for the buyer's action (3-D Secure)
	// keeps its seats until that bound.
	KindExtended
	// KindRefunded gives a sold booking's seats back to the event: its
	// money went back, the sale ended, and the seats are available again.
	// The booking has no hold; the record carries its buyer and seats.
	KindRefunded Kind = 8
)

// KindAdmitted checks one sold seat in at the door (API.md "Tickets and
// check-in"): Booking is the ticket's booking, Owner the scanner, Seats the
// one seat, ExpiresAt the admission time, and ScannedAt and Gate what the
// scan said. It changes no seat's status. (Kinds are numbered across
// branches: 8 is the refund's.)
const KindAdmitted Kind = 9

// lastKind is the highest kind a journal may hold.
const lastKind = KindAdmitted

// String names the kind in logs.
func (k Kind) String() string {
	switch k {
	case KindHeld:
		return "SeatsHeld"
	case KindReleased:
		return "HoldReleased"
	case KindExpired:
		return "HoldExpired"
	case KindPinned:
		return "HoldPinned"
	case KindUnpinned:
		return "HoldUnpinned"
	case KindSold:
		return "SeatsSold"
	case KindExtended:
		return "HoldExtended"
	case KindAdmitted:
		return "Admitted"
	case KindRefunded:
		return "SeatsRefunded"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Record is one change of the seat map: the unit of the journal and of
// versions. It carries the hold's seats in every kind, so that a record
// alone says what changed (the seat deltas clients get are derived from it).
type Record struct {
	Version uint64
	Kind    Kind
	Booking uuid.UUID
	Owner   uuid.UUID
	Seats   []int32
	// ExpiresAt is the hold's end in Unix nanoseconds (in every kind, so
	// the booking row a record leads to keeps it). KindAdmitted keeps the
	// admission time in it.
	ExpiresAt int64
	// ScannedAt (Unix ns, 0 for none) and Gate are KindAdmitted's: when
	// and where the scan was made. Other kinds leave them zero.
	ScannedAt int64
	Gate      string
	// Types (one per seat, nil when every seat is of the first type) and
	// Promo ("" none) are a priced hold's (h19price). Every record of a
	// priced hold carries them, so that a record alone still says what
	// the booking costs; KindRefunded carries the Promo whose use it
	// gives back.
	Types []uint8
	Promo string
}

// Change is one seat's new status.
type Change struct {
	Index  int32
	Status boxoffice.SeatStatus
}

// Changes returns the seat status changes the record made; pin and unpin
// change no seat.
func (r Record) Changes() []Change {
	var st boxoffice.SeatStatus
	switch r.Kind {
	case KindHeld:
		st = boxoffice.SeatReserved
	case KindReleased, KindExpired, KindRefunded:
		st = boxoffice.SeatAvailable
	case KindSold:
		st = boxoffice.SeatBooked
	default:
		return nil
	}
	out := make([]Change, len(r.Seats))
	for i, s := range r.Seats {
		out[i] = Change{Index: s, Status: st}
	}
	return out
}

// MarshalBinary encodes the record for the journal:
//
//	uvarint version | byte kind | 16 booking | 16 owner | uvarint n | n × uvarint seat | varint expiresAt
//
// and, for KindAdmitted only: | varint scannedAt | uvarint len | gate;
// for the records of a priced hold only (appendPriced):
// | byte flags | flags&1: n × byte type | flags&2: uvarint len | promo.
// A hold without types or promo adds no byte.
// A single-seat hold takes about 45 bytes.
func (r Record) MarshalBinary() ([]byte, error) {
	if r.Kind < KindHeld || r.Kind > lastKind {
		return nil, fmt.Errorf("seatmap: record kind %d", r.Kind)
	}
	buf := make([]byte, 0, 48+5*len(r.Seats))
	buf = binary.AppendUvarint(buf, r.Version)
	buf = append(buf, byte(r.Kind))
	buf = append(buf, r.Booking[:]...)
	buf = append(buf, r.Owner[:]...)
	if len(r.Seats) < 1 || len(r.Seats) > boxoffice.MaxSeatsPerHold {
		return nil, fmt.Errorf("seatmap: record with %d seats", len(r.Seats))
	}
	if slices.ContainsFunc(r.Seats, func(s int32) bool { return s < 0 }) {
		return nil, errors.New("seatmap: record with a negative seat index")
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Seats)))
	for _, s := range r.Seats {
		buf = binary.AppendUvarint(buf, uint64(s))
	}
	buf = binary.AppendVarint(buf, r.ExpiresAt)
	if r.Kind == KindAdmitted {
		if len(r.Seats) != 1 || len(r.Gate) > boxoffice.MaxGateLen {
			return nil, errors.New("seatmap: an admission is of one seat at a gate of at most 64 bytes")
		}
		buf = binary.AppendVarint(buf, r.ScannedAt)
		buf = binary.AppendUvarint(buf, uint64(len(r.Gate)))
		buf = append(buf, r.Gate...)
	} else if r.ScannedAt != 0 || r.Gate != "" {
		return nil, fmt.Errorf("seatmap: %s record with a scan", r.Kind)
	}
	if r.Kind != KindAdmitted {
		var err error
		if buf, err = appendPriced(buf, r.Types, r.Promo, len(r.Seats), false); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

var (
	errShort      = errors.New("seatmap: truncated data")
	errLongVarint = errors.New("seatmap: varint not in its shortest form")
)

// uvarintLen is the length of v's shortest encoding. The decoders accept
// only that form, so that whatever decodes re-encodes to the same bytes.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// reader decodes the varint formats without panicking on bad input.
type reader struct {
	b   []byte
	err error
}

func (d *reader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	if n != uvarintLen(v) {
		d.err = errLongVarint
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	if n != uvarintLen(uint64(v)<<1^uint64(v>>63)) {
		d.err = errLongVarint
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reader) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *reader) uuid() uuid.UUID {
	var u uuid.UUID
	copy(u[:], d.bytes(16))
	return u
}

// seats reads a count then that many seat indexes into buf, refusing
// counts no hold can have.
func (d *reader) seats(buf *[boxoffice.MaxSeatsPerHold]int32) []int32 {
	n := d.uvarint()
	if d.err == nil && (n < 1 || n > boxoffice.MaxSeatsPerHold) {
		d.err = fmt.Errorf("seatmap: %d seats in one hold", n)
	}
	if d.err != nil {
		return nil
	}
	out := buf[:n]
	for i := range out {
		v := d.uvarint()
		if v > 1<<31-1 {
			d.err = fmt.Errorf("seatmap: seat index %d", v)
			return nil
		}
		out[i] = int32(v)
	}
	return out
}

// UnmarshalRecord decodes a journal record; it never panics on bad input.
func UnmarshalRecord(data []byte) (Record, error) {
	d := &reader{b: data}
	var r Record
	r.Version = d.uvarint()
	k := d.bytes(1)
	if d.err == nil {
		r.Kind = Kind(k[0])
		if r.Kind < KindHeld || r.Kind > lastKind {
			return Record{}, fmt.Errorf("seatmap: record kind %d", k[0])
		}
	}
	r.Booking = d.uuid()
	r.Owner = d.uuid()
	var buf [boxoffice.MaxSeatsPerHold]int32
	r.Seats = slices.Clone(d.seats(&buf))
	r.ExpiresAt = d.varint()
	if r.Kind == KindAdmitted {
		r.ScannedAt = d.varint()
		n := d.uvarint()
		if d.err == nil && (n > boxoffice.MaxGateLen || len(r.Seats) != 1) {
			d.err = errors.New("seatmap: malformed admission")
		}
		if n > 0 {
			r.Gate = string(d.bytes(int(n)))
		}
	}
	if r.Kind != KindAdmitted && d.err == nil && len(d.b) != 0 {
		r.Types, r.Promo = d.priced(len(r.Seats), false)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("seatmap: trailing bytes after record")
	}
	if d.err != nil {
		return Record{}, d.err
	}
	return r, nil
}
