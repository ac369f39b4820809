package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

// byPaymentMethod is the proxy's rule of the end-to-end test: a confirm
// is answered by its PaymentMethod as Stripe's test cards are
// (pm_card_visa succeeds, pm_card_threeDSecure2Required needs 3-D Secure,
// pm_card_chargeDeclined is a 402 card_declined); everything else is
// stripe-mock's answer with the intent's amount and metadata as created.
func byPaymentMethod(r stripetest.Recorded, _ int) *stripetest.Override {
	if !strings.HasSuffix(r.Path, "/confirm") {
		return nil
	}
	switch r.Form.Get("payment_method") {
	case "pm_card_visa":
		return &stripetest.Override{Status: "succeeded"}
	case "pm_card_threeDSecure2Required":
		return &stripetest.Override{NextURL: "https://hooks.stripe.test/3ds"}
	case "pm_card_chargeDeclined":
		return &stripetest.Override{HTTPStatus: http.StatusPaymentRequired, Body: stripetest.CardDeclined}
	}
	return nil
}

// TestStripeEndToEnd runs BOXOFFICE_PAYMENTS=stripe on a real node against
// stripe-mock behind the recording proxy (which sets each confirmed
// intent's status by its card, see byPaymentMethod), through the HTTP API
// only: a reserved booking is confirmed (200 confirmed); one whose card
// needs 3-D Secure answers 202 payment-pending, GET /booking shows its
// hold's moved expiry, and a signed payment_intent.succeeded webhook
// confirms it; a declined card is 402 and its hold stays the buyer's.
// The sold seats show as booked, and `boxoffice check` finds nothing.
func TestStripeEndToEnd(t *testing.T) {
	proxy := stripetest.Start(t, byPaymentMethod)
	n := startTestNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
		c.StripeWebhookSecret, c.StripePublishableKey = nodeWebhookSecret, "pk_test_node"
	})
	n.seedDemo(t)
	// The checkout page takes cards with Stripe's Payment Element.
	req, err := http.NewRequest(http.MethodGet, n.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `data-stripe-key="pk_test_node"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "https://js.stripe.com") {
		t.Errorf("the checkout page in stripe mode has no Payment Element with the publishable key, or its CSP no Stripe.js")
	}
	ev := stadiumEventID()
	w := &webhookNode{testNode: n, proxy: proxy, alice: n.token(t, "alice@example.com"), bob: n.token(t, "bob@example.com"),
		event: ev, seats: n.ticketIDs(t, uuid.MustParse(ev))}
	type booking struct {
		BookingID string    `json:"booking_id"`
		Status    string    `json:"status"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	reserve := func(seats ...string) booking {
		t.Helper()
		var b booking
		if code := w.call(t, http.MethodPost, "/booking/reserve", w.alice,
			map[string]any{"event_id": ev, "ticket_ids": seats}, &b); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
		return b
	}
	confirm := func(b booking, pm string, want int) map[string]any {
		t.Helper()
		var out map[string]any
		if code := w.call(t, http.MethodPost, "/booking/confirm", w.alice, map[string]any{"booking_id": b.BookingID,
			"payment": map[string]string{"method": "card", "token": pm}}, &out); code != want {
			t.Fatalf("confirm with %s: %d %v, want %d", pm, code, out, want)
		}
		return out
	}
	get := func(b booking) booking {
		t.Helper()
		var out booking
		if code := w.call(t, http.MethodGet, "/booking/"+b.BookingID, w.alice, nil, &out); code != http.StatusOK {
			t.Fatalf("GET /booking/%s: %d", b.BookingID, code)
		}
		return out
	}

	paid := reserve(w.seats[40], w.seats[41])
	if got := confirm(paid, "pm_card_visa", http.StatusOK); got["status"] != "confirmed" {
		t.Fatalf("confirm = %v, want confirmed", got)
	}
	if got := get(paid); got.Status != "confirmed" {
		t.Errorf("GET of the paid booking: %s, want confirmed", got.Status)
	}

	secure := reserve(w.seats[42])
	got := confirm(secure, "pm_card_threeDSecure2Required", http.StatusAccepted)
	next, _ := got["next_action"].(map[string]any)
	if got["status"] != "payment-pending" || next["type"] != "redirect" || next["url"] != "https://hooks.stripe.test/3ds" {
		t.Fatalf("confirm needing 3-D Secure = %v, want payment-pending with the redirect", got)
	}
	// The hold moved to the payment's bound (15 minutes from the confirm),
	// later than the reserve's 10 minutes; the booking row shows it.
	if moved := get(secure); moved.Status != "in-progress" || !moved.ExpiresAt.After(secure.ExpiresAt.Add(4*time.Minute)) {
		t.Errorf("GET of the pending booking: %s expiring %s; want in-progress with the moved expiry (reserved until %s)",
			moved.Status, moved.ExpiresAt, secure.ExpiresAt)
	}
	p := w.payment(t, secure.BookingID)
	var intent string
	for _, r := range proxy.Requests("/confirm") {
		if strings.HasPrefix(r.Key, p.Key) {
			intent = strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v1/payment_intents/"), "/confirm")
		}
	}
	amount, err := stripepay.StripeAmount(p.Amount, p.Currency)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{"id": intent, "object": "payment_intent", "amount": amount, "currency": strings.ToLower(p.Currency),
		"metadata": map[string]any{"booking_id": secure.BookingID, "event_id": ev, "boxoffice_key": p.Key}}
	if code := w.deliver(t, "evt_e2e_paid", "payment_intent.succeeded", obj, nodeWebhookSecret, time.Now()); code != http.StatusOK {
		t.Fatalf("webhook: %d, want 200", code)
	}
	require.Eventually(t, func() bool { return get(secure).Status == "confirmed" },
		30*time.Second, 25*time.Millisecond, "the webhook confirms the 3-D Secure booking")

	declined := reserve(w.seats[43])
	confirm(declined, "pm_card_chargeDeclined", http.StatusPaymentRequired)
	if got := get(declined); got.Status != "in-progress" {
		t.Errorf("GET of the declined booking: %s, want in-progress (the hold stays until it expires)", got.Status)
	}
	if code := w.call(t, http.MethodPost, "/booking/reserve", w.bob,
		map[string]any{"event_id": ev, "ticket_ids": []string{w.seats[43]}}, nil); code != http.StatusConflict {
		t.Errorf("bob's reserve of the declined booking's seat: %d, want 409", code)
	}

	var view struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Status   string `json:"status"`
		} `json:"tickets"`
	}
	if code := w.call(t, http.MethodGet, "/events/"+ev, "", nil, &view); code != http.StatusOK {
		t.Fatalf("GET /events: %d", code)
	}
	booked := map[string]bool{}
	for _, tk := range view.Tickets {
		booked[tk.TicketID] = tk.Status == "booked"
	}
	for _, s := range []string{w.seats[40], w.seats[41], w.seats[42]} {
		if !booked[s] {
			t.Errorf("seat %s is not booked", s)
		}
	}
	assertNoViolations(t, n.DB, nil)
}
