package stripepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/stripepay"
)

const whSecret = "whsec_test_boxoffice"

// applier records events and applies each id at most once, as the
// engine's applier must (the handler itself does not deduplicate).
type applier struct {
	mu      sync.Mutex
	seen    map[string]bool
	applied []boxoffice.PaymentEvent
	fail    error
}

func (a *applier) ApplyPaymentEvent(_ context.Context, ev boxoffice.PaymentEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	if !a.seen[ev.ID] {
		a.seen[ev.ID] = true
		a.applied = append(a.applied, ev)
	}
	return nil
}

// eventJSON builds a Stripe event of type typ about obj.
func eventJSON(t *testing.T, id, typ string, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2025-01-01",
		"created": time.Now().Unix(), "data": map[string]any{"object": obj}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func intentObj(booking, event uuid.UUID, status string) map[string]any {
	return map[string]any{"id": "pi_" + booking.String()[:8], "object": "payment_intent", "amount": 1500, "currency": "jpy",
		"status": status, "metadata": map[string]any{"booking_id": booking.String(), "event_id": event.String()}}
}

// post sends payload signed with secret at ts (header "" = unsigned).
func post(t *testing.T, h http.Handler, payload []byte, secret string, ts time.Time) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/payments/stripe/webhook", bytes.NewReader(payload))
	if secret != "" {
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts})
		req.Header.Set("Stripe-Signature", sp.Header)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" {
			t.Errorf("status %d with body %q, want API.md's error body", rec.Code, rec.Body.String())
		}
	}
	return rec.Code
}

