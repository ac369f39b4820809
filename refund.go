package boxoffice

import (
	"context"

	"github.com/google/uuid"
)

// RefundReason is who asked for a booking's refund.
type RefundReason string

// Refund reasons as stored with the refund.
const (
	// RefundByOwner: the buyer, within the event's refund window.
	RefundByOwner RefundReason = "owner"
	// RefundByAdmin: an admin (or, once the role exists, the event's
	// organiser), at any time.
	RefundByAdmin RefundReason = "admin"
	// RefundByCancel: the event was cancelled; every confirmed booking is
	// refunded.
	RefundByCancel RefundReason = "cancel"
	// RefundByProvider: the charge was refunded at the provider (its
	// dashboard); its notification ends the sale.
	RefundByProvider RefundReason = "provider"
)

// RefundProgress counts an event's refunds (GET /admin/api/events/{id}:
// "refunds": {"done", "total"}).
type RefundProgress struct {
	Done  int
	Total int
}

// RefundStore is what refunds need from storage besides EventStore (which
// the engine's store also implements). A refund is owed from
// RequestRefund, before the provider is asked, until the journal commit
// that carries its record (Commit.Refunds) marks it done: a crash in
// between leaves it owed, and the event's next activation resumes it
// (OwedRefunds), so money taken is never forgotten and never given back
// twice (the provider's refund is idempotent).
type RefundStore interface {
	RequestRefund(ctx context.Context, bookingID, eventID uuid.UUID, reason RefundReason) error
	OwedRefunds(ctx context.Context, eventID uuid.UUID) ([]uuid.UUID, error)
	// Payment returns the booking's payment row (not_found: none).
	Payment(ctx context.Context, bookingID uuid.UUID) (Payment, error)
}

// BookingRefunder refunds a confirmed booking (actors.Engine implements
// it): the money goes back through the provider, the seats go back on sale
// and the booking becomes refunded. Refunding a refunded booking returns
// it unchanged; any other status is booking_state. Who may refund is the
// caller's decision.
type BookingRefunder interface {
	Refund(ctx context.Context, b Booking, reason RefundReason) (Booking, error)
}

// EventCanceller cancels events and reports their refunds
// (persistence.DB implements it): CancelEvent marks the event cancelled and
// owes a refund of each confirmed booking in one transaction, so the
// refunds are a durable job that survives any crash.
type EventCanceller interface {
	CancelEvent(ctx context.Context, id uuid.UUID) (Event, error)
	RefundProgress(ctx context.Context, eventID uuid.UUID) (RefundProgress, error)
}

// RefundResumer starts the owed refunds of an event now (actors.Engine
// implements it); without it they start at the event's next activation.
type RefundResumer interface {
	ResumeRefunds(ctx context.Context, eventID uuid.UUID) error
}
