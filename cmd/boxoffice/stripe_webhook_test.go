package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

const nodeWebhookSecret = "whsec_node_test"

// webhookNode is a stripe-mode node whose confirms need the buyer's action
// (the proxy makes every confirmed intent requires_action with a redirect
// and every cancelled one canceled; the rest is stripe-mock's).
type webhookNode struct {
	*testNode
	proxy *stripetest.Proxy
	alice string
	bob   string
	event string
	seats []string
}

func startWebhookNode(t *testing.T) *webhookNode {
	t.Helper()
	proxy := stripetest.Start(t, func(r stripetest.Recorded, _ int) *stripetest.Override {
		switch {
		case strings.HasSuffix(r.Path, "/confirm"):
			return &stripetest.Override{NextURL: "https://hooks.stripe.test/3ds"}
		case strings.HasSuffix(r.Path, "/cancel"):
			return &stripetest.Override{Status: "canceled"}
		}
		return nil
	})
	n := startSeededNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
		c.StripeWebhookSecret = nodeWebhookSecret
	})
	ev := stadiumEventID()
	return &webhookNode{testNode: n, proxy: proxy, alice: n.token(t, "alice@example.com"), bob: n.token(t, "bob@example.com"),
		event: ev, seats: n.ticketIDs(t, uuid.MustParse(ev))}
}

