package stripepay_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

// newProvider returns a provider against p with instant, stripetest.Recorded backoff.
func newProvider(t *testing.T, p *stripetest.Proxy, tune func(*stripepay.Config)) (*stripepay.Provider, *[]time.Duration) {
	t.Helper()
	var mu sync.Mutex
	waits := &[]time.Duration{}
	cfg := stripepay.Config{
		SecretKey: "sk_test_boxoffice", APIURL: p.URL, ReturnURL: "https://tickets.example/return",
		CallTimeout: time.Minute, // never reached: outages are set by the proxy
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			*waits = append(*waits, d)
			mu.Unlock()
			return ctx.Err()
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	prov, err := stripepay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return prov, waits
}

func chargeRequest(amount boxoffice.Money, currency string) boxoffice.PaymentRequest {
	b := uuid.New()
	return boxoffice.PaymentRequest{BookingID: b, EventID: uuid.New(), IdempotencyKey: boxoffice.PaymentKey(b, 2),
		Amount: amount, Currency: currency, Method: "card", Token: "pm_card_visa"}
}

// TestChargeSucceeds: the requests' shapes are checked by the real
// stripe-mock (it refuses unknown or mistyped parameters); the proxy sets
// the confirmed intent's status to succeeded and gives it the amount,
// currency and metadata it was created with. Zero- and three-decimal
// currencies are sent in Stripe's units and read back in the platform's.
func TestChargeSucceeds(t *testing.T) {
	for _, tc := range []struct {
		currency string
		amount   boxoffice.Money
		stripe   string
	}{
		{"EUR", 14950, "14950"},
		{"JPY", 150000, "1500"},
		{"KWD", 150, "1500"},
	} {
		t.Run(tc.currency, func(t *testing.T) {
			proxy := stripetest.Start(t, stripetest.On("/confirm", stripetest.Override{Status: "succeeded"}))
			prov, _ := newProvider(t, proxy, nil)
			req := chargeRequest(tc.amount, tc.currency)
			res, err := prov.Charge(t.Context(), req)
			if err != nil {
				t.Fatalf("Charge: %v", err)
			}
			if !res.Matches(req) {
				t.Fatalf("result %+v does not match the request %+v", res, req)
			}
			creates := proxy.Requests("/v1/payment_intents")
			if len(creates) != 1 {
				t.Fatalf("%d creates, want 1", len(creates))
			}
			c := creates[0]
			if c.Key != req.IdempotencyKey {
				t.Errorf("create Idempotency-Key %q, want the attempt's key %q", c.Key, req.IdempotencyKey)
			}
			if c.Form.Get("amount") != tc.stripe || c.Form.Get("currency") != strings.ToLower(tc.currency) {
				t.Errorf("create amount %s %s, want %s %s", c.Form.Get("amount"), c.Form.Get("currency"), tc.stripe, strings.ToLower(tc.currency))
			}
			if c.Form.Get("metadata[booking_id]") != req.BookingID.String() || c.Form.Get("metadata[event_id]") != req.EventID.String() {
				t.Errorf("create metadata %v, want booking and event ids", c.Form)
			}
			if c.Form.Get("confirm") != "" || c.Form.Get("payment_method") != "" {
				t.Errorf("the create carries the card (%v); Void could not repeat it", c.Form)
			}
			confirms := proxy.Requests("/confirm")
			if len(confirms) != 1 {
				t.Fatalf("%d confirms, want 1", len(confirms))
			}
			cf := confirms[0]
			if cf.Key != req.IdempotencyKey+":confirm" || cf.Form.Get("payment_method") != "pm_card_visa" ||
				cf.Form.Get("return_url") != "https://tickets.example/return" {
				t.Errorf("confirm key %q form %v", cf.Key, cf.Form)
			}
		})
	}
}

// TestChargeOutcomes maps every settled answer. Real stripe-mock: the
// canned requires_payment_method of a confirm without a decline reason.
// Set by the proxy: the 402 card_error, last_payment_error, the
// requires_action redirect, processing.
func TestChargeOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        *stripetest.Override
		code     string
		redirect string
		unknown  bool
	}{
		{name: "stripe-mock's canned confirm", code: boxoffice.EPaymentFailed},
		{name: "402 card_declined", o: &stripetest.Override{HTTPStatus: http.StatusPaymentRequired, Body: stripetest.CardDeclined}, code: boxoffice.EPaymentFailed},
		{name: "no such PaymentMethod", o: &stripetest.Override{HTTPStatus: http.StatusBadRequest,
			Body: `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod: 'pm_x'"}}`},
			code: boxoffice.EPaymentFailed},
		{name: "declined intent", o: &stripetest.Override{Decline: "generic_decline"}, code: boxoffice.EPaymentFailed},
		{name: "3-D Secure", o: &stripetest.Override{NextURL: "https://hooks.stripe.example/3ds/abc"}, redirect: "https://hooks.stripe.example/3ds/abc"},
		{name: "processing", o: &stripetest.Override{Status: "processing"}, unknown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rule func(stripetest.Recorded, int) *stripetest.Override
			if tc.o != nil {
				rule = stripetest.On("/confirm", *tc.o)
			}
			proxy := stripetest.Start(t, rule)
			prov, _ := newProvider(t, proxy, nil)
			_, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
			var action *boxoffice.PaymentActionRequired
			switch {
			case tc.redirect != "":
				if !errors.As(err, &action) || action.Type != "redirect" || action.URL != tc.redirect || action.ChargeID == "" {
					t.Fatalf("Charge = %v, want requires_action redirecting to %s", err, tc.redirect)
				}
			case tc.unknown:
				if err == nil || boxoffice.ErrorCode(err) != boxoffice.EInternal || errors.As(err, &action) {
					t.Fatalf("Charge = %v, want an unknown outcome", err)
				}
			default:
				if boxoffice.ErrorCode(err) != tc.code {
					t.Fatalf("Charge = %v, want %s", err, tc.code)
				}
			}
			if n := len(proxy.Requests("/confirm")); n != 1 {
				t.Errorf("%d confirms; a settled answer is not retried", n)
			}
		})
	}
}

