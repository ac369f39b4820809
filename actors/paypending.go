package actors

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// actionReply answers a confirm whose payment waits for the buyer's action
// (3-D Secure): the hold stays pinned, and the webhook (or the provider,
// asked at the end of PaymentActionWindow) settles the payment.
func actionReply(a *boxoffice.PaymentActionRequired) *grainpb.BookingReply {
	return &grainpb.BookingReply{NextActionType: a.Type, NextActionUrl: a.URL, ChargeId: a.ChargeID}
}

// confirmCall is bookingCall for a confirm, whose answer may also be "the
// payment waits for the buyer's action".
func (e *Engine) confirmCall(ctx context.Context, eventID uuid.UUID, msg *grainpb.Confirm) (boxoffice.Booking, *boxoffice.PaymentActionRequired, error) {
	r, err := cluster.Call[*grainpb.BookingReply](ctx, e.grains, eventID.String(), msg)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	if r.Error != nil {
		return boxoffice.Booking{}, nil, r.Error.Err()
	}
	if r.NextActionType != "" {
		return boxoffice.Booking{}, &boxoffice.PaymentActionRequired{ChargeID: r.ChargeId, Type: r.NextActionType, URL: r.NextActionUrl}, nil
	}
	return bookingFromPB(r.Booking), nil, nil
}

// paymentPending is the confirm's answer while the buyer must act: the
// stored booking (still in-progress) as payment-pending with the action.
func paymentPending(stored boxoffice.Booking, a *boxoffice.PaymentActionRequired) boxoffice.Booking {
	stored.Status, stored.NextAction = boxoffice.BookingPaymentPending, a
	return stored
}

// awaitAction acts on a payment run's report that the buyer must act: the
// confirm's callers get the next action (202 at the API). The first time
// a confirm's payment gets there, the pinned hold's expiry moves, by a
// journaled record, to PaymentActionWindow from now: the bound until which
// the run waits for the webhook, which a later activation also keeps (it
// waits only until the hold's expiry and never moves it again). The reply
// waits for that record to be durable.
func (g *grain) awaitAction(ctx actor.Context, p *payment, msg *paymentDone) {
	first := p.action == nil
	p.late, p.action = true, msg.action
	g.outcome("confirm", "payment_pending", 0)
	reply := actionReply(msg.action)
	if first && !p.run.settle {
		r, err := g.m.ExtendPinned(msg.booking, g.e.cfg.Now().Add(g.e.cfg.PaymentActionWindow))
		if err == nil {
			// The booking row moves with the hold: GET /booking shows the
			// new expiry, and the audit measures the hold's end from it.
			g.stage(r, g.bookingRow(holdInfo(r), boxoffice.BookingInProgress), nil)
			g.after(ctx, func(ctx actor.Context, err error) {
				if err != nil {
					p.reply(ctx, failReply)
					return
				}
				p.reply(ctx, reply)
			})
			g.flush(ctx)
			return
		}
		g.log.Warn("the hold of a payment awaiting the buyer was not extended", "event", g.eventID, "booking", msg.booking, "err", err)
	}
	p.reply(ctx, reply)
}
