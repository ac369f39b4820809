package main

import (
	"context"
	"fmt"

	"github.com/boxoffice/boxoffice"
)

// refunded applies the provider's notification that a booking's charge was
// refunded in full. A refund the platform made itself (its booking is
// refunded already, or becomes so when the refund in flight is journaled)
// changes nothing, however late or often the notification comes. A refund
// made at the provider (its dashboard) of a confirmed booking ends the sale
// as the platform's own would: the seats go back on sale and the tickets
// are revoked; the provider's refund of a refunded charge is a no-op. A
// notification about another attempt's charge, or a booking not sold, is
// ignored.
func (a paymentEvents) refunded(ctx context.Context, ev boxoffice.PaymentEvent) error {
	b, err := a.db.Booking(ctx, ev.BookingID)
	if boxoffice.ErrorCode(err) == boxoffice.ENotFound {
		a.log.Warn("a refund event names a booking that does not exist; ignored", "event", ev.ID, "booking", ev.BookingID)
		return nil
	}
	if err != nil {
		return err
	}
	if b.Status != boxoffice.BookingConfirmed {
		return nil
	}
	p, err := a.db.Payment(ctx, b.ID)
	if boxoffice.ErrorCode(err) == boxoffice.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Status != boxoffice.PaymentSucceeded || p.ChargeID != ev.ChargeID {
		a.log.Warn("a refund event about another charge of the booking; ignored", "event", ev.ID, "booking", b.ID, "charge", ev.ChargeID)
		return nil
	}
	if _, err := a.engine.Refund(ctx, b, boxoffice.RefundByProvider); err != nil {
		return fmt.Errorf("refund booking %s: %w", b.ID, err)
	}
	return nil
}
