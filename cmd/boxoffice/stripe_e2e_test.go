package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
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
	n := startSeededNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
		c.StripeWebhookSecret, c.StripePublishableKey = nodeWebhookSecret, "pk_test_node"
	})
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

// TestStripeRefundAndCancelEndToEnd runs BOXOFFICE_PAYMENTS=stripe on a
// real node against stripe-mock behind the recording proxy (confirms are
// answered by their card, see byPaymentMethod: pm_card_visa succeeds;
// refunds pass through as stripe-mock's succeeded refund), through the
// HTTP API only: a confirmed booking refunded by its owner is 200
// refunded, its charge refunded once at Stripe and its seats on sale again
// (bob holds one); an admin then cancels the event with three other
// confirmed bookings outstanding: reserves are 409 not_on_sale at once,
// the refund job finishes (GET /admin/api/events/{id} shows every refund
// done), each charge was refunded exactly once at Stripe, every booking is
// refunded, and `boxoffice check` finds nothing.
func TestStripeRefundAndCancelEndToEnd(t *testing.T) {
	proxy := stripetest.Start(t, byPaymentMethod)
	n := startSeededNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
		c.StripeWebhookSecret = nodeWebhookSecret
	})
	ev := stadiumEventID()
	seats := n.ticketIDs(t, uuid.MustParse(ev))
	alice, bob, carol := n.token(t, "alice@example.com"), n.token(t, "bob@example.com"), n.token(t, "carol@example.com")
	type booking struct {
		BookingID string `json:"booking_id"`
		Status    string `json:"status"`
	}
	var errBody struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	owner := map[string]string{} // booking -> its buyer's token
	buy := func(tok string, ids ...string) string {
		t.Helper()
		var b booking
		if code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": ids}, &b); code != http.StatusCreated {
			t.Fatalf("reserve %v: %d", ids, code)
		}
		if code := n.call(t, http.MethodPost, "/booking/confirm", tok, map[string]any{"booking_id": b.BookingID,
			"payment": map[string]string{"method": "card", "token": "pm_card_visa"}}, &b); code != http.StatusOK || b.Status != "confirmed" {
			t.Fatalf("confirm: %d %+v", code, b)
		}
		owner[b.BookingID] = tok
		return b.BookingID
	}
	// refundsOf counts the refunds Stripe was asked for of the booking's
	// charge (its PaymentIntent).
	refundsOf := func(id string) int {
		t.Helper()
		p, err := n.db.Payment(context.Background(), uuid.MustParse(id))
		if err != nil || p.ChargeID == "" {
			t.Fatalf("payment of %s: %+v, %v", id, p, err)
		}
		got := 0
		for _, r := range proxy.Requests("/v1/refunds") {
			if r.Form.Get("payment_intent") == p.ChargeID {
				got++
			}
		}
		return got
	}
	seatStatus := func() map[string]string {
		t.Helper()
		var view struct {
			Tickets []struct {
				TicketID string `json:"ticket_id"`
				Status   string `json:"status"`
			} `json:"tickets"`
		}
		if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view); code != http.StatusOK {
			t.Fatalf("GET /events/%s: %d", ev, code)
		}
		out := map[string]string{}
		for _, tk := range view.Tickets {
			out[tk.TicketID] = tk.Status
		}
		return out
	}

	refunded := buy(alice, seats[40], seats[41])
	others := []string{buy(alice, seats[42]), buy(bob, seats[43]), buy(carol, seats[44], seats[45])}

	// GET /events may serve a view rendered up to EventViewMaxAge ago:
	// the seats' statuses are waited for, booked before the refund and
	// available after it.
	seatsAre := func(want string) func() bool {
		return func() bool { st := seatStatus(); return st[seats[40]] == want && st[seats[41]] == want }
	}
	require.Eventually(t, seatsAre("booked"), 30*time.Second, 25*time.Millisecond, "the sold seats show as booked")
	var out booking
	if code := n.call(t, http.MethodPost, "/booking/"+refunded+"/refund", alice, nil, &out); code != http.StatusOK || out.Status != "refunded" {
		t.Fatalf("the owner's refund: %d %+v, want 200 refunded", code, out)
	}
	if got := refundsOf(refunded); got != 1 {
		t.Fatalf("Stripe was asked %d times to refund the owner's booking's charge, want 1", got)
	}
	require.Eventually(t, seatsAre("available"), 30*time.Second, 25*time.Millisecond, "the refunded seats are on sale again")
	// On sale again: bob holds one (the hold is still his at the cancel).
	if code := n.call(t, http.MethodPost, "/booking/reserve", bob, map[string]any{"event_id": ev, "ticket_ids": []string{seats[40]}}, nil); code != http.StatusCreated {
		t.Fatalf("bob's reserve of a refunded seat: %d, want 201", code)
	}

	admin := n.token(t, "admin@example.com", "admin")
	var cancelled struct {
		Status string `json:"status"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/events/"+ev+"/cancel", admin, nil, &cancelled); code != http.StatusOK || cancelled.Status != "cancelled" {
		t.Fatalf("cancel: %d %+v", code, cancelled)
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", carol, map[string]any{"event_id": ev, "ticket_ids": []string{seats[46]}}, &errBody); code != http.StatusConflict || errBody.Error.Code != boxoffice.ENotOnSale {
		t.Fatalf("reserve of a cancelled event: %d %+v, want 409 not_on_sale", code, errBody)
	}
	// Every refund of the event counts: the owner's and the job's three.
	var progress struct {
		Refunds struct{ Done, Total int } `json:"refunds"`
	}
	require.Eventually(t, func() bool {
		code := n.call(t, http.MethodGet, "/admin/api/events/"+ev, admin, nil, &progress)
		return code == http.StatusOK && progress.Refunds.Total == len(others)+1 && progress.Refunds.Done == progress.Refunds.Total
	}, 60*time.Second, 25*time.Millisecond, "the cancellation's refund job finishes")
	for _, id := range append([]string{refunded}, others...) {
		if code := n.call(t, http.MethodGet, "/booking/"+id, owner[id], nil, &out); code != http.StatusOK || out.Status != "refunded" {
			t.Errorf("GET /booking/%s: %d %s, want refunded", id, code, out.Status)
		}
		if got := refundsOf(id); got != 1 {
			t.Errorf("booking %s: Stripe was asked %d times to refund its charge, want 1", id, got)
		}
	}
	if got := len(proxy.Requests("/v1/refunds")); got != len(others)+1 {
		t.Errorf("%d refund requests reached Stripe, want %d", got, len(others)+1)
	}
	assertNoViolations(t, n.DB, nil)
}
