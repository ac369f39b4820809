package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

// TestStripeConfirmOnANode runs a real node with BOXOFFICE_PAYMENTS=stripe
// against a real stripe-mock behind the recording proxy: a reserved
// booking is confirmed through the HTTP API with a PaymentMethod id, and a
// second one is declined. stripe-mock checks the create, confirm and
// cancel requests' shapes and answers its canned objects; the proxy sets
// the confirmed intent's status (succeeded, then a 402 card_declined for
// the second booking) and its amount, currency and metadata as created.
func TestStripeConfirmOnANode(t *testing.T) {
	proxy := stripetest.Start(t, stripetest.On("/confirm", stripetest.Override{Status: "succeeded"}))
	n := startSeededNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
	})
	alice := n.token(t, "alice@example.com")
	ev := stadiumEventID()
	seats := n.ticketIDs(t, uuid.MustParse(ev))
	type booking struct {
		BookingID  string `json:"booking_id"`
		Status     string `json:"status"`
		TotalPrice string `json:"total_price"`
		Currency   string `json:"currency"`
	}
	reserve := func(ids ...string) booking {
		t.Helper()
		var b booking
		if code := n.call(t, http.MethodPost, "/booking/reserve", alice,
			map[string]any{"event_id": ev, "ticket_ids": ids}, &b); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
		return b
	}
	confirm := func(b booking, token string, want int) booking {
		t.Helper()
		var out booking
		if code := n.call(t, http.MethodPost, "/booking/confirm", alice, map[string]any{"booking_id": b.BookingID,
			"payment": map[string]string{"method": "card", "token": token}}, &out); code != want {
			t.Fatalf("confirm: %d, want %d", code, want)
		}
		return out
	}

	held := reserve(seats[10], seats[11])
	if got := confirm(held, "pm_card_visa", http.StatusOK); got.Status != "confirmed" {
		t.Fatalf("confirm = %+v, want confirmed", got)
	}
	creates := proxy.Requests("/v1/payment_intents")
	if len(creates) != 1 {
		t.Fatalf("%d intents created, want 1", len(creates))
	}
	total, err := boxoffice.ParseMoney(held.TotalPrice)
	if err != nil {
		t.Fatal(err)
	}
	amount, err := stripepay.StripeAmount(total, held.Currency)
	if err != nil {
		t.Fatal(err)
	}
	c := creates[0]
	if !strings.HasPrefix(c.Key, "booking-"+held.BookingID+"-attempt-") || c.Form.Get("metadata[booking_id]") != held.BookingID ||
		c.Form.Get("amount") != strconv.FormatInt(amount, 10) || c.Form.Get("currency") != strings.ToLower(held.Currency) {
		t.Errorf("create key %q form %v; want the booking's key, id, %d %s", c.Key, c.Form, amount, held.Currency)
	}
	if cf := proxy.Requests("/confirm"); len(cf) != 1 || cf[0].Form.Get("payment_method") != "pm_card_visa" {
		t.Errorf("confirms %+v", cf)
	}

	proxy.SetRule(stripetest.On("/confirm", stripetest.Override{HTTPStatus: http.StatusPaymentRequired, Body: stripetest.CardDeclined}))
	confirm(reserve(seats[12]), "pm_card_chargeDeclined", http.StatusPaymentRequired)
}
