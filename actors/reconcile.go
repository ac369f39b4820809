package actors

import (
	"context"
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/boxoffice/boxoffice"
)

// Reconciliation. A charge can succeed just before PostgreSQL or the node
// dies: the payment row stays pending, and nothing in this activation may
// be settling it. At activation the grain lists its event's pending
// payments, and every ReconcileInterval (by the engine's clock) the
// engine's poll lists those of all active events and hands each grain its
// own (poll.go); for each one no run of its own is settling, the grain asks
// the provider:
//
//   - the booking's hold is pinned: a settle run claims the row and asks the
//     provider (PaymentLookup when it can, else the same charge again with
//     the same key): a charge of the booking is sold, no charge is voided
//     and the hold unpinned, an action still awaited waits until the
//     hold's (moved) expiry;
//   - the hold is live but not pinned (its confirm was told nothing was
//     charged): with a provider that can look up without charging, it is
//     pinned first (so that it cannot expire under the answer), then
//     settled the same way; with one that cannot, it is voided as below,
//     since asking would mean charging;
//   - the hold is gone (expired, released): the seats are no longer the
//     booking's, so whatever the attempt charged is voided (refunded or
//     cancelled) and the row closed as voided.
//
// A payment that waits for the buyer's action past its hold's expiry (the
// 3-D Secure bound) is settled at once: its run asks the provider and voids
// what is not done.

// pendingFound is the list of the event's pending payments, read off the
// mailbox.
type pendingFound struct {
	stamp
	rows []boxoffice.Payment
	err  error
}

// reconcile lists the event's pending payments at activation on a
// goroutine the grain owns and hands them to the grain (onPendingFound).
func (g *grain) reconcile(ctx actor.Context) {
	g.reconciling = true
	self, root, st := ctx.Self(), ctx.ActorSystem().Root, g.stamp()
	if g.pre != nil { // read by the batched activation
		root.Send(self, &pendingFound{stamp: st, rows: g.pre.Pending})
		return
	}
	store, id, timeout := g.e.deps.Store, g.eventID, g.e.cfg.RequestTimeout
	g.Go(func() {
		c, cancel := context.WithTimeout(context.Background(), timeout)
		rows, err := store.PendingPayments(c, id)
		cancel()
		root.Send(self, &pendingFound{stamp: st, rows: rows, err: err})
	})
}

// onPendingFound settles each pending payment no run of this activation
// is settling (see the comment at the top of this file).
func (g *grain) onPendingFound(ctx actor.Context, msg *pendingFound) {
	g.reconciling = false
	if g.m == nil || g.broken {
		return
	}
	if msg.err != nil {
		g.log.Warn("listing pending payments failed; reconciliation retries at the next interval", "event", g.eventID, "err", msg.err)
		return
	}
	now := g.e.cfg.Now()
	_, canLookup := g.e.deps.Payments.(boxoffice.PaymentLookup)
	for _, row := range msg.rows {
		booking := row.BookingID
		h, live := g.m.HoldInfo(booking)
		if p := g.payments[booking]; p != nil {
			// A run of ours settles it; one waiting for the buyer past the
			// hold's (moved) expiry is told to ask the provider now.
			if p.run != nil && p.action != nil && (!live || !now.Before(h.ExpiresAt)) {
				p.run.poke()
			}
			continue
		}
		switch {
		case live && h.Pinned:
			g.log.Info("reconciling a pending payment", "event", g.eventID, "booking", booking, "hold", "pinned")
			p := &payment{booking: booking, owner: h.Owner, amount: g.total(h), bound: h.ExpiresAt}
			g.payments[booking] = p
			g.startPayment(ctx, p, true)
		case live && canLookup:
			r, err := g.m.PinForPayment(booking, h.Owner, now)
			if err == nil {
				g.log.Info("reconciling a pending payment", "event", g.eventID, "booking", booking, "hold", "pinned now")
				p := &payment{booking: booking, owner: h.Owner, amount: g.total(h), bound: h.ExpiresAt}
				g.payments[booking] = p
				g.stage(r, nil, nil)
				g.after(ctx, func(ctx actor.Context, err error) {
					if err != nil {
						delete(g.payments, booking)
						return
					}
					g.startPayment(ctx, p, true)
				})
				g.flush(ctx)
				continue
			}
			// Past its expiry: the hold ends at the next tick; the money
			// must not stay taken.
			fallthrough
		default:
			g.log.Warn("reconciling a pending payment whose seats are gone: voiding it", "event", g.eventID, "booking", booking)
			p := &payment{booking: booking, orphan: true}
			g.payments[booking] = p
			g.startPayment(ctx, p, true)
		}
	}
}

