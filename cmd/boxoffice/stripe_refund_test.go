package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
)

// TestStripeRefundOnANode: in stripe mode against stripe-mock (through the
// recording proxy, which makes confirms need the buyer's action so that a
// signed payment_intent.succeeded sells), POST /booking/{id}/refund sends
// one refund to Stripe however often it is asked, and a charge.refunded
// about it (late, and twice) changes nothing; a charge.refunded of a
// confirmed booking (a refund made in Stripe's dashboard) refunds it and
// puts its seat back on sale.
func TestStripeRefundOnANode(t *testing.T) {
	w := startWebhookNode(t)
	now := time.Now()
	sell := func(seat, evt string) (string, map[string]any) {
		t.Helper()
		b, intent := w.pendingBooking(t, seat)
		if code := w.deliver(t, evt, "payment_intent.succeeded", intent, nodeWebhookSecret, now); code != http.StatusOK {
			t.Fatalf("succeeded: %d", code)
		}
		require.Eventually(t, func() bool { return w.status(t, b) == boxoffice.BookingConfirmed },
			30*time.Second, 25*time.Millisecond, "the succeeded event sells the booking")
		return b, intent
	}
	chargeRefunded := func(intent map[string]any) map[string]any {
		return map[string]any{"id": "ch_" + intent["id"].(string), "object": "charge", "refunded": true,
			"payment_intent": intent["id"], "amount_refunded": intent["amount"], "currency": intent["currency"],
			"metadata": intent["metadata"]}
	}

	ours, intent := sell(w.seats[40], "evt_paid_40")
	for range 2 {
		var out struct {
			Status string `json:"status"`
		}
		if code := w.call(t, http.MethodPost, "/booking/"+ours+"/refund", w.alice, nil, &out); code != http.StatusOK || out.Status != "refunded" {
			t.Fatalf("refund: %d %+v", code, out)
		}
	}
	if got := len(w.proxy.Requests("/v1/refunds")); got != 1 {
		t.Fatalf("%d refund requests reached Stripe, want 1", got)
	}
	for _, id := range []string{"evt_refunded_40", "evt_refunded_40", "evt_refunded_40_again"} {
		if code := w.deliver(t, id, "charge.refunded", chargeRefunded(intent), nodeWebhookSecret, now); code != http.StatusOK {
			t.Fatalf("charge.refunded of a refunded booking: %d", code)
		}
	}
	if s, n := w.status(t, ours), len(w.proxy.Requests("/v1/refunds")); s != boxoffice.BookingRefunded || n != 1 {
		t.Fatalf("after charge.refunded of our own refund: %s, %d refund requests; want refunded, 1", s, n)
	}

	theirs, intent := sell(w.seats[41], "evt_paid_41")
	if code := w.deliver(t, "evt_refunded_41", "charge.refunded", chargeRefunded(intent), nodeWebhookSecret, now); code != http.StatusOK {
		t.Fatalf("charge.refunded from the dashboard: %d", code)
	}
	if s := w.status(t, theirs); s != boxoffice.BookingRefunded {
		t.Fatalf("a booking refunded at Stripe is %s, want refunded", s)
	}
	if code := w.call(t, http.MethodPost, "/booking/reserve", w.bob,
		map[string]any{"event_id": w.event, "ticket_ids": []string{w.seats[41]}}, nil); code != http.StatusCreated {
		t.Fatalf("bob's reserve of the refunded seat: %d, want 201", code)
	}
}