// TestChargeRefusesBadInput: a token that is not a PaymentMethod or an
// amount Stripe cannot take is a decline before any request.
func TestChargeRefusesBadInput(t *testing.T) {
	proxy := stripetest.Start(t, nil)
	prov, _ := newProvider(t, proxy, nil)
	bad := chargeRequest(2000, "EUR")
	bad.Token = "tok_visa"
	fraction := chargeRequest(150050, "JPY")
	for _, req := range []boxoffice.PaymentRequest{bad, fraction} {
		if _, err := prov.Charge(t.Context(), req); boxoffice.ErrorCode(err) != boxoffice.EPaymentFailed {
			t.Errorf("Charge(%s %s %s) = %v, want payment_failed", req.Token, req.Amount, req.Currency, err)
		}
	}
	if n := proxy.Count(); n != 0 {
		t.Errorf("%d requests reached Stripe", n)
	}
}

// TestChargeRetriesWithTheSameKey: the proxy answers the first two
// confirms 500 and passes the third to stripe-mock, setting succeeded.
// Every try carries the same idempotency key, after the backoff.
func TestChargeRetriesWithTheSameKey(t *testing.T) {
	proxy := stripetest.Start(t, nil)
	confirms := 0
	var mu sync.Mutex
	proxy.SetRule(func(r stripetest.Recorded, _ int) *stripetest.Override {
		if !strings.HasSuffix(r.Path, "/confirm") {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		confirms++
		if confirms <= 2 {
			return &stripetest.Override{HTTPStatus: http.StatusInternalServerError, Body: stripetest.ServerError}
		}
		return &stripetest.Override{Status: "succeeded"}
	})
	prov, waits := newProvider(t, proxy, func(c *stripepay.Config) { c.Tries = 3; c.Backoff = time.Second })
	req := chargeRequest(2000, "EUR")
	res, err := prov.Charge(t.Context(), req)
	got := proxy.Requests("/confirm")
	if err != nil || !res.Matches(req) {
		t.Fatalf("Charge = %+v, %v; confirms %+v", res, err, got)
	}
	for _, r := range got {
		t.Logf("%+v", r)
	}
	if len(got) != 3 {
		t.Fatalf("%d confirms, want 3", len(got))
	}
	for _, r := range got {
		if r.Key != req.IdempotencyKey+":confirm" {
			t.Errorf("retry key %q, want %q", r.Key, req.IdempotencyKey+":confirm")
		}
	}
	if len(*waits) != 2 || (*waits)[0] != time.Second || (*waits)[1] != 2*time.Second {
		t.Errorf("backoff %v, want [1s 2s]", *waits)
	}
}

// TestChargeTimeoutIsUnknown: the proxy holds every confirm until the
// client's call timeout; the outcome is unknown (neither a decline nor a
// result), so the engine asks again with the same key.
func TestChargeTimeoutIsUnknown(t *testing.T) {
	proxy := stripetest.Start(t, stripetest.On("/confirm", stripetest.Override{Hang: true}))
	// Only the confirms time out (the client gives up on them at once), so
	// a slow machine cannot time out the create instead.
	var tries atomic.Int32
	prov, _ := newProvider(t, proxy, func(c *stripepay.Config) {
		c.Tries = 2
		c.HTTPClient = &http.Client{Transport: confirmTimeout{http.DefaultTransport, &tries}}
	})
	_, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
	if err == nil || boxoffice.ErrorCode(err) != boxoffice.EInternal {
		t.Fatalf("Charge = %v, want an unknown outcome", err)
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("%d confirms, want 2 tries", n)
	}
}

// confirmTimeout gives up on confirms after a millisecond.
// It counts the confirms sent: one given up on at once may not reach the
// proxy at all.
type confirmTimeout struct {
	next  http.RoundTripper
	tries *atomic.Int32
}

func (c confirmTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/confirm") {
		return c.next.RoundTrip(r)
	}
	c.tries.Add(1)
	ctx, cancel := context.WithTimeout(r.Context(), time.Millisecond)
	defer cancel()
	res, err := c.next.RoundTrip(r.WithContext(ctx))
	if err == nil {
		res.Body.Close()
		return nil, errors.New("the proxy answered a confirm it should hold")
	}
	return nil, err
}

