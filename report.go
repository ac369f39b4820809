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
// refunds done in [Start, Start+width), and the tickets scanned in at the
// door in it (CheckIns, from the seat engine: CheckInReport).
type ReportBucketFigures struct {
	Start    time.Time
	Sold     SalesFigure
	Refunded SalesFigure
	CheckIns int
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
	// CheckInSections and CheckInGates break CheckIns down (CheckInReport;
	// nil when the seat engine does not report them).
	CheckInSections []CheckInCount
	CheckInGates    []CheckInCount
	Bucket          ReportBucket
	Buckets         []ReportBucketFigures
}

// Width is the duration of a bucket: an hour or a (UTC) day.
func (b ReportBucket) Width() time.Duration {
	if b == BucketHour {
		return time.Hour
	}
	return 24 * time.Hour
}

// CheckInCount is how many tickets were admitted under one name: a
// section or a gate.
type CheckInCount struct {
	Name     string
	CheckIns int
}

// CheckInBucket is how many tickets were scanned in at the door in
// [Start, Start+width).
type CheckInBucket struct {
	Start    time.Time
	CheckIns int
}

// CheckInReport is an event's check-ins as its seat engine counts them
// (the engine owns admissions; they live in the event's journal, not in a
// table). Sections lists every section of the event's layout, seated and
// standing, in seat-map order, with zeros; Gates the gates with check-ins
// by name ("" for scans that named none); Buckets the buckets with
// check-ins, oldest first, a check-in counting when it was scanned (an
// offline scan's scanned_at, else when it was admitted).
type CheckInReport struct {
	Total    int
	Sections []CheckInCount
	Gates    []CheckInCount
	Buckets  []CheckInBucket
}

// CheckInReporter reports an event's check-ins (actors.Engine implements
// it): not_found for an unknown event, unavailable when its seat engine
// cannot answer.
type CheckInReporter interface {
	CheckInReport(ctx context.Context, eventID uuid.UUID, bucket ReportBucket) (CheckInReport, error)
}

// AddCheckIns sets the report's check-ins from c: the total, the
// breakdowns, and each bucket's check-ins, adding the buckets that have
// check-ins but no sales or refunds in time order.
func (r *EventReport) AddCheckIns(c CheckInReport) {
	r.CheckIns, r.CheckInSections, r.CheckInGates = c.Total, c.Sections, c.Gates
	if len(c.Buckets) == 0 {
		return
	}
	out := make([]ReportBucketFigures, 0, len(r.Buckets)+len(c.Buckets))
	i, j := 0, 0
	for i < len(r.Buckets) || j < len(c.Buckets) {
		switch {
		case j == len(c.Buckets) || (i < len(r.Buckets) && r.Buckets[i].Start.Before(c.Buckets[j].Start)):
			out = append(out, r.Buckets[i])
			i++
		case i == len(r.Buckets) || c.Buckets[j].Start.Before(r.Buckets[i].Start):
			out = append(out, ReportBucketFigures{Start: c.Buckets[j].Start, CheckIns: c.Buckets[j].CheckIns})
			j++
		default: // the same bucket
			b := r.Buckets[i]
			b.CheckIns = c.Buckets[j].CheckIns
			out = append(out, b)
			i++
			j++
		}
	}
	r.Buckets = out
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
