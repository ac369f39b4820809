package boxoffice

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// PaymentActionRequired is the answer of a provider whose charge needs the
// buyer's action first (3-D Secure): nothing is settled yet, the charge
// ChargeID stays open at the provider and ends by the provider's webhook
// (or a later query). It is not an *Error on purpose: an engine that does
// not know it treats it like any unknown outcome (retries with the same
// key, then voids), which never sells a seat without a charge.
type PaymentActionRequired struct {
	ChargeID string
	// Type is how the buyer acts: "redirect" (URL is where to send them),
	// or the provider's own type (URL may then be empty).
	Type string
	URL  string
}

// Error implements error.
func (e *PaymentActionRequired) Error() string {
	return fmt.Sprintf("payment %s needs the customer's action (%s)", e.ChargeID, e.Type)
}

// RefundRequest gives back the money of one booking's successful charge.
// Key is the attempt's PaymentKey, so that every retry of the refund is
// the same refund at the provider and money goes back at most once.
type RefundRequest struct {
	BookingID uuid.UUID
	EventID   uuid.UUID
	Key       string
	// ChargeID is PaymentResult.ChargeID of the charge to refund.
	ChargeID string
	Amount   Money
	Currency string
}

// Refunder is a PaymentProvider that can also give money back. Refund is
// idempotent: refunding a charge that was already refunded is nil.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest) error
}

// PaymentLookup is a PaymentProvider that can say, without charging, how
// an attempt stands, for reconciling a payment left pending (the node or
// the database died between the charge and the sale). Lookup answers like
// Charge: a result when the attempt's charge succeeded, ErrPaymentFailed
// when nothing was charged (declined, cancelled or never confirmed),
// *PaymentActionRequired while the buyer must act, and any other error
// when it cannot tell yet.
type PaymentLookup interface {
	Lookup(ctx context.Context, req VoidRequest) (PaymentResult, error)
}

// PaymentEventKind is what a provider's notification says about a charge.
type PaymentEventKind string

// Kinds of provider notifications the engine acts on.
const (
	PaymentEventSucceeded PaymentEventKind = "succeeded"
	PaymentEventFailed    PaymentEventKind = "failed"
	PaymentEventRefunded  PaymentEventKind = "refunded"
)

// PaymentEvent is one verified provider notification (a Stripe webhook
// event) about one booking's charge, in the platform's own terms.
type PaymentEvent struct {
	// ID is the provider's event id: the same event may be delivered more
	// than once, and out of order.
	ID        string
	Kind      PaymentEventKind
	BookingID uuid.UUID
	// EventID is the ticketed event's id when the charge carries it.
	EventID  uuid.UUID
	ChargeID string
	Amount   Money
	Currency string
	// Key is the attempt's PaymentKey the charge was made under: a
	// notification about an earlier attempt than the booking's current one
	// settles nothing.
	Key string
}

// PaymentEventApplier applies verified provider notifications. The caller
// (the webhook handler) only verifies and parses: applying each event at
// most once by its ID, and settling out-of-order deliveries (a succeeded
// after a failed retry, a refund of a booking already refunded), is the
// applier's job, since only it holds the durable state to decide. An error
// makes the provider deliver the event again later.
type PaymentEventApplier interface {
	ApplyPaymentEvent(ctx context.Context, ev PaymentEvent) error
}
