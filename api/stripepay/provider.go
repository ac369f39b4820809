// Package stripepay is the Stripe payment provider: it charges bookings
// with PaymentIntents, voids and refunds them, and verifies Stripe's
// webhook events. It speaks the root package's payment types only, so the
// engine never sees Stripe's.
//
// Every request to Stripe carries an idempotency key derived from the
// attempt's boxoffice.PaymentKey (never a client's key):
//
//	<key>          create the PaymentIntent (amount, currency, metadata; not confirmed)
//	<key>:confirm  confirm it with the buyer's PaymentMethod
//	<key>:cancel   cancel it (Void of an unconfirmed or declined intent)
//	<key>:refund   refund it (Void of a charged intent, Refund)
//
// Creating and confirming are two calls so that Void, which knows only the
// booking, amount and key, can find the attempt's intent by repeating the
// create: Stripe answers a repeated key with the same intent, or creates an
// unconfirmed one that is then cancelled, so a late confirm takes nothing.
// Stripe keeps idempotency keys for 24 hours; a void later than that does
// not find the intent (reconciliation by metadata must).
package stripepay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sony/gobreaker/v2"
	"github.com/stripe/stripe-go/v82"

	"github.com/boxoffice/boxoffice"
)

// Metadata keys of every PaymentIntent; the webhook reads them back.
const (
	MetaBooking = "booking_id"
	MetaEvent   = "event_id"
	MetaKey     = "boxoffice_key"
)

// ErrCircuitOpen matches (errors.Is) the error of a call refused because
// Stripe kept failing: the breaker is open and the call failed fast without
// reaching Stripe. The same error is an *boxoffice.Error with code
// unavailable, which the API answers with 503.
var ErrCircuitOpen = gobreaker.ErrOpenState

// Config configures a Provider. Zero values take the defaults noted.
type Config struct {
	// SecretKey is the API key (BOXOFFICE_STRIPE_SECRET_KEY).
	SecretKey string
	// APIURL points at another Stripe API, such as stripe-mock
	// (BOXOFFICE_STRIPE_API_URL); empty is Stripe's.
	APIURL string
	// ReturnURL is where Stripe sends the buyer back after 3-D Secure
	// (payment.return_url or the node's public URL).
	ReturnURL string
	// HTTPClient is used for every call; nil is a client with CallTimeout.
	HTTPClient *http.Client
	// CallTimeout bounds one HTTP request (default 10s).
	CallTimeout time.Duration
	// Tries is how often one call is sent with the same key before its
	// outcome is reported unknown (default 3).
	Tries int
	// Backoff is the wait before the second try, doubled after each
	// (default 200ms).
	Backoff time.Duration
	// BreakerFailures consecutive failed requests open the breaker
	// (default 5); BreakerCooldown later it lets one request through again
	// (default 30s).
	BreakerFailures uint32
	BreakerCooldown time.Duration
	// Sleep waits between tries; tests replace it. nil sleeps on a timer
	// and stops early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) defaults() {
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.Tries <= 0 {
		c.Tries = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = 30 * time.Second
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.CallTimeout}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Provider charges through Stripe. It implements boxoffice.PaymentProvider
// and boxoffice.Refunder and is safe for concurrent use.
type Provider struct {
	cfg     Config
	sc      *stripe.Client
	breaker *gobreaker.CircuitBreaker[any]
}

var (
	_ boxoffice.PaymentProvider = (*Provider)(nil)
	_ boxoffice.Refunder        = (*Provider)(nil)
	_ boxoffice.PaymentLookup   = (*Provider)(nil)
)

// New builds a Provider; it does not call Stripe.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: no secret key (BOXOFFICE_STRIPE_SECRET_KEY)")
	}
	cfg.defaults()
	// The library's own retries are off: this package retries, so that the
	// breaker sees every failed request and the backoff is ours.
	bc := &stripe.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIURL != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.APIURL, "/"))
	}
	backends := &stripe.Backends{
		API:         stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect:     stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads:     stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
		MeterEvents: stripe.GetBackendWithConfig(stripe.MeterEventsBackend, bc),
	}
	p := &Provider{cfg: cfg, sc: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(backends))}
	p.breaker = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:    "stripe",
		Timeout: cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= cfg.BreakerFailures
		},
		// Stripe answering at all (a decline, a bad request) is Stripe
		// working: only faults count against the breaker.
		IsSuccessful: func(err error) bool { return err == nil || !transient(err) },
	})
	return p, nil
}

