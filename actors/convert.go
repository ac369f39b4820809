package actors

import (
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

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
	out.TicketTypes, out.PriceLines, out.PromoCode = b.TicketTypes, priceLinesToPB(b.PriceLines), b.PromoCode
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
	b.TicketTypes, b.PriceLines, b.PromoCode = p.TicketTypes, priceLinesFromPB(p.PriceLines), p.PromoCode
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
