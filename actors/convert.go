package actors

import (
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

// toPB carries a domain error across the wire, keeping the details API.md
// promises (ticket_ids, field).
func toPB(err error) *grainpb.Error {
	var e *boxoffice.Error
	if !errors.As(err, &e) {
		return &grainpb.Error{Code: boxoffice.EUnavailable, Message: "the seat engine failed; retry shortly"}
	}
	out := &grainpb.Error{Code: e.Code, Message: e.Message}
	if ids, ok := e.Details["ticket_ids"].([]string); ok {
		out.TicketIds = ids
	}
	if f, ok := e.Details["field"].(string); ok {
		out.Field = f
	}
	if e.Code == boxoffice.ELimitReached {
		l, _ := e.Details["limit"].(int)
		c, _ := e.Details["current"].(int)
		out.Limit, out.Current = int64(l), int64(c)
	}
	return out
}

func fromPB(p *grainpb.Error) error {
	e := &boxoffice.Error{Code: p.Code, Message: p.Message}
	switch {
	case p.Code == boxoffice.ESeatUnavailable || len(p.TicketIds) > 0:
		ids := p.TicketIds
		if ids == nil {
			ids = []string{}
		}
		e.Details = map[string]any{"ticket_ids": ids}
	case p.Field != "":
		e.Details = map[string]any{"field": p.Field}
	case p.Code == boxoffice.ELimitReached:
		e.Details = map[string]any{"limit": int(p.Limit), "current": int(p.Current)}
	}
	return e
}

func bookingToPB(b boxoffice.Booking) *grainpb.Booking {
	out := &grainpb.Booking{
		Id: b.ID[:], UserId: b.UserID[:], EventId: b.EventID[:],
		Status: string(b.Status), TotalMinor: int64(b.Total), Currency: b.Currency,
		CreatedAt: nanos(b.CreatedAt), ExpiresAt: nanos(b.ExpiresAt),
		ConfirmedAt: nanos(b.ConfirmedAt), UpdatedAt: nanos(b.UpdatedAt),
	}
	for _, t := range b.TicketIDs {
		out.TicketIds = append(out.TicketIds, t[:])
	}
	return out
}

func bookingFromPB(p *grainpb.Booking) boxoffice.Booking {
	b := boxoffice.Booking{
		ID: id(p.Id), UserID: id(p.UserId), EventID: id(p.EventId),
		Status: boxoffice.BookingStatus(p.Status), Total: boxoffice.Money(p.TotalMinor), Currency: p.Currency,
		CreatedAt: fromNanos(p.CreatedAt), ExpiresAt: fromNanos(p.ExpiresAt),
		ConfirmedAt: fromNanos(p.ConfirmedAt), UpdatedAt: fromNanos(p.UpdatedAt),
	}
	for _, t := range p.TicketIds {
		b.TicketIDs = append(b.TicketIDs, id(t))
	}
	return b
}

// id reads a 16-byte UUID; anything else is the nil UUID, which no event,
// booking or user has, so it fails lookups rather than matching one.
func id(b []byte) uuid.UUID {
	u, err := uuid.FromBytes(b)
	if err != nil {
		return uuid.Nil
	}
	return u
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
