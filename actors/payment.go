package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

// payment is a confirm whose charge is in flight; later confirms of the
// same booking wait for its outcome instead of charging again (I6).
type payment struct {
	booking uuid.UUID
	owner   uuid.UUID
	method  string
	token   string
	amount  boxoffice.Money
	// late is set once the provider's answer is overdue: the run goes on
	// with the same key while the hold stays pinned, and a confirm is told
	// so at once instead of waiting.
	late bool
	// run is the payment run this entry waits for; a report from any other
	// run (one of an earlier instance of the grain, say) is ignored.
	run     *payRun
	waiters []*actor.PID
	// trace is the span of the confirm that started the payment (invalid
	// when untraced): the run's provider calls and outcome join its trace.
	trace trace.SpanContext
	// action is set while the payment waits for the buyer's action (3-D
	// Secure): what the buyer must do.
	action *boxoffice.PaymentActionRequired
	// bound, when set, is the hold's expiry an activation found pinned: a
	// payment settled then waits for the buyer's action until it only.
	bound time.Time
	// orphan: reconciliation voids this pending payment, whose booking has
	// no hold any more (reconcile.go); no confirm waits for it.
	orphan bool
}

func (p *payment) reply(ctx actor.Context, msg proto.Message) {
	for _, w := range p.waiters {
		if w != nil {
			ctx.Send(w, msg)
		}
	}
	p.waiters = nil
}

// errPaymentLate answers a confirm whose payment's outcome is not known yet.
var errPaymentLate = boxoffice.Errorf(boxoffice.EUnavailable,
	"the payment provider has not answered yet; the seats stay held while the payment is settled; confirm again shortly to see the outcome")

// confirm pins the hold so it cannot expire under the payment, and once
// the pin is durable charges the provider outside the mailbox. A client's
// Idempotency-Key plays no part here: the engine bound it to this booking
// already, and the provider's key is derived from the booking and attempt.
func (g *grain) confirm(ctx actor.Context, msg *grainpb.Confirm) {
	if g.refuse(ctx) {
		return
	}
	owner, booking := id(msg.UserId), id(msg.BookingId)
	if p, ok := g.payments[booking]; ok && !p.orphan {
		switch {
		case p.owner != owner:
			ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user"))})
		case p.action != nil:
			ctx.Respond(actionReply(p.action))
		case p.late:
			ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(errPaymentLate)})
		default:
			p.waiters = append(p.waiters, ctx.Sender())
		}
		return
	}
	r, err := g.m.PinForPayment(booking, owner, g.e.cfg.Now())
	if err != nil {
		g.outcome("confirm", boxoffice.ErrorCode(err), 0)
		g.refuseHold(ctx, err)
		return
	}
	p := &payment{booking: booking, owner: owner, method: msg.Method, token: msg.Token,
		amount: g.total(holdInfo(r)), waiters: []*actor.PID{ctx.Sender()}}
	if g.spanCtx != nil {
		p.trace = trace.SpanContextFromContext(g.spanCtx)
	}
	g.payments[booking] = p
	g.stage(r, nil, nil)
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			p.reply(ctx, failReply)
			delete(g.payments, booking)
			return
		}
		g.startPayment(ctx, p, false)
	})
	g.flush(ctx)
}

// startPayment runs the booking's payment on a goroutine the grain and the
// engine both count (the grain waits for it when it stops, the node drains
// it before closing the database). settle claims the row an earlier
// activation left instead of beginning one.
func (g *grain) startPayment(ctx actor.Context, p *payment, settle bool) {
	self, root, st := ctx.Self(), ctx.ActorSystem().Root, g.stamp()
	if g.payStop == nil {
		g.payStop = make(chan struct{})
	}
	run := &payRun{store: g.e.deps.Store, provider: g.e.deps.Payments, cfg: g.e.cfg, pay: g.e.pay, stop: g.payStop,
		settle: settle, hints: make(chan settlement, 1), bound: p.bound, due: make(chan struct{}, 1), orphan: p.orphan,
		begin: boxoffice.Payment{BookingID: p.booking, EventID: g.eventID, Epoch: g.epoch, Amount: p.amount,
			Currency: g.currency, Method: p.method, Token: p.token}}
	run.trace, run.tracer = p.trace, g.e.tracer
	run.report = func(d *paymentDone) {
		d.stamp, d.run = st, run
		root.Send(self, d)
	}
	p.run = run
	g.e.pay.wg.Add(1)
	g.Go(func() {
		defer g.e.pay.wg.Done()
		run.report(run.run())
	})
}

