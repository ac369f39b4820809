package boxoffice

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/google/uuid"
)

// TicketSpace derives ticket IDs from an event ID and a seat's flat index,
// so the seat engine maps a ticket UUID to its seat with no table at all.
//
// The scheme: the first 12 bytes of a ticket ID are the first 12 bytes of
// SHA-256(eventID || "boxoffice/tickets"), with the RFC 9562 version set to
// 8 (custom) and the RFC 4122 variant bits set; the last 4 bytes are the
// seat's flat index, big-endian. A ticket ID is therefore a valid UUID,
// unique per (event, seat), and its index is read back in O(1) after
// checking the 12-byte prefix belongs to the event.
type TicketSpace [12]byte

// NewTicketSpace computes the prefix of event's ticket IDs.
func NewTicketSpace(event uuid.UUID) TicketSpace {
	h := sha256.Sum256(append(event[:], "boxoffice/tickets"...))
	var s TicketSpace
	copy(s[:], h[:12])
	s[6] = (s[6] & 0x0f) | 0x80 // version 8
	s[8] = (s[8] & 0x3f) | 0x80 // RFC 4122 variant
	return s
}

// ID returns the ticket ID of seat index i.
func (s TicketSpace) ID(i int) uuid.UUID {
	var id uuid.UUID
	copy(id[:12], s[:])
	binary.BigEndian.PutUint32(id[12:], uint32(i))
	return id
}

// Index returns the flat seat index of id and whether id belongs to this
// event at all. The caller still checks the index against the capacity.
func (s TicketSpace) Index(id uuid.UUID) (int, bool) {
	if [12]byte(id[:12]) != s {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(id[12:])), true
}