// TestBreakerOpens: the proxy answers every request 500 (an outage; no
// request reaches stripe-mock). After BreakerFailures failed requests the
// breaker opens: the next charge fails fast, without a request, with an
// unavailable error (503 at the API) that matches ErrCircuitOpen. A
// decline does not count as a failure.
func TestBreakerOpens(t *testing.T) {
	proxy := stripetest.Start(t, func(stripetest.Recorded, int) *stripetest.Override {
		return &stripetest.Override{HTTPStatus: http.StatusInternalServerError, Body: stripetest.ServerError}
	})
	prov, _ := newProvider(t, proxy, func(c *stripepay.Config) {
		c.Tries, c.BreakerFailures, c.BreakerCooldown = 2, 3, time.Hour
	})
	_, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
	if err == nil || boxoffice.ErrorCode(err) == boxoffice.EPaymentFailed {
		t.Fatalf("first charge = %v, want an unknown outcome", err)
	}
	_, err = prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
	if !errors.Is(err, stripepay.ErrCircuitOpen) || boxoffice.ErrorCode(err) != boxoffice.EUnavailable {
		t.Fatalf("charge after failures = %v, want unavailable matching ErrCircuitOpen", err)
	}
	before := proxy.Count()
	if before != 3 {
		t.Errorf("%d requests before the breaker opened, want 3", before)
	}
	_, err = prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
	if !errors.Is(err, stripepay.ErrCircuitOpen) {
		t.Fatalf("charge while open = %v", err)
	}
	if n := proxy.Count(); n != before {
		t.Errorf("%d requests reached Stripe while the breaker was open", n-before)
	}
	err = prov.Void(t.Context(), boxoffice.VoidRequest{BookingID: uuid.New(), IdempotencyKey: "k", Amount: 100, Currency: "EUR"})
	if !errors.Is(err, stripepay.ErrCircuitOpen) {
		t.Errorf("void while open = %v", err)
	}

	// Declines are Stripe working: they never open the breaker.
	declines := stripetest.Start(t, stripetest.On("/confirm", stripetest.Override{HTTPStatus: http.StatusPaymentRequired, Body: stripetest.CardDeclined}))
	prov, _ = newProvider(t, declines, func(c *stripepay.Config) { c.BreakerFailures = 1 })
	for range 3 {
		if _, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR")); boxoffice.ErrorCode(err) != boxoffice.EPaymentFailed {
			t.Fatalf("Charge = %v, want payment_failed", err)
		}
	}
}