// onPaymentDone acts on a payment run's report: sell after a charge,
// unpin after a decline, a void or no charge at all (API.md: the booking
// stays in-progress until the hold expires), and keep the hold pinned
// while the outcome is unknown (I3, I7).
func (g *grain) onPaymentDone(ctx actor.Context, msg *paymentDone) {
	p := g.payments[msg.booking]
	if p == nil || p.run != msg.run || g.broken {
		return
	}
	if p.orphan {
		g.orphanDone(ctx, p, msg)
		return
	}
	switch msg.outcome {
	case payLate:
		p.late = true
		g.outcome("confirm", "payment_late", 0)
		p.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(errPaymentLate)})
		return
	case payAction:
		g.awaitAction(ctx, p, msg)
		return
	case payFenced:
		g.log.Warn("payment claimed by a newer owner of the event; stopping", "event", g.eventID, "booking", msg.booking)
		g.fail(ctx, msg.err)
		return
	case payInterrupted:
		// The grain or node is stopping (or the row cannot be written): the
		// hold stays pinned and the next activation settles the row.
		g.log.Warn("payment interrupted; the next activation settles it", "event", g.eventID, "booking", msg.booking, "err", msg.err)
		p.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(errPaymentLate)})
		delete(g.payments, msg.booking)
		return
	case payPaid:
		g.sell(ctx, p, msg)
		return
	}
	g.unpin(ctx, p, msg)
}

// sell records the sale of a paid booking; the reply waits for its commit.
func (g *grain) sell(ctx actor.Context, p *payment, msg *paymentDone) {
	r, err := g.m.Sell(msg.booking)
	if err != nil {
		g.log.Error("sell after payment failed", "event", g.eventID, "booking", msg.booking, "err", err)
		p.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
		delete(g.payments, msg.booking)
		return
	}
	b := g.bookingRow(holdInfo(r), boxoffice.BookingConfirmed)
	g.stage(r, b, &boxoffice.Sale{BookingID: msg.booking, TicketIDs: b.TicketIDs})
	g.notify(boxoffice.BookingNotice(boxoffice.NoticeBookingConfirmed, *b, b.ConfirmedAt))
	if g.m.Counts().Booked == g.m.Len() {
		g.notify(boxoffice.EventNotice(boxoffice.NoticeEventSoldOut, g.eventID, b.ConfirmedAt))
	}
	g.outcome("confirm", "ok", len(r.Seats))
	g.replyAfter(ctx, p, &grainpb.BookingReply{Booking: bookingToPB(*b)})
	g.refundIfCancelled(ctx, msg.booking)
}

// unpin lets the hold expire again after a payment that took no money.
func (g *grain) unpin(ctx actor.Context, p *payment, msg *paymentDone) {
	if r, err := g.m.Unpin(msg.booking); err == nil {
		g.stage(r, nil, nil)
	}
	err := msg.err
	if code := boxoffice.ErrorCode(err); code != boxoffice.EPaymentFailed {
		err = boxoffice.Errorf(boxoffice.EUnavailable, "the payment could not be started; nothing was charged; retry shortly")
	}
	g.outcome("confirm", boxoffice.ErrorCode(err), 0)
	g.replyAfter(ctx, p, &grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
}

// replyAfter answers the payment's callers once what was staged is durable.
func (g *grain) replyAfter(ctx actor.Context, p *payment, reply proto.Message) {
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			p.reply(ctx, failReply)
		} else {
			p.reply(ctx, reply)
		}
		delete(g.payments, p.booking)
	})
	g.flush(ctx)
}

// settleInterrupted finishes the payments of holds an earlier activation
// left pinned in the journal. Each run claims the booking's payment row for
// this activation's epoch before acting on it: a succeeded row is sold, a
// declined or voided one (or none: nothing was charged) is unpinned, and a
// pending one, whose outcome is unknown, is asked again with its own key
// and card, the hold pinned meanwhile, and voided if it stays unknown.
func (g *grain) settleInterrupted(ctx actor.Context) {
	for _, h := range g.m.PinnedHolds() {
		p := &payment{booking: h.Booking, owner: h.Owner, amount: g.total(h), bound: h.ExpiresAt}
		g.payments[h.Booking] = p
		g.startPayment(ctx, p, true)
	}
}

// paymentSettled hands a provider's verified notification to the run of
// the booking's payment, which settles the attempt the notification names
// exactly as the provider's own answer would (sell, or void and unpin).
// With no run of this activation (a late or repeated notification, a
// booking already sold or released) it changes nothing: an activation
// settles a pinned hold's pending payment by asking the provider itself.
func (g *grain) paymentSettled(ctx actor.Context, msg *grainpb.PaymentSettled) {
	if g.refuse(ctx) {
		return
	}
	if p := g.payments[id(msg.BookingId)]; p != nil && p.run != nil {
		p.run.hint(settlement{key: msg.Key, succeeded: msg.Succeeded, res: boxoffice.PaymentResult{
			ChargeID: msg.ChargeId, BookingID: p.booking, Amount: boxoffice.Money(msg.AmountMinor), Currency: msg.Currency}})
	}
	if ctx.Sender() != nil {
		ctx.Respond(&grainpb.Ack{})
	}
}