// TestWebhook: events signed with the library's test helper are verified
// and handed to the applier in the platform's terms; bad or missing
// signatures and stale timestamps are 400 and never applied; events that
// are not about a booking are acknowledged and ignored; a replayed event
// reaches the applier again and the applier applies it once.
func TestWebhook(t *testing.T) {
	booking, event := uuid.New(), uuid.New()
	now := time.Now()
	succeeded := eventJSON(t, "evt_1", "payment_intent.succeeded", intentObj(booking, event, "succeeded"))
	for _, tc := range []struct {
		name    string
		payload []byte
		secret  string
		ts      time.Time
		status  int
		want    *boxoffice.PaymentEvent
	}{
		{"succeeded", succeeded, whSecret, now, 200,
			&boxoffice.PaymentEvent{ID: "evt_1", Kind: boxoffice.PaymentEventSucceeded, BookingID: booking, EventID: event,
				ChargeID: "pi_" + booking.String()[:8], Amount: 150000, Currency: "JPY"}},
		{"failed", eventJSON(t, "evt_2", "payment_intent.payment_failed", intentObj(booking, event, "requires_payment_method")), whSecret, now, 200,
			&boxoffice.PaymentEvent{ID: "evt_2", Kind: boxoffice.PaymentEventFailed, BookingID: booking, EventID: event,
				ChargeID: "pi_" + booking.String()[:8], Amount: 150000, Currency: "JPY"}},
		{"refunded", eventJSON(t, "evt_3", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount": 2000,
			"amount_refunded": 2000, "currency": "eur", "refunded": true, "payment_intent": "pi_9",
			"metadata": map[string]any{"booking_id": booking.String()}}), whSecret, now, 200,
			&boxoffice.PaymentEvent{ID: "evt_3", Kind: boxoffice.PaymentEventRefunded, BookingID: booking, ChargeID: "pi_9", Amount: 2000, Currency: "EUR"}},
		{"wrong secret", succeeded, "whsec_someone_else", now, 400, nil},
		{"unsigned", succeeded, "", now, 400, nil},
		{"stale timestamp", succeeded, whSecret, now.Add(-time.Hour), 400, nil},
		{"future timestamp", succeeded, whSecret, now.Add(time.Hour), 400, nil},
		{"other type", eventJSON(t, "evt_4", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}), whSecret, now, 200, nil},
		{"foreign intent", eventJSON(t, "evt_5", "payment_intent.succeeded", map[string]any{"id": "pi_x", "object": "payment_intent",
			"status": "succeeded", "metadata": map[string]any{}}), whSecret, now, 200, nil},
		{"partial refund", eventJSON(t, "evt_6", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount": 2000,
			"amount_refunded": 500, "currency": "eur", "refunded": false, "metadata": map[string]any{"booking_id": booking.String()}}), whSecret, now, 200, nil},
		{"not JSON", []byte("not json"), whSecret, now, 400, nil},
		{"attempt key", eventJSON(t, "evt_7", "payment_intent.succeeded", map[string]any{"id": "pi_k", "object": "payment_intent",
			"amount": 2000, "currency": "eur", "status": "succeeded", "metadata": map[string]any{"booking_id": booking.String(),
				"boxoffice_key": boxoffice.PaymentKey(booking, 2)}}), whSecret, now, 200,
			&boxoffice.PaymentEvent{ID: "evt_7", Kind: boxoffice.PaymentEventSucceeded, BookingID: booking, ChargeID: "pi_k",
				Amount: 2000, Currency: "EUR", Key: boxoffice.PaymentKey(booking, 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &applier{}
			h := stripepay.NewWebhookHandler(whSecret, 5*time.Minute, a, nil)
			if got := post(t, h, tc.payload, tc.secret, tc.ts); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			switch {
			case tc.want == nil && len(a.applied) != 0:
				t.Errorf("applied %+v, want nothing", a.applied)
			case tc.want != nil && (len(a.applied) != 1 || a.applied[0] != *tc.want):
				t.Errorf("applied %+v, want %+v", a.applied, *tc.want)
			}
		})
	}

	t.Run("tampered body", func(t *testing.T) {
		a := &applier{}
		h := stripepay.NewWebhookHandler(whSecret, 0, a, nil)
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: succeeded, Secret: whSecret})
		other := bytes.Replace(succeeded, []byte(booking.String()), []byte(uuid.NewString()), 1)
		req := httptest.NewRequest(http.MethodPost, "/payments/stripe/webhook", bytes.NewReader(other))
		req.Header.Set("Stripe-Signature", sp.Header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 400 || len(a.applied) != 0 {
			t.Fatalf("tampered body: %d, applied %+v", rec.Code, a.applied)
		}
	})

	t.Run("replay and reorder", func(t *testing.T) {
		a := &applier{}
		h := stripepay.NewWebhookHandler(whSecret, 0, a, nil)
		failed := eventJSON(t, "evt_f", "payment_intent.payment_failed", intentObj(booking, event, "requires_payment_method"))
		for _, p := range [][]byte{succeeded, failed, succeeded} {
			if got := post(t, h, p, whSecret, time.Now()); got != 200 {
				t.Fatalf("status %d", got)
			}
		}
		// The handler passed all three on; the applier applied evt_1 once
		// and kept the order of arrival for the engine to settle.
		if len(a.applied) != 2 || a.applied[0].ID != "evt_1" || a.applied[1].ID != "evt_f" {
			t.Fatalf("applied %+v", a.applied)
		}
	})

	t.Run("applier fails: Stripe retries", func(t *testing.T) {
		a := &applier{fail: errors.New("database down")}
		h := stripepay.NewWebhookHandler(whSecret, 0, a, nil)
		if got := post(t, h, succeeded, whSecret, time.Now()); got != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", got)
		}
	})

	t.Run("GET", func(t *testing.T) {
		h := stripepay.NewWebhookHandler(whSecret, 0, &applier{}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/payments/stripe/webhook", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("GET: %d", rec.Code)
		}
	})

	t.Run("too large", func(t *testing.T) {
		a := &applier{}
		h := stripepay.NewWebhookHandler(whSecret, 0, a, nil)
		big := []byte(fmt.Sprintf(`{"id":"evt_big","pad":%q}`, bytes.Repeat([]byte("x"), stripepay.MaxWebhookBody)))
		if got := post(t, h, big, whSecret, time.Now()); got != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", got)
		}
	})
}
