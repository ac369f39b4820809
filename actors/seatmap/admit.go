package seatmap

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// admission is a seat's check-in, kept per seat (admitted seats only) so
// that the map alone decides a second scan. Only sold seats have one: a
// kind that gives a sold seat back (a refund) drops it (setStatus).
type admission struct {
	booking   uuid.UUID
	scanner   uuid.UUID
	at        int64 // Unix ns
	scannedAt int64 // Unix ns, 0 for none
	gate      string
}

// Admit checks the sold seat of booking in: the first scan of a ticket
// wins, in the order the map sees them. Errors: not_found (no such seat),
// ticket_revoked (the seat is not sold: its booking was refunded or
// cancelled), already_admitted (details: the first admission). The seat
// map does not know which booking bought a seat; the caller checks that the
// ticket's booking is still a sale of this seat (actors.Engine.CheckIn).
func (m *Map) Admit(booking, scanner uuid.UUID, seat int, now, scannedAt time.Time, gate string) (Record, error) {
	if seat < 0 || seat >= len(m.status) {
		return Record{}, boxoffice.Errorf(boxoffice.ENotFound, "the event has no seat %d", seat)
	}
	if a, ok := m.admitted[int32(seat)]; ok && a.booking == booking {
		return Record{}, boxoffice.AlreadyAdmitted(m.admissionOf(seat, a))
	}
	if m.status[seat] != boxoffice.SeatBooked {
		return Record{}, boxoffice.Errorf(boxoffice.ETicketRevoked, "the ticket is no longer sold: refunded or cancelled")
	}
	if len(gate) > boxoffice.MaxGateLen {
		return Record{}, boxoffice.InvalidField("gate", "a gate is at most %d bytes", boxoffice.MaxGateLen)
	}
	var sc int64
	if !scannedAt.IsZero() {
		sc = scannedAt.UnixNano()
	}
	r := Record{Version: m.version + 1, Kind: KindAdmitted, Booking: booking, Owner: scanner,
		Seats: []int32{int32(seat)}, ExpiresAt: now.UnixNano(), ScannedAt: sc, Gate: gate}
	m.version = r.Version
	m.admit(r)
	return r, nil
}

// checkAdmit validates a KindAdmitted record against the state.
func (m *Map) checkAdmit(r Record) error {
	if len(r.Seats) != 1 || r.Seats[0] < 0 || int(r.Seats[0]) >= len(m.status) {
		return fmt.Errorf("seatmap: v%d admits a seat the event does not have", r.Version)
	}
	s := r.Seats[0]
	if m.status[s] != boxoffice.SeatBooked {
		return fmt.Errorf("seatmap: v%d admits seat %d, which is not sold", r.Version, s)
	}
	if a, ok := m.admitted[s]; ok && a.booking == r.Booking {
		return fmt.Errorf("seatmap: v%d admits seat %d twice", r.Version, s)
	}
	return nil
}

func (m *Map) admit(r Record) {
	m.admitted[r.Seats[0]] = admission{booking: r.Booking, scanner: r.Owner, at: r.ExpiresAt,
		scannedAt: r.ScannedAt, gate: r.Gate}
}

// Admission is seat's check-in, if it has one.
func (m *Map) Admission(seat int) (boxoffice.Admission, bool) {
	a, ok := m.admitted[int32(seat)]
	if !ok {
		return boxoffice.Admission{}, false
	}
	return m.admissionOf(seat, a), true
}

func (m *Map) admissionOf(seat int, a admission) boxoffice.Admission {
	out := boxoffice.Admission{TicketID: m.TicketID(seat), EventID: m.eventID, BookingID: a.booking, Index: seat,
		AdmittedAt: time.Unix(0, a.at).UTC(), Gate: a.gate}
	if a.scannedAt != 0 {
		out.ScannedAt = time.Unix(0, a.scannedAt).UTC()
	}
	return out
}

// Admitted is how many seats have been checked in.
func (m *Map) Admitted() int { return len(m.admitted) }
