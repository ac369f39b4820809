package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Reports (API.md Roles, GET /admin/api/events/{eventId}/report): an
// organiser's figures of one event, read from the booking rows the seat
// engine committed. A sale is a booking that was confirmed (status
// confirmed, or refunded since); every amount is in integer minor units
// of the event's currency and sums exactly.

// ReportBucket is the width of a report's time buckets.
type ReportBucket string

// The bucket widths GET .../report?bucket= accepts (UTC).
const (
	BucketHour ReportBucket = "hour"
	BucketDay  ReportBucket = "day"
)

// SalesFigure counts sales: bookings, their tickets and the amount paid.
type SalesFigure struct {
	Bookings int
	Tickets  int
	Amount   Money
}

// SectionSales is one section's sales and refunds; Amount sums the
// tickets' prices in the section.
type SectionSales struct {
	Section  string
	Sold     SalesFigure
	Refunded SalesFigure
}

// TypeSales is one ticket type's sales and refunds. Events sold before
// ticket types had one implicit type, ImplicitTicketType.
type TypeSales struct {
	Type     string
	Sold     SalesFigure
	Refunded SalesFigure
}

// ImplicitTicketType names the one ticket type of an event without types.
const ImplicitTicketType = "standard"

// PromoUse is how often one promo code was used by a sale that stands.
type PromoUse struct {
	Code     string
	Uses     int
	Discount Money
}

// ReportBucketFigures is one time bucket: the sales confirmed and the
// refunds done in [Start, Start+width).
type ReportBucketFigures struct {
	Start    time.Time
	Sold     SalesFigure
	Refunded SalesFigure
}

// EventReport is an event's figures. Revenue is Sold.Amount minus
// Refunded.Amount: what the sales that stand brought in.
type EventReport struct {
	EventID  uuid.UUID
	Currency string
	Sold     SalesFigure
	Refunded SalesFigure
	Revenue  Money
	// Fees are the fee lines of the sales that stand (0 without fees).
	Fees      Money
	Sections  []SectionSales
	Types     []TypeSales
	PromoUses []PromoUse
	// CheckIns counts the tickets admitted at the door.
	CheckIns int
	Bucket   ReportBucket
	Buckets  []ReportBucketFigures
}

// SaleRow is one ticket of a sale, as the CSV export lists it.
type SaleRow struct {
	BookingID   uuid.UUID
	UserID      uuid.UUID
	Status      BookingStatus
	ConfirmedAt time.Time
	RefundedAt  time.Time // zero unless refunded
	TicketID    uuid.UUID
	Section     string
	Row         string
	Seat        int
	Price       Money
	Currency    string
	// BookingTotal is the whole booking's amount, repeated on each of its
	// tickets.
	BookingTotal Money
}

// ReportStore reads the figures of reports (persistence.DB implements
// it). Both return not_found for an unknown event only where they say so;
// unavailable when the store cannot be reached.
type ReportStore interface {
	// EventReport computes the event's figures from its booking rows
	// (CheckIns is left to the seat engine, which owns admissions).
	EventReport(ctx context.Context, eventID uuid.UUID, bucket ReportBucket) (EventReport, error)
	// EachSale calls fn for every ticket of the event's sales, ordered by
	// confirmation and booking, streaming the rows from the store: memory
	// stays bounded whatever the event's size. An error from fn stops the
	// read and is returned as is.
	EachSale(ctx context.Context, eventID uuid.UUID, fn func(SaleRow) error) error
}
