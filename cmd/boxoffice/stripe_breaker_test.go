package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

type apiError struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// TestStripeBreakerOnANode runs a real node with BOXOFFICE_PAYMENTS=stripe
// against stripe-mock behind the recording proxy, which answers every
// request with a 500 (an outage: nothing reaches stripe-mock). The first
// confirm's outcome is unknown (503, its hold pinned) and its retries open
// the breaker (3 failures; the cooldown is an hour so that it stays open).
// Then a confirm answers 503 unavailable without a request to Stripe: its
// attempt is closed as not charged, nothing is sold, and the seats stay
// held by the buyer (another user cannot reserve them) until the hold's
// own expiry.
func TestStripeBreakerOnANode(t *testing.T) {
	proxy := stripetest.Start(t, func(stripetest.Recorded, int) *stripetest.Override {
		return &stripetest.Override{HTTPStatus: http.StatusInternalServerError, Body: stripetest.ServerError}
	})
	n := startSeededNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
		c.stripeTune = func(sc *stripepay.Config) {
			sc.Tries, sc.Backoff, sc.BreakerFailures, sc.BreakerCooldown = 2, time.Millisecond, 3, time.Hour
		}
	})
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")
	ev := stadiumEventID()
	seats := n.ticketIDs(t, uuid.MustParse(ev))
	reserve := func(token, seat string, want int) string {
		t.Helper()
		var b struct {
			BookingID string `json:"booking_id"`
		}
		if code := n.call(t, http.MethodPost, "/booking/reserve", token,
			map[string]any{"event_id": ev, "ticket_ids": []string{seat}}, &b); code != want {
			t.Fatalf("reserve %s: %d, want %d", seat, code, want)
		}
		return b.BookingID
	}
	confirm := func(booking string) (int, string) {
		t.Helper()
		var e apiError
		code := n.call(t, http.MethodPost, "/booking/confirm", alice, map[string]any{"booking_id": booking,
			"payment": map[string]string{"method": "card", "token": "pm_card_visa"}}, &e)
		return code, e.Error.Code
	}

	first := reserve(alice, seats[20], http.StatusCreated)
	if code, ec := confirm(first); code != http.StatusServiceUnavailable || ec != boxoffice.EUnavailable {
		t.Fatalf("confirm during the outage: %d %s, want 503 unavailable", code, ec)
	}
	require.Eventually(t, func() bool { return proxy.Count() >= 3 }, 30*time.Second, 25*time.Millisecond, "the breaker opens after 3 failed requests")

	second := reserve(alice, seats[21], http.StatusCreated)
	before := proxy.Count()
	if code, ec := confirm(second); code != http.StatusServiceUnavailable || ec != boxoffice.EUnavailable {
		t.Fatalf("confirm with the breaker open: %d %s, want 503 unavailable", code, ec)
	}
	if got := proxy.Count(); got != before {
		t.Errorf("%d requests reached Stripe during a confirm with the breaker open, want 0", got-before)
	}
	p, err := n.db.Payment(context.Background(), uuid.MustParse(second))
	if err != nil || p.Status != boxoffice.PaymentDeclined {
		t.Errorf("payment = %+v, %v; want closed as not charged (declined)", p, err)
	}
	for _, id := range []string{first, second} {
		if b, err := n.engine.Booking(context.Background(), uuid.MustParse(id)); err != nil || b.Status == boxoffice.BookingConfirmed {
			t.Errorf("booking %s = %+v, %v; want not sold", id, b.Status, err)
		}
	}
	reserve(bob, seats[20], http.StatusConflict)
	reserve(bob, seats[21], http.StatusConflict)
	// The second hold is no longer pinned: its buyer may release it.
	if code := n.call(t, http.MethodDelete, "/booking/"+second, alice, nil, nil); code != http.StatusOK {
		t.Errorf("release of the unpinned hold: %d, want 200", code)
	}
	reserve(bob, seats[21], http.StatusCreated)
}