// TestVoid: Void repeats the attempt's create (same key, same form: at
// Stripe that returns the attempt's intent), asks the intent's state, and
// cancels or refunds it. stripe-mock checks the requests and answers the
// canned intent and refund; the proxy sets the retrieved status (and the
// cancelled one).
func TestVoid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		call    string // the request that must follow: cancel, refunds, none
		wantErr bool
	}{
		{"charged: refunded", "succeeded", "/v1/refunds", false},
		{"not charged: cancelled", "requires_payment_method", "/cancel", false},
		{"needs action: cancelled", "requires_action", "/cancel", false},
		{"already cancelled", "canceled", "", false},
		{"processing: ask later", "processing", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := stripetest.Start(t, func(r stripetest.Recorded, _ int) *stripetest.Override {
				switch {
				case r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/payment_intents/"):
					return &stripetest.Override{Status: tc.status}
				case strings.HasSuffix(r.Path, "/cancel"):
					return &stripetest.Override{Status: "canceled"}
				case strings.HasSuffix(r.Path, "/confirm"):
					return &stripetest.Override{Status: "succeeded"}
				}
				return nil
			})
			prov, _ := newProvider(t, proxy, nil)
			req := chargeRequest(4200, "JPY")
			req.Amount = 420000
			if _, err := prov.Charge(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			void := boxoffice.VoidRequest{BookingID: req.BookingID, EventID: req.EventID, IdempotencyKey: req.IdempotencyKey,
				Amount: req.Amount, Currency: req.Currency}
			err := prov.Void(t.Context(), void)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Void = %v, want error %v", err, tc.wantErr)
			}
			creates := proxy.Requests("/v1/payment_intents")
			if len(creates) != 2 || creates[1].Key != creates[0].Key || creates[1].Form.Encode() != creates[0].Form.Encode() {
				t.Fatalf("void's create %+v does not repeat the charge's %+v", creates[len(creates)-1], creates[0])
			}
			cancels, refunds := proxy.Requests("/cancel"), proxy.Requests("/v1/refunds")
			switch tc.call {
			case "/cancel":
				if len(cancels) != 1 || cancels[0].Key != req.IdempotencyKey+":cancel" || len(refunds) != 0 {
					t.Errorf("cancels %+v refunds %+v, want one cancel", cancels, refunds)
				}
			case "/v1/refunds":
				if len(refunds) != 1 || refunds[0].Key != req.IdempotencyKey+":refund" || refunds[0].Form.Get("payment_intent") == "" || len(cancels) != 0 {
					t.Errorf("cancels %+v refunds %+v, want one refund of the intent", cancels, refunds)
				}
			default:
				if len(cancels)+len(refunds) != 0 {
					t.Errorf("cancels %+v refunds %+v, want none", cancels, refunds)
				}
			}
		})
	}
}

