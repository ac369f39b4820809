package stripepay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/boxoffice/boxoffice"
)

// MaxWebhookBody bounds a webhook request; Stripe's events are far smaller.
const MaxWebhookBody = 256 << 10

// ParseEvent verifies payload against its Stripe-Signature header with
// secret (timestamps older than tolerance are refused; 0 is the library's
// five minutes) and maps it to a PaymentEvent. ok is false for a verified
// event that says nothing about a booking's charge (another type, or an
// intent without our metadata): it is acknowledged and ignored.
func ParseEvent(payload []byte, header, secret string, tolerance time.Duration) (ev boxoffice.PaymentEvent, ok bool, err error) {
	if tolerance <= 0 {
		tolerance = webhook.DefaultTolerance
	}
	se, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		Tolerance: tolerance,
		// The account's API version decides the event's shape, not this
		// library's; the fields read here are stable across versions.
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return ev, false, err
	}
	// The library refuses old timestamps only; one far ahead would let a
	// captured delivery be replayed for as long, so it is refused too.
	if ts, ok := signedAt(header); !ok || ts.After(time.Now().Add(tolerance)) {
		return ev, false, errors.New("the signature's timestamp is in the future")
	}
	ev.ID = se.ID
	var meta map[string]string
	switch se.Type {
	case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled":
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(se.Data.Raw, &pi); err != nil {
			return ev, false, fmt.Errorf("event %s: %w", se.ID, err)
		}
		ev.Kind = boxoffice.PaymentEventFailed
		if se.Type == "payment_intent.succeeded" {
			ev.Kind = boxoffice.PaymentEventSucceeded
		}
		meta, ev.ChargeID = pi.Metadata, pi.ID
		ev.Currency = strings.ToUpper(string(pi.Currency))
		ev.Amount = PlatformAmount(pi.Amount, ev.Currency)
	case "charge.refunded":
		var ch stripe.Charge
		if err := json.Unmarshal(se.Data.Raw, &ch); err != nil {
			return ev, false, fmt.Errorf("event %s: %w", se.ID, err)
		}
		if !ch.Refunded {
			return ev, false, nil // a partial refund: not one the platform made
		}
		ev.Kind, meta = boxoffice.PaymentEventRefunded, ch.Metadata
		if ch.PaymentIntent != nil {
			ev.ChargeID = ch.PaymentIntent.ID
		}
		ev.Currency = strings.ToUpper(string(ch.Currency))
		ev.Amount = PlatformAmount(ch.AmountRefunded, ev.Currency)
	default:
		return ev, false, nil
	}
	b, err := uuid.Parse(meta[MetaBooking])
	if err != nil {
		return ev, false, nil // not a booking's charge (another integration's)
	}
	ev.BookingID = b
	ev.EventID, _ = uuid.Parse(meta[MetaEvent])
	ev.Key = meta[MetaKey]
	return ev, true, nil
}

// signedAt reads the t= timestamp of a Stripe-Signature header.
func signedAt(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

// NewWebhookHandler serves POST /payments/stripe/webhook: it verifies
// each request's Stripe-Signature with secret and tolerance, and hands
// the booking events to apply. A bad or missing signature, a stale
// timestamp or an unreadable body is 400 (Stripe does not retry it); an
// event about something else is 200 and ignored; apply's error is 503 so
// that Stripe delivers the event again.
//
// The handler does not deduplicate: Stripe delivers at least once and in
// any order, and apply must apply each event id at most once (see
// boxoffice.PaymentEventApplier).
func NewWebhookHandler(secret string, tolerance time.Duration, apply boxoffice.PaymentEventApplier, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, boxoffice.EMethodNotAllow, "use POST")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, boxoffice.ETooLarge, "the event is too large")
				return
			}
			writeError(w, http.StatusBadRequest, boxoffice.EInvalid, "the body could not be read")
			return
		}
		sig := r.Header.Get("Stripe-Signature")
		if sig == "" {
			writeError(w, http.StatusBadRequest, boxoffice.EInvalid, "missing Stripe-Signature")
			return
		}
		ev, ok, err := ParseEvent(body, sig, secret, tolerance)
		if err != nil {
			log.Warn("stripe webhook refused", "err", err)
			writeError(w, http.StatusBadRequest, boxoffice.EInvalid, "the event's signature or timestamp is not valid")
			return
		}
		if ok {
			if err := apply.ApplyPaymentEvent(r.Context(), ev); err != nil {
				log.Error("stripe webhook event not applied; Stripe will deliver it again", "event", ev.ID, "booking", ev.BookingID, "err", err)
				writeError(w, http.StatusServiceUnavailable, boxoffice.EUnavailable, "the event could not be applied now")
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"received":true}`)
	})
}

// writeError answers in API.md's error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