// orphanDone ends a void run of a payment whose seats were gone: nothing
// is sold or unpinned, and nobody waits for it.
func (g *grain) orphanDone(ctx actor.Context, p *payment, msg *paymentDone) {
	switch msg.outcome {
	case payFenced:
		g.log.Warn("payment claimed by a newer owner of the event; stopping", "event", g.eventID, "booking", msg.booking)
		g.fail(ctx, msg.err)
		return
	case payVoided:
		g.log.Info("voided the pending payment of a booking without seats", "event", g.eventID, "booking", msg.booking)
	default:
		g.log.Warn("the pending payment of a booking without seats is not settled yet; retried at the next reconciliation",
			"event", g.eventID, "booking", msg.booking, "err", msg.err)
	}
	delete(g.payments, p.booking)
}

// poke tells a run waiting for the buyer's action to ask the provider now
// (reconciliation found the hold at or past its bound).
func (r *payRun) poke() {
	select {
	case r.due <- struct{}{}:
	default:
	}
}

// voidOrphan settles a pending payment whose seats are gone: whatever its key
// charged is voided (refunded or cancelled) and the row closed as voided.
// A row that is not pending any more was settled meanwhile: nothing to do.
func (r *payRun) voidOrphan(row boxoffice.Payment) *paymentDone {
	if row.Status != boxoffice.PaymentPending {
		return &paymentDone{booking: row.BookingID, outcome: payNone}
	}
	return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed, "the booking's seats were released; the payment was voided"))
}

// lookup settles a pending row by asking the provider how its attempt
// stands, without charging: a charge of this booking is recorded (and
// sold), no charge is voided (so that a confirm of the attempt still in
// flight somewhere takes nothing) and unpinned, an action still awaited
// waits until the bound. When the provider cannot tell, the attempt is
// charged again with its own key and card, as before.
func (r *payRun) lookup(l boxoffice.PaymentLookup, row boxoffice.Payment) *paymentDone {
	req := boxoffice.PaymentRequest{BookingID: row.BookingID, EventID: row.EventID, IdempotencyKey: row.Key,
		Amount: row.Amount, Currency: row.Currency, Method: row.Method, Token: row.Token}
	c, cancel := context.WithTimeout(r.pay.ctx, r.cfg.PaymentTimeout)
	res, err := l.Lookup(c, boxoffice.VoidRequest{BookingID: row.BookingID, EventID: row.EventID,
		IdempotencyKey: row.Key, Amount: row.Amount, Currency: row.Currency})
	cancel()
	var action *boxoffice.PaymentActionRequired
	switch {
	case err == nil && res.Matches(req):
		return r.finish(row.BookingID, row.Epoch, boxoffice.PaymentSucceeded, res.ChargeID, &paymentDone{
			booking: row.BookingID, outcome: payPaid, chargeID: res.ChargeID})
	case err == nil:
		r.cfg.Logger.Error("the payment provider answered about another booking or amount; voiding",
			"booking", row.BookingID, "asked", req.Amount, "answer_booking", res.BookingID, "answer_amount", res.Amount)
		return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed,
			"the payment provider's answer did not match this booking; nothing was charged"))
	case errors.As(err, &action):
		return r.await(row, req, action)
	case boxoffice.ErrorCode(err) == boxoffice.EPaymentFailed:
		return r.void(row, err)
	}
	r.cfg.Logger.Warn("the payment provider could not say how a pending payment stands; asking again with its key",
		"booking", row.BookingID, "err", err)
	return r.charge(row)
}