// transient reports whether err is a fault worth retrying with the same
// key: the network, a timeout, Stripe's 5xx, 429 or a concurrent request
// with the same key.
func transient(err error) bool {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.HTTPStatusCode >= 500, se.HTTPStatusCode == http.StatusTooManyRequests:
			return true
		case se.Code == stripe.ErrorCodeIdempotencyKeyInUse, se.Code == stripe.ErrorCodeLockTimeout:
			return true
		case se.HTTPStatusCode == 0:
			return true
		}
		return false
	}
	return true // network error, timeout, unreadable answer
}

// call runs fn with the breaker, retrying transient faults with backoff.
// fn sends the same request (and key) every time.
func (p *Provider) call(ctx context.Context, fn func(ctx context.Context) error) error {
	var err, prev error
	for try := 0; try < p.cfg.Tries; try++ {
		prev = err
		if try > 0 {
			if serr := p.cfg.Sleep(ctx, p.cfg.Backoff<<(try-1)); serr != nil {
				return fmt.Errorf("stripe: %w (after %w)", serr, err)
			}
		}
		_, err = p.breaker.Execute(func() (any, error) { return nil, fn(ctx) })
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			open := fmt.Errorf("%w: %w", boxoffice.Errorf(boxoffice.EUnavailable,
				"the payment provider is unavailable; try again shortly"), ErrCircuitOpen)
			if try > 0 {
				return &refusedAfter{open: open, prev: prev}
			}
			return open
		}
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// refusedAfter is the breaker refusing a request after an earlier try of
// it reached Stripe with an unknown outcome (prev): nothing more was sent,
// but what was sent may have taken effect.
type refusedAfter struct{ open, prev error }

func (e *refusedAfter) Error() string {
	return fmt.Sprintf("%v (after %v)", e.open, e.prev)
}

func (e *refusedAfter) Unwrap() []error { return []error{e.open, e.prev} }

// Zero-decimal currencies are charged in whole units at Stripe; the
// platform keeps every amount in hundredths (boxoffice.Money).
// Three-decimal ones in thousandths.
var (
	zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true,
		"KRW": true, "MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true,
		"XOF": true, "XPF": true}
	threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}
)

// StripeAmount converts a platform amount into Stripe's smallest unit of
// currency. A zero-decimal amount with a fraction cannot be charged and is
// an error (nothing is rounded).
func StripeAmount(m boxoffice.Money, currency string) (int64, error) {
	c := strings.ToUpper(currency)
	switch {
	case m <= 0:
		return 0, fmt.Errorf("amount %s %s: must be positive", m, c)
	case zeroDecimal[c]:
		if m%100 != 0 {
			return 0, fmt.Errorf("amount %s %s: %s has no fraction digits", m, c, c)
		}
		return int64(m / 100), nil
	case threeDecimal[c]:
		return int64(m) * 10, nil
	}
	return int64(m), nil
}

// PlatformAmount converts Stripe's amount back (the inverse of StripeAmount).
func PlatformAmount(a int64, currency string) boxoffice.Money {
	c := strings.ToUpper(currency)
	switch {
	case zeroDecimal[c]:
		return boxoffice.Money(a * 100)
	case threeDecimal[c]:
		return boxoffice.Money(a / 10)
	}
	return boxoffice.Money(a)
}

func metadata(booking, event uuid.UUID, key string) map[string]string {
	m := map[string]string{MetaBooking: booking.String(), MetaKey: key}
	if event != uuid.Nil {
		m[MetaEvent] = event.String()
	}
	return m
}