// pendingBooking reserves seat for alice and confirms it; the payment
// waits for the buyer's action. It returns the booking and the Stripe
// event object of its intent (id, amount, currency, metadata as created).
func (w *webhookNode) pendingBooking(t *testing.T, seat string) (string, map[string]any) {
	t.Helper()
	var b struct {
		BookingID string `json:"booking_id"`
	}
	if code := w.call(t, http.MethodPost, "/booking/reserve", w.alice,
		map[string]any{"event_id": w.event, "ticket_ids": []string{seat}}, &b); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	for range 2 { // a repeated confirm answers the same 202
		var pending struct {
			BookingID  string `json:"booking_id"`
			Status     string `json:"status"`
			NextAction struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"next_action"`
		}
		code := w.call(t, http.MethodPost, "/booking/confirm", w.alice, map[string]any{"booking_id": b.BookingID,
			"payment": map[string]string{"method": "card", "token": "pm_card_threeDSecure2Required"}}, &pending)
		if code != http.StatusAccepted || pending.BookingID != b.BookingID || pending.Status != "payment-pending" ||
			pending.NextAction.Type != "redirect" || pending.NextAction.URL != "https://hooks.stripe.test/3ds" {
			t.Fatalf("confirm needing the buyer's action: %d %+v, want 202 payment-pending with the redirect", code, pending)
		}
	}
	p, err := w.db.Payment(context.Background(), uuid.MustParse(b.BookingID))
	if err != nil {
		t.Fatal(err)
	}
	var intent string
	for _, r := range w.proxy.Requests("/confirm") {
		if strings.Contains(r.Key, b.BookingID) {
			intent = strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v1/payment_intents/"), "/confirm")
		}
	}
	if intent == "" {
		t.Fatalf("no confirm of booking %s reached Stripe", b.BookingID)
	}
	amount, err := stripepay.StripeAmount(p.Amount, p.Currency)
	if err != nil {
		t.Fatal(err)
	}
	return b.BookingID, map[string]any{"id": intent, "object": "payment_intent", "amount": amount,
		"currency": strings.ToLower(p.Currency), "metadata": map[string]any{stripepay.MetaBooking: b.BookingID,
			stripepay.MetaEvent: w.event, stripepay.MetaKey: p.Key}}
}

// deliver posts a Stripe event of type typ about obj, signed with secret
// at ts (secret "" sends no signature), and returns the status.
func (w *webhookNode) deliver(t *testing.T, id, typ string, obj map[string]any, secret string, ts time.Time) int {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2025-01-01",
		"created": ts.Unix(), "data": map[string]any{"object": obj}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, w.URL+"/payments/stripe/webhook", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
			Payload: payload, Secret: secret, Timestamp: ts}).Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (w *webhookNode) status(t *testing.T, booking string) boxoffice.BookingStatus {
	t.Helper()
	// The engine's read: a hold's row may not be in the table yet.
	b, err := w.engine.Booking(context.Background(), uuid.MustParse(booking))
	if err != nil {
		t.Fatal(err)
	}
	return b.Status
}

func (w *webhookNode) payment(t *testing.T, booking string) boxoffice.Payment {
	t.Helper()
	p, err := w.db.Payment(context.Background(), uuid.MustParse(booking))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStripeWebhookOnANode posts events signed with stripe-go's test
// helper to a real stripe-mode node. stripe-mock answers the creates,
// retrieves and cancels; the proxy turns every confirm into
// requires_action (3-D Secure), so only the webhook can settle a payment.
// A succeeded event sells the booking; the same event again, and a failed
// one after it (reordered), change nothing; a failed event voids the other
// booking's attempt and unpins its hold, and a succeeded after it changes
// nothing; bad, missing and stale signatures are 400.
func TestStripeWebhookOnANode(t *testing.T) {
	w := startWebhookNode(t)
	now := time.Now()
	paid, paidIntent := w.pendingBooking(t, w.seats[30])
	failed, failedIntent := w.pendingBooking(t, w.seats[31])

	for _, tc := range []struct {
		name   string
		secret string
		ts     time.Time
	}{
		{"bad signature", "whsec_someone_else", now},
		{"no signature", "", now},
		{"stale timestamp", nodeWebhookSecret, now.Add(-time.Hour)},
	} {
		if code := w.deliver(t, "evt_bad_"+tc.name, "payment_intent.succeeded", paidIntent, tc.secret, tc.ts); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tc.name, code)
		}
	}
	if s := w.status(t, paid); s == boxoffice.BookingConfirmed {
		t.Fatalf("an unverified event sold booking %s", paid)
	}

	if code := w.deliver(t, "evt_paid", "payment_intent.succeeded", paidIntent, nodeWebhookSecret, now); code != http.StatusOK {
		t.Fatalf("succeeded: %d, want 200", code)
	}
	require.Eventually(t, func() bool {
		return w.status(t, paid) == boxoffice.BookingConfirmed
	}, 30*time.Second, 25*time.Millisecond, "the succeeded event sells the booking")
	if p := w.payment(t, paid); p.Status != boxoffice.PaymentSucceeded || p.ChargeID != paidIntent["id"] {
		t.Errorf("payment = %+v, want succeeded with the intent", p)
	}
	// Replay, then a failed delivered late: nothing changes.
	if code := w.deliver(t, "evt_paid", "payment_intent.succeeded", paidIntent, nodeWebhookSecret, now); code != http.StatusOK {
		t.Errorf("replay: %d, want 200", code)
	}
	if code := w.deliver(t, "evt_paid_failed_late", "payment_intent.payment_failed", paidIntent, nodeWebhookSecret, now); code != http.StatusOK {
		t.Errorf("failed after succeeded: %d, want 200", code)
	}
	if s, p := w.status(t, paid), w.payment(t, paid); s != boxoffice.BookingConfirmed || p.Status != boxoffice.PaymentSucceeded {
		t.Errorf("after a replay and a late failure: booking %s, payment %s; want confirmed, succeeded", s, p.Status)
	}
	var events int
	if err := w.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM payment_events WHERE id = 'evt_paid'`).Scan(&events); err != nil || events != 1 {
		t.Errorf("evt_paid recorded %d times (%v), want once", events, err)
	}

	// A failure voids the attempt and unpins the hold: the seat stays the
	// buyer's (bob cannot take it) until she releases it or it expires.
	if code := w.deliver(t, "evt_failed", "payment_intent.payment_failed", failedIntent, nodeWebhookSecret, now); code != http.StatusOK {
		t.Fatalf("failed: %d, want 200", code)
	}
	require.Eventually(t, func() bool {
		return w.payment(t, failed).Status == boxoffice.PaymentVoided
	}, 30*time.Second, 25*time.Millisecond, "the failed event voids the attempt")
	if code := w.deliver(t, "evt_failed_then_paid", "payment_intent.succeeded", failedIntent, nodeWebhookSecret, now); code != http.StatusOK {
		t.Errorf("succeeded after failed: %d, want 200", code)
	}
	if s, p := w.status(t, failed), w.payment(t, failed); s == boxoffice.BookingConfirmed || p.Status != boxoffice.PaymentVoided {
		t.Errorf("after a failure: booking %s, payment %s; want not sold, voided", s, p.Status)
	}
	if code := w.call(t, http.MethodPost, "/booking/reserve", w.bob,
		map[string]any{"event_id": w.event, "ticket_ids": []string{w.seats[31]}}, nil); code != http.StatusConflict {
		t.Errorf("bob's reserve of the held seat: %d, want 409", code)
	}
	if code := w.call(t, http.MethodDelete, "/booking/"+failed, w.alice, nil, nil); code != http.StatusOK {
		t.Errorf("release of the unpinned hold: %d, want 200", code)
	}
}
