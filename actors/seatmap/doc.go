// Package seatmap is the pure state of one event's seats: which are
// available, reserved by a hold, or booked, and the live holds with their
// owners and expiries. It does no I/O, starts no goroutines and reads no
// clock (callers pass now), so the event actor that wraps it, the journal
// replay and the tests all drive exactly the same code.
//
// Seats are indexed 0..n-1 in the venue's flat layout (sections, rows,
// seats in order). Ticket IDs are derived from the event ID and the index
// (boxoffice.TicketSpace), so mapping a ticket to its seat needs no table.
// A seat costs one byte; a hold keeps its at most ten seats inline.
//
// Every successful operation returns one Record and adds exactly one to the
// version; a failed operation changes nothing. Records are the journal:
// Apply replays them, and a snapshot (MarshalBinary, Decode) plus the
// records after it rebuild the live state byte for byte. Formats are
// documented on Record.MarshalBinary and Map.MarshalBinary.
//
// Holds are all-or-nothing. A hold pinned for a payment does not expire
// under the payment; after Unpin an overdue hold expires at the next
// ExpireDue.
package seatmap