// TestRefundIsIdempotent: both refunds carry the same key (Stripe returns
// the first refund for the second); the proxy answers the second with
// charge_already_refunded, as Stripe does to a refund under another key,
// which is success too. The first answer is stripe-mock's canned refund.
func TestRefundIsIdempotent(t *testing.T) {
	proxy := stripetest.Start(t, func(r stripetest.Recorded, n int) *stripetest.Override {
		if strings.HasSuffix(r.Path, "/v1/refunds") && len(r.Key) > 0 && n > 1 {
			return &stripetest.Override{HTTPStatus: http.StatusBadRequest,
				Body: `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge has already been refunded."}}`}
		}
		return nil
	})
	prov, _ := newProvider(t, proxy, nil)
	b := uuid.New()
	req := boxoffice.RefundRequest{BookingID: b, Key: boxoffice.PaymentKey(b, 1), ChargeID: "pi_123", Amount: 2000, Currency: "EUR"}
	for i := range 2 {
		if err := prov.Refund(t.Context(), req); err != nil {
			t.Fatalf("refund %d: %v", i+1, err)
		}
	}
	refunds := proxy.Requests("/v1/refunds")
	if len(refunds) != 2 || refunds[0].Key != refunds[1].Key || refunds[0].Key != req.Key+":refund" || refunds[0].Form.Get("payment_intent") != "pi_123" {
		t.Fatalf("refunds %+v", refunds)
	}
	if err := prov.Refund(t.Context(), boxoffice.RefundRequest{BookingID: b}); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Errorf("refund without a charge = %v, want invalid_argument", err)
	}
}

// TestStripeAmount covers the unit conversion both ways.
func TestStripeAmount(t *testing.T) {
	for _, tc := range []struct {
		m        boxoffice.Money
		currency string
		want     int64
		bad      bool
	}{
		{14950, "EUR", 14950, false},
		{14950, "usd", 14950, false},
		{150000, "JPY", 1500, false},
		{150050, "JPY", 0, true},
		{100, "KRW", 1, false},
		{1234, "KWD", 12340, false},
		{0, "EUR", 0, true},
		{-5, "EUR", 0, true},
	} {
		got, err := stripepay.StripeAmount(tc.m, tc.currency)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("StripeAmount(%s %s) = %d, %v; want %d, bad %v", tc.m, tc.currency, got, err, tc.want, tc.bad)
		}
		if !tc.bad {
			if back := stripepay.PlatformAmount(got, tc.currency); back != tc.m {
				t.Errorf("PlatformAmount(%d %s) = %s, want %s", got, tc.currency, back, tc.m)
			}
		}
	}
}