// intent creates (or, with a key already used, finds) the attempt's
// PaymentIntent, unconfirmed. The parameters depend only on the booking,
// event, amount and key, so Void can repeat them.
func (p *Provider) intent(ctx context.Context, booking, event uuid.UUID, key string, amount boxoffice.Money, currency string) (*stripe.PaymentIntent, error) {
	a, err := StripeAmount(amount, currency)
	if err != nil {
		return nil, boxoffice.Errorf(boxoffice.EPaymentFailed, "%v", err)
	}
	var pi *stripe.PaymentIntent
	err = p.call(ctx, func(ctx context.Context) error {
		params := &stripe.PaymentIntentCreateParams{
			Amount:             stripe.Int64(a),
			Currency:           stripe.String(strings.ToLower(currency)),
			PaymentMethodTypes: []*string{stripe.String("card")},
		}
		params.Metadata = metadata(booking, event, key)
		params.SetIdempotencyKey(key)
		var err error
		pi, err = p.sc.V1PaymentIntents.Create(ctx, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stripe: create payment intent: %w", err)
	}
	return pi, nil
}

// Charge creates the attempt's PaymentIntent and confirms it with the
// buyer's PaymentMethod (req.Token, a pm_... id). Outcomes: a result on
// success; boxoffice.ErrPaymentFailed (as *boxoffice.Error) on a decline;
// *boxoffice.PaymentActionRequired when the buyer must act (3-D Secure);
// an unavailable *boxoffice.Error matching ErrCircuitOpen when the breaker
// refused before any confirm of this call reached Stripe (nothing charged);
// any other error when the outcome is unknown.
func (p *Provider) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	if !strings.HasPrefix(req.Token, "pm_") {
		return boxoffice.PaymentResult{}, boxoffice.Errorf(boxoffice.EPaymentFailed,
			"payment.token must be a Stripe PaymentMethod id (pm_...)")
	}
	pi, err := p.intent(ctx, req.BookingID, req.EventID, req.IdempotencyKey, req.Amount, req.Currency)
	if err != nil {
		return boxoffice.PaymentResult{}, err
	}
	id := pi.ID // a failed try leaves pi empty
	err = p.call(ctx, func(ctx context.Context) error {
		params := &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String(req.Token)}
		if p.cfg.ReturnURL != "" {
			params.ReturnURL = stripe.String(p.cfg.ReturnURL)
		}
		params.SetIdempotencyKey(req.IdempotencyKey + ":confirm")
		var err error
		pi, err = p.sc.V1PaymentIntents.Confirm(ctx, id, params)
		return err
	})
	if err != nil {
		var after *refusedAfter
		if errors.As(err, &after) {
			// A confirm reached Stripe before the breaker opened: its outcome
			// is unknown, not "nothing sent" (unavailable).
			return boxoffice.PaymentResult{}, fmt.Errorf("stripe: confirm payment intent: %w (then the circuit breaker opened)", after.prev)
		}
		var se *stripe.Error
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
			return boxoffice.PaymentResult{}, declined(se.Msg, string(se.DeclineCode), string(se.Code))
		}
		// Stripe refused the confirm itself (no such PaymentMethod, an
		// intent already cancelled by a void): nothing was charged.
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeInvalidRequest && se.HTTPStatusCode == http.StatusBadRequest {
			e := boxoffice.Errorf(boxoffice.EPaymentFailed, "the payment was refused: %s", se.Msg)
			e.Details = map[string]any{"decline_code": string(se.Code)}
			return boxoffice.PaymentResult{}, e
		}
		return boxoffice.PaymentResult{}, fmt.Errorf("stripe: confirm payment intent: %w", err)
	}
	return outcome(pi)
}

func declined(msg string, codes ...string) *boxoffice.Error {
	e := boxoffice.Errorf(boxoffice.EPaymentFailed, "the card was declined")
	if msg != "" {
		e.Message = "the card was declined: " + msg
	}
	for _, c := range codes {
		if c != "" {
			e.Details = map[string]any{"decline_code": c}
			break
		}
	}
	return e
}

// outcome maps a confirmed PaymentIntent to the provider contract.
func outcome(pi *stripe.PaymentIntent) (boxoffice.PaymentResult, error) {
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		booking, _ := uuid.Parse(pi.Metadata[MetaBooking])
		cur := strings.ToUpper(string(pi.Currency))
		return boxoffice.PaymentResult{ChargeID: pi.ID, BookingID: booking,
			Amount: PlatformAmount(pi.Amount, cur), Currency: cur}, nil
	case stripe.PaymentIntentStatusRequiresAction:
		a := &boxoffice.PaymentActionRequired{ChargeID: pi.ID}
		if na := pi.NextAction; na != nil {
			a.Type = string(na.Type)
			if na.RedirectToURL != nil {
				a.Type, a.URL = "redirect", na.RedirectToURL.URL
			}
		}
		return boxoffice.PaymentResult{}, a
	case stripe.PaymentIntentStatusRequiresPaymentMethod, stripe.PaymentIntentStatusCanceled:
		// Stripe puts a declined intent back to requires_payment_method.
		if e := pi.LastPaymentError; e != nil {
			return boxoffice.PaymentResult{}, declined(e.Msg, string(e.DeclineCode), string(e.Code))
		}
		return boxoffice.PaymentResult{}, declined("")
	}
	// processing, requires_capture, requires_confirmation: not settled.
	return boxoffice.PaymentResult{}, fmt.Errorf("stripe: payment intent %s is %s", pi.ID, pi.Status)
}

