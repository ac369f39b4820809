package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/stripepay"
	"github.com/boxoffice/boxoffice/persistence"
)

// paymentEvents applies the payment provider's verified notifications
// (boxoffice.PaymentEventApplier): each event id at most once, recorded in
// payment_events after its effect. The effect is idempotent (the event
// grain hands it to the payment run of the attempt it names, and with no
// such run ignores it), so an event whose record failed is applied again
// when the provider delivers it again, and never lost: recording first
// would drop an event whose effect then failed.
type paymentEvents struct {
	db     *persistence.DB
	engine *actors.Engine
	log    *slog.Logger
}

// ApplyPaymentEvent implements boxoffice.PaymentEventApplier.
func (a paymentEvents) ApplyPaymentEvent(ctx context.Context, ev boxoffice.PaymentEvent) error {
	seen, err := a.db.PaymentEventApplied(ctx, ev.ID)
	if err != nil || seen {
		return err
	}
	switch ev.Kind {
	case boxoffice.PaymentEventSucceeded, boxoffice.PaymentEventFailed:
		event := ev.EventID
		if event == uuid.Nil {
			b, err := a.engine.Booking(ctx, ev.BookingID) // a hold's row may not be written yet
			if boxoffice.ErrorCode(err) == boxoffice.ENotFound {
				a.log.Warn("a payment event names a booking that does not exist; ignored", "event", ev.ID, "booking", ev.BookingID)
				break
			}
			if err != nil {
				return err
			}
			event = b.EventID
		}
		if err := a.engine.SettlePayment(ctx, event, ev); err != nil {
			return fmt.Errorf("settle payment of booking %s: %w", ev.BookingID, err)
		}
	case boxoffice.PaymentEventRefunded:
		if err := a.refunded(ctx, ev); err != nil {
			return err
		}
	}
	_, err = a.db.RecordPaymentEvent(ctx, ev)
	return err
}

// paymentWebhook is POST /payments/stripe/webhook in stripe mode with a
// webhook secret; nil otherwise (the route is then 404).
func (n *node) paymentWebhook() http.Handler {
	if n.cfg.Payments != "stripe" || n.cfg.StripeWebhookSecret == "" {
		return nil
	}
	return stripepay.NewWebhookHandler(n.cfg.StripeWebhookSecret, 0,
		paymentEvents{db: n.db, engine: n.engine, log: n.log.With("component", "payments")}, n.log.With("component", "payments"))
}
