package boxoffice

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/google/uuid"
)

// Booking IDs name their event (issue 21, exact reads from any node): a
// hold's booking row is written behind the journal, so a node that is not
// the event's owner cannot find a fresh hold in PostgreSQL by its ID. The ID
// therefore carries a fingerprint of its event, and any node resolves a
// booking to the event's grain through the events table's indexed
// fingerprint column (migration 0640), then asks the grain.
//
// The scheme: an RFC 9562 version 8 UUID whose first 6 bytes are the event's
// fingerprint (the first 48 bits of SHA-256(eventID || "boxoffice/bookings"),
// what PostgreSQL computes as events.booking_fp), the version nibble 8, the
// marker nibble 0xB, the RFC 4122 variant, and 70 random bits from
// crypto/rand. Random-v4 booking IDs of older rows stay valid: they are
// found by reading the table.
const bookingMarker = 0xB

// NewBookingID returns a fresh booking ID of the event.
func NewBookingID(eventID uuid.UUID) uuid.UUID {
	id := uuid.New() // 122 random bits; 70 of them are kept
	var fp [8]byte
	binary.BigEndian.PutUint64(fp[:], uint64(BookingFingerprint(eventID)))
	copy(id[:6], fp[2:])
	id[6] = 0x80 | bookingMarker // version 8, marker
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

// BookingFingerprint is the 48-bit fingerprint of an event that its booking
// IDs carry (events.booking_fp); distinct events may share one, rarely.
func BookingFingerprint(eventID uuid.UUID) int64 {
	h := sha256.Sum256(append(eventID[:], "boxoffice/bookings"...))
	var b [8]byte
	copy(b[2:], h[:6])
	return int64(binary.BigEndian.Uint64(b[:]))
}

// EventFingerprintOf returns the event fingerprint a booking ID carries, and
// false for an ID that carries none (a random-v4 ID of an older booking).
func EventFingerprintOf(bookingID uuid.UUID) (int64, bool) {
	if bookingID[6] != 0x80|bookingMarker || bookingID[8]&0xc0 != 0x80 {
		return 0, false
	}
	var b [8]byte
	copy(b[2:], bookingID[:6])
	return int64(binary.BigEndian.Uint64(b[:])), true
}
