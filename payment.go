package boxoffice

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// PaymentStatus is where one payment attempt of a booking stands.
type PaymentStatus string

// Payment statuses. A pending payment's outcome is not known yet: the
// provider may have charged, so its hold stays pinned until the provider's
// answer (or a void) settles it.
const (
	PaymentPending   PaymentStatus = "pending"
	PaymentSucceeded PaymentStatus = "succeeded"
	PaymentDeclined  PaymentStatus = "declined"
	// PaymentVoided: the outcome stayed unknown past the retry bound (or the
	// provider's answer did not belong to the booking) and whatever the
	// attempt's key may have charged was voided through the provider.
	PaymentVoided PaymentStatus = "voided"
)

// Payment is the at-most-once record of one booking's charge (I6): one per
// booking, written before the provider is called and finished after.
type Payment struct {
	BookingID uuid.UUID
	EventID   uuid.UUID
	// Epoch is the ownership epoch of the event's activation that last
	// claimed the payment; only that activation may finish it.
	Epoch int64
	// Attempt counts the booking's charge attempts; a new attempt starts
	// only after a decline or a void.
	Attempt int
	// Key is the provider's idempotency key of this attempt,
	// PaymentKey(BookingID, Attempt). A client's Idempotency-Key is never
	// sent to the provider.
	Key      string
	Status   PaymentStatus
	ChargeID string
	Amount   Money
	Currency string
	// Method and Token are the attempt's card, kept so that an attempt
	// whose outcome is unknown is asked again with the very same request.
	Method string
	Token  string
}

// PaymentKey is the provider's idempotency key of a booking's attempt-th
// charge attempt. It depends on nothing a client sends, so one client's key
// can never reach another booking's charge, and a new attempt after a
// decline gets a new key.
func PaymentKey(booking uuid.UUID, attempt int) string {
	return fmt.Sprintf("booking-%s-attempt-%d", booking, attempt)
}

// PaymentRequest is one charge for one booking. IdempotencyKey is the same
// for every retry of the same attempt, so a provider charges at most once.
type PaymentRequest struct {
	BookingID uuid.UUID
	// EventID, when set, is sent to the provider as metadata; a VoidRequest
	// of the same attempt must carry the same value.
	EventID        uuid.UUID
	IdempotencyKey string
	Amount         Money
	Currency       string
	Method         string
	Token          string
}

// PaymentResult is a successful charge: its reference at the provider and
// what the provider says it charged, so that the caller can refuse an
// answer that does not belong to the booking and amount it asked for.
type PaymentResult struct {
	ChargeID  string
	BookingID uuid.UUID
	Amount    Money
	Currency  string
}

// Matches reports whether the provider's answer is about req.
func (r PaymentResult) Matches(req PaymentRequest) bool {
	return r.ChargeID != "" && r.BookingID == req.BookingID && r.Amount == req.Amount && r.Currency == req.Currency
}

// VoidRequest asks the provider to undo whatever was charged under one
// attempt's idempotency key.
type VoidRequest struct {
	BookingID      uuid.UUID
	EventID        uuid.UUID
	IdempotencyKey string
	Amount         Money
	Currency       string
}

// PaymentProvider charges a card. It is called outside the event actor
// because it is slow and remote.
//
// Charge returns ErrPaymentFailed (as an *Error with code payment_failed)
// when the provider declines, an *Error with code unavailable when it sent
// nothing that could charge (a circuit breaker is open), and any other
// error when the outcome is unknown and the call may be retried with the
// same idempotency key.
//
// Void refunds or cancels whatever a charge with req.IdempotencyKey took
// and makes sure a later charge with that key takes nothing; nil means no
// money stays taken under the key. Any error leaves that unknown, and the
// call may be retried.
type PaymentProvider interface {
	Charge(ctx context.Context, req PaymentRequest) (PaymentResult, error)
	Void(ctx context.Context, req VoidRequest) error
}
