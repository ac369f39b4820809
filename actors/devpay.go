package actors

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Test card tokens of the development payment provider (API.md).
const (
	TokenVisa     = "tok_visa"
	TokenDeclined = "tok_chargeDeclined"
)

// DevPayments is the development payment provider: tok_visa is charged,
// tok_chargeDeclined is declined, anything else fails. Like a real provider
// it remembers each idempotency key's outcome, so a retried call with the
// same key never charges twice; Charges counts real charges per booking so
// tests can check I6.
type DevPayments struct {
	mu      sync.Mutex
	byKey   map[string]result
	charges map[uuid.UUID]int
}

type result struct {
	res boxoffice.PaymentResult
	err error
}

var _ boxoffice.PaymentProvider = (*DevPayments)(nil)

// NewDevPayments returns an empty development provider.
func NewDevPayments() *DevPayments {
	return &DevPayments{byKey: map[string]result{}, charges: map[uuid.UUID]int{}}
}

// Charge implements boxoffice.PaymentProvider.
func (d *DevPayments) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	if err := ctx.Err(); err != nil {
		return boxoffice.PaymentResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.byKey[req.IdempotencyKey]; ok {
		return r.res, r.err
	}
	var r result
	switch req.Token {
	case TokenVisa:
		r.res = boxoffice.PaymentResult{ChargeID: "ch_" + uuid.NewString()}
		d.charges[req.BookingID]++
	case TokenDeclined:
		r.err = boxoffice.Errorf(boxoffice.EPaymentFailed, "the card was declined")
	default:
		r.err = boxoffice.Errorf(boxoffice.EPaymentFailed, "unknown test card token; use %s or %s", TokenVisa, TokenDeclined)
	}
	d.byKey[req.IdempotencyKey] = r
	return r.res, r.err
}

// Charges reports how many times the booking was really charged.
func (d *DevPayments) Charges(booking uuid.UUID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.charges[booking]
}