// find returns the attempt's intent as it is now: the create repeated
// with its key (Stripe answers with the attempt's intent, or creates an
// unconfirmed one when the attempt never reached it), then retrieved.
func (p *Provider) find(ctx context.Context, req boxoffice.VoidRequest) (*stripe.PaymentIntent, error) {
	pi, err := p.intent(ctx, req.BookingID, req.EventID, req.IdempotencyKey, req.Amount, req.Currency)
	if err != nil {
		return nil, err
	}
	// The create's answer is the intent as it was created: ask for now.
	id := pi.ID // a failed try leaves pi empty
	err = p.call(ctx, func(ctx context.Context) error {
		var err error
		pi, err = p.sc.V1PaymentIntents.Retrieve(ctx, id, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stripe: retrieve payment intent: %w", err)
	}
	if pi.ID == "" {
		pi.ID = id
	}
	return pi, nil
}

// Lookup reports how the attempt under req.IdempotencyKey stands, without
// confirming anything (see boxoffice.PaymentLookup). An attempt that never
// reached Stripe gets an unconfirmed intent, which is "nothing charged";
// a later Void cancels it. Call it only when no Charge of the attempt is
// in flight (the payment's owner, reconciling), or "never confirmed" may be
// about to change.
func (p *Provider) Lookup(ctx context.Context, req boxoffice.VoidRequest) (boxoffice.PaymentResult, error) {
	pi, err := p.find(ctx, req)
	if err != nil {
		return boxoffice.PaymentResult{}, err
	}
	if pi.Status == stripe.PaymentIntentStatusRequiresConfirmation {
		return boxoffice.PaymentResult{}, declined("the payment was never confirmed")
	}
	return outcome(pi)
}

// Void makes sure nothing stays charged under req.IdempotencyKey: it finds
// the attempt's intent by repeating its create, then cancels it (not
// charged) or refunds it (charged). A processing intent is an error (ask
// again later).
func (p *Provider) Void(ctx context.Context, req boxoffice.VoidRequest) error {
	pi, err := p.find(ctx, req)
	if boxoffice.ErrorCode(err) == boxoffice.EPaymentFailed {
		return nil // an amount Stripe cannot take was never charged
	}
	if err != nil {
		return err
	}
	id := pi.ID
	switch pi.Status {
	case stripe.PaymentIntentStatusCanceled:
		return nil
	case stripe.PaymentIntentStatusSucceeded:
		return p.refund(ctx, id, req.IdempotencyKey)
	case stripe.PaymentIntentStatusProcessing:
		return fmt.Errorf("stripe: payment intent %s is processing; void it later", id)
	}
	err = p.call(ctx, func(ctx context.Context) error {
		params := &stripe.PaymentIntentCancelParams{}
		params.SetIdempotencyKey(req.IdempotencyKey + ":cancel")
		var err error
		pi, err = p.sc.V1PaymentIntents.Cancel(ctx, id, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("stripe: cancel payment intent: %w", err)
	}
	if pi.Status != stripe.PaymentIntentStatusCanceled {
		return fmt.Errorf("stripe: payment intent %s is %s after cancel", id, pi.Status)
	}
	return nil
}

// Refund gives back a successful charge; repeating it is the same refund.
func (p *Provider) Refund(ctx context.Context, req boxoffice.RefundRequest) error {
	if req.ChargeID == "" || req.Key == "" {
		return boxoffice.Errorf(boxoffice.EInvalid, "a refund needs the charge and its key")
	}
	return p.refund(ctx, req.ChargeID, req.Key)
}

func (p *Provider) refund(ctx context.Context, intent, key string) error {
	var r *stripe.Refund
	err := p.call(ctx, func(ctx context.Context) error {
		params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(intent)}
		params.SetIdempotencyKey(key + ":refund")
		var err error
		r, err = p.sc.V1Refunds.Create(ctx, params)
		return err
	})
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stripe: refund payment intent %s: %w", intent, err)
	}
	switch r.Status {
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		return fmt.Errorf("stripe: refund %s of %s is %s", r.ID, intent, r.Status)
	}
	return nil
}