// TestBreakerCloses: after its cooldown the open breaker lets a request
// through again, and a success closes it. The proxy answers 500 until the
// breaker is open, then passes requests to stripe-mock with the confirm
// set to succeeded. The test waits for the condition (a charge that
// succeeds), never for a duration.
func TestBreakerCloses(t *testing.T) {
	outage := func(stripetest.Recorded, int) *stripetest.Override {
		return &stripetest.Override{HTTPStatus: http.StatusInternalServerError, Body: stripetest.ServerError}
	}
	proxy := stripetest.Start(t, outage)
	prov, _ := newProvider(t, proxy, func(c *stripepay.Config) {
		c.Tries, c.BreakerFailures, c.BreakerCooldown = 1, 2, 10*time.Millisecond
	})
	for range 2 {
		if _, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR")); err == nil || errors.Is(err, stripepay.ErrCircuitOpen) {
			t.Fatalf("Charge during the outage = %v, want a failure that reached Stripe", err)
		}
	}
	// Open now (TestBreakerOpens shows that with a long cooldown); with
	// this short one it may already let a probe through, so no check here.
	proxy.SetRule(stripetest.On("/confirm", stripetest.Override{Status: "succeeded"}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		req := chargeRequest(2000, "EUR")
		res, err := prov.Charge(t.Context(), req)
		if err == nil && res.Matches(req) {
			return
		}
		if !errors.Is(err, stripepay.ErrCircuitOpen) {
			t.Fatalf("Charge after the outage = %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the breaker never closed")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
}

// TestLookup: reconciliation asks how an attempt stands without charging.
// stripe-mock checks the repeated create and the retrieve; the proxy sets
// the retrieved intent's status (and, for the success, its amount,
// currency and metadata as created). No confirm is ever sent.
func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		status  string
		o       stripetest.Override
		paid    bool
		code    string
		action  bool
		unknown bool
	}{
		{status: "succeeded", o: stripetest.Override{Status: "succeeded"}, paid: true},
		{status: "declined", o: stripetest.Override{Decline: "insufficient_funds"}, code: boxoffice.EPaymentFailed},
		{status: "never confirmed", o: stripetest.Override{Status: "requires_payment_method"}, code: boxoffice.EPaymentFailed},
		{status: "requires_confirmation", o: stripetest.Override{Status: "requires_confirmation"}, code: boxoffice.EPaymentFailed},
		{status: "canceled", o: stripetest.Override{Status: "canceled"}, code: boxoffice.EPaymentFailed},
		{status: "3-D Secure", o: stripetest.Override{NextURL: "https://hooks.stripe.example/3ds"}, action: true},
		{status: "processing", o: stripetest.Override{Status: "processing"}, unknown: true},
	} {
		t.Run(tc.status, func(t *testing.T) {
			o := tc.o
			proxy := stripetest.Start(t, func(r stripetest.Recorded, _ int) *stripetest.Override {
				if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/payment_intents/") {
					return &o
				}
				return nil
			})
			prov, _ := newProvider(t, proxy, nil)
			req := chargeRequest(150000, "JPY")
			res, err := prov.Lookup(t.Context(), boxoffice.VoidRequest{BookingID: req.BookingID, EventID: req.EventID,
				IdempotencyKey: req.IdempotencyKey, Amount: req.Amount, Currency: req.Currency})
			var action *boxoffice.PaymentActionRequired
			switch {
			case tc.paid:
				if err != nil || !res.Matches(req) {
					t.Fatalf("Lookup = %+v, %v; want the attempt's charge", res, err)
				}
			case tc.action:
				if !errors.As(err, &action) {
					t.Fatalf("Lookup = %v, want requires_action", err)
				}
			case tc.unknown:
				if err == nil || boxoffice.ErrorCode(err) != boxoffice.EInternal || errors.As(err, &action) {
					t.Fatalf("Lookup = %v, want an unknown outcome", err)
				}
			default:
				if boxoffice.ErrorCode(err) != tc.code {
					t.Fatalf("Lookup = %v, want %s", err, tc.code)
				}
			}
			if c := proxy.Requests("/confirm"); len(c) != 0 {
				t.Errorf("Lookup confirmed: %+v", c)
			}
			if c := proxy.Requests("/v1/payment_intents"); len(c) != 1 || c[0].Key != req.IdempotencyKey {
				t.Errorf("creates %+v, want one with the attempt's key", c)
			}
		})
	}
}

// TestBreakerOpensMidConfirm: the create passes (stripe-mock's answer),
// the confirm's first try is a 500 (the proxy), and that failure opens the
// breaker, which refuses the confirm's second try. The confirm reached
// Stripe, so the outcome is unknown, not unavailable: unavailable tells
// the engine that nothing was charged.
func TestBreakerOpensMidConfirm(t *testing.T) {
	proxy := stripetest.Start(t, stripetest.On("/confirm", stripetest.Override{HTTPStatus: http.StatusInternalServerError, Body: stripetest.ServerError}))
	prov, _ := newProvider(t, proxy, func(c *stripepay.Config) {
		c.Tries, c.BreakerFailures, c.BreakerCooldown = 3, 1, time.Hour
	})
	_, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR"))
	if err == nil || boxoffice.ErrorCode(err) == boxoffice.EUnavailable || boxoffice.ErrorCode(err) == boxoffice.EPaymentFailed {
		t.Fatalf("charge = %v, want an unknown outcome", err)
	}
	if n := len(proxy.Requests("/confirm")); n != 1 {
		t.Errorf("%d confirms reached Stripe, want 1", n)
	}
	// Now nothing reaches Stripe: that is unavailable, nothing charged.
	if _, err := prov.Charge(t.Context(), chargeRequest(2000, "EUR")); !errors.Is(err, stripepay.ErrCircuitOpen) || boxoffice.ErrorCode(err) != boxoffice.EUnavailable {
		t.Fatalf("charge while open = %v, want unavailable", err)
	}
}
