package ticketpdf

import (
	"fmt"

	"github.com/boxoffice/boxoffice"
)

// ForBooking signs one ticket code per seat of the confirmed booking b of
// event ev at venue v, and returns what the PDF's pages show. The code's
// issue time is the confirmation time, so every caller (the tickets route
// on any node, the confirmation e-mail) gives the same code for a seat
// until the signing key rotates. A ticket outside the venue's seat map is a
// broken booking row: an error, not a page.
func ForBooking(keys *boxoffice.TicketKeys, b boxoffice.Booking, ev boxoffice.Event, v boxoffice.Venue) (Event, []Ticket, error) {
	issued := b.ConfirmedAt
	if issued.IsZero() {
		issued = b.UpdatedAt
	}
	out := Event{Name: ev.Name, StartsAt: ev.StartsAt, Venue: v.Name, Address: v.Address, City: v.City}
	space := boxoffice.NewTicketSpace(b.EventID)
	tickets := make([]Ticket, 0, len(b.TicketIDs))
	for _, tid := range b.TicketIDs {
		idx, ok := space.Index(tid)
		section, row, seat, inMap := v.SeatMap.SeatAt(idx)
		if !ok || !inMap {
			return Event{}, nil, fmt.Errorf("ticketpdf: booked ticket %s is outside the seat map of event %s", tid, b.EventID)
		}
		code, err := keys.Sign(boxoffice.TicketCode{EventID: b.EventID, Index: idx, BookingID: b.ID,
			Section: section, Row: row, Seat: seat, IssuedAt: issued})
		if err != nil {
			return Event{}, nil, err
		}
		tickets = append(tickets, Ticket{TicketID: tid.String(), BookingID: b.ID.String(), Section: section, Row: row, Seat: seat, Code: code})
	}
	return out, tickets, nil
}
