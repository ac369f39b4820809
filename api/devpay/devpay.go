// Package devpay is the development payment provider: a payment adapter at the
// edge like a real one (a Stripe provider sits beside it), so the seat engine
// sees only boxoffice.PaymentProvider.
package devpay

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Test card tokens of the development payment provider (API.md).
const (
	TokenVisa     = "tok_visa"
	TokenDeclined = "tok_chargeDeclined"
)

// Config bounds what the development provider remembers.
type Config struct {
	// MaxKeys is how many idempotency keys it remembers; past it the
	// oldest is forgotten first. Memory stays flat over long runs (a few
	// hundred bytes a key) at the cost of a retry that comes after
	// MaxKeys newer keys being treated as new.
	MaxKeys int
	// KeepFor is how long a key is remembered, as a real provider keeps
	// them (Stripe: 24 hours).
	KeepFor time.Duration
	// Now is the clock; tests move it.
	Now func() time.Time
}

// DefaultConfig returns the bounds of a development node.
func DefaultConfig() Config {
	return Config{
		MaxKeys: 100_000,        // ~tens of MB at most
		KeepFor: 24 * time.Hour, // as Stripe keeps idempotency keys
		Now:     time.Now,
	}
}

// Provider is the development payment provider: tok_visa is charged,
// tok_chargeDeclined is declined, anything else fails. Like a real provider
// it remembers each idempotency key's outcome (for a bounded time and
// number of keys), so a retried call with the same key never charges twice
// and answers with what it charged: booking, amount, currency. Void undoes
// a key's charge. Charges and Voids count per booking so tests can check
// I6 and I7.
type Provider struct {
	cfg Config

	mu sync.Mutex // guards everything below
	// byKey is each remembered key's outcome; order is the keys in the
	// order they were first seen (order[head:] are live), which is also
	// the order they are forgotten in.
	byKey  map[string]*devEntry
	order  []string
	head   int
	ledger map[uuid.UUID]*devAccount
}

type devEntry struct {
	booking uuid.UUID
	res     boxoffice.PaymentResult
	err     error
	voided  bool
	// refunded: the charge's money went back (Refund).
	refunded bool
	at       time.Time
}

// devAccount is what the provider did for one booking; it is forgotten with
// the booking's last key.
type devAccount struct {
	charges, voids, refunds, keys int
}

var (
	_ boxoffice.PaymentProvider = (*Provider)(nil)
	_ boxoffice.Refunder        = (*Provider)(nil)
)

// New returns an empty development provider with the default
// bounds.
func New() *Provider { return NewWith(DefaultConfig()) }

// NewWith returns an empty development provider with the given
// bounds; zero fields take the defaults.
func NewWith(cfg Config) *Provider {
	d := DefaultConfig()
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = d.MaxKeys
	}
	if cfg.KeepFor <= 0 {
		cfg.KeepFor = d.KeepFor
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	return &Provider{cfg: cfg, byKey: map[string]*devEntry{}, ledger: map[uuid.UUID]*devAccount{}}
}

// Charge implements boxoffice.PaymentProvider. A key seen before gets its
// first answer again, whatever the request says (as a real provider's
// idempotency does); the answer names the booking and amount it charged.
func (d *Provider) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	if err := ctx.Err(); err != nil {
		return boxoffice.PaymentResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune()
	if e, ok := d.byKey[req.IdempotencyKey]; ok {
		if e.voided {
			return boxoffice.PaymentResult{}, boxoffice.Errorf(boxoffice.EPaymentFailed, "the payment was voided")
		}
		return e.res, e.err
	}
	e := d.add(req.IdempotencyKey, req.BookingID)
	switch req.Token {
	case TokenVisa:
		e.res = boxoffice.PaymentResult{ChargeID: "ch_" + uuid.NewString(), BookingID: req.BookingID,
			Amount: req.Amount, Currency: req.Currency}
		d.ledger[req.BookingID].charges++
	case TokenDeclined:
		e.err = boxoffice.Errorf(boxoffice.EPaymentFailed, "the card was declined")
	default:
		e.err = boxoffice.Errorf(boxoffice.EPaymentFailed, "unknown test card token; use %s or %s", TokenVisa, TokenDeclined)
	}
	return e.res, e.err
}

// Void implements boxoffice.PaymentProvider: a charge under the key is
// refunded, and a key not seen yet is remembered as void so that a charge
// with it arriving later takes nothing.
func (d *Provider) Void(ctx context.Context, req boxoffice.VoidRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune()
	e, ok := d.byKey[req.IdempotencyKey]
	if !ok {
		e = d.add(req.IdempotencyKey, req.BookingID)
	}
	if !e.voided && e.res.ChargeID != "" {
		d.ledger[e.booking].voids++
	}
	e.voided = true
	return nil
}

// Refund implements boxoffice.Refunder: the charge made under req.Key goes
// back, once; a repeated refund, a voided charge (nothing stays taken) and
// a key the provider no longer remembers (a development node keeps its
// ledger in memory only, so a restart forgets it) are nil. A charge id that
// is not the key's is invalid_argument.
func (d *Provider) Refund(ctx context.Context, req boxoffice.RefundRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.byKey[req.Key]
	if !ok || e.voided || e.refunded {
		return nil
	}
	if e.res.ChargeID == "" || e.res.ChargeID != req.ChargeID {
		return boxoffice.Errorf(boxoffice.EInvalid, "no charge %q under this key", req.ChargeID)
	}
	e.refunded = true
	d.ledger[e.booking].refunds++
	return nil
}

// Refunds reports how many of the booking's charges were refunded.
func (d *Provider) Refunds(booking uuid.UUID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.ledger[booking]; a != nil {
		return a.refunds
	}
	return 0
}

// add remembers a new key; d.mu is held.
func (d *Provider) add(key string, booking uuid.UUID) *devEntry {
	e := &devEntry{booking: booking, at: d.cfg.Now()}
	d.byKey[key] = e
	d.order = append(d.order, key)
	a := d.ledger[booking]
	if a == nil {
		a = &devAccount{}
		d.ledger[booking] = a
	}
	a.keys++
	d.prune()
	return e
}

// prune forgets the oldest keys past MaxKeys or KeepFor, and a booking's
// counts with its last key; d.mu is held.
func (d *Provider) prune() {
	cutoff := d.cfg.Now().Add(-d.cfg.KeepFor)
	for d.head < len(d.order) {
		key := d.order[d.head]
		e := d.byKey[key]
		if len(d.order)-d.head <= d.cfg.MaxKeys && e.at.After(cutoff) {
			break
		}
		delete(d.byKey, key)
		d.order[d.head] = ""
		d.head++
		if a := d.ledger[e.booking]; a != nil {
			if a.keys--; a.keys <= 0 {
				delete(d.ledger, e.booking)
			}
		}
	}
	if d.head > 0 && d.head >= len(d.order)/2 {
		d.order = append(d.order[:0:0], d.order[d.head:]...)
		d.head = 0
	}
}

// Charges reports how many times the booking was really charged (voided
// charges included; see Voids).
func (d *Provider) Charges(booking uuid.UUID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.ledger[booking]; a != nil {
		return a.charges
	}
	return 0
}

// Voids reports how many of the booking's charges were voided.
func (d *Provider) Voids(booking uuid.UUID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.ledger[booking]; a != nil {
		return a.voids
	}
	return 0
}

// Remembered reports how many idempotency keys and bookings the provider
// keeps, so that tests can check it stays bounded.
func (d *Provider) Remembered() (keys, bookings int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.byKey), len(d.ledger)
}
