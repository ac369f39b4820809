package actors

import (
	"context"
	"errors"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/persistence"
)

// payment is a confirm whose charge is in flight; later confirms of the
// same booking wait for its outcome instead of charging again (I6).
type payment struct {
	booking uuid.UUID
	owner   uuid.UUID
	key     string
	method  string
	token   string
	amount  boxoffice.Money
	waiters []*actor.PID
}

func (p *payment) reply(ctx actor.Context, msg proto.Message) {
	for _, w := range p.waiters {
		if w != nil {
			ctx.Send(w, msg)
		}
	}
	p.waiters = nil
}

// paymentDone is the outcome of a charge, sent by the payment goroutine.
type paymentDone struct {
	booking  uuid.UUID
	chargeID string
	err      error
}

func (*paymentDone) NotInfluenceReceiveTimeout() {}

// confirm pins the hold so it cannot expire under the payment, and once
// the pin is durable charges the provider outside the mailbox.
func (g *grain) confirm(ctx actor.Context, msg *grainpb.Confirm) {
	if g.refuse(ctx) {
		return
	}
	owner, booking := id(msg.UserId), id(msg.BookingId)
	if p, ok := g.payments[booking]; ok {
		if p.owner != owner {
			ctx.Respond(&grainpb.BookingReply{Error: toPB(boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user"))})
			return
		}
		p.waiters = append(p.waiters, ctx.Sender())
		return
	}
	r, err := g.m.PinForPayment(booking, owner, g.e.cfg.Now())
	if err != nil {
		g.outcome("confirm", boxoffice.ErrorCode(err), 0)
		g.refuseHold(ctx, err)
		return
	}
	key := msg.IdempotencyKey
	if key == "" {
		key = booking.String() + ":" + msg.Token
	}
	p := &payment{booking: booking, owner: owner, key: key, method: msg.Method, token: msg.Token,
		amount: g.price(r.Seats), waiters: []*actor.PID{ctx.Sender()}}
	g.payments[booking] = p
	g.stage(r, nil, nil)
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			p.reply(ctx, failReply)
			delete(g.payments, booking)
			return
		}
		g.charge(ctx, p)
	})
	g.flush(ctx)
}

// charge runs the payment on a goroutine the grain owns: the payments row
// makes a booking's charge happen at most once, across retries and
// restarts, and the provider's idempotency key covers a crash mid-call.
func (g *grain) charge(ctx actor.Context, p *payment) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	store, provider, timeout := g.e.deps.Store, g.e.deps.Payments, g.e.cfg.PaymentTimeout
	currency := g.currency
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		c, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		chargeID, err := runPayment(c, store, provider, p, currency)
		root.Send(self, &paymentDone{booking: p.booking, chargeID: chargeID, err: err})
	}()
}

func runPayment(ctx context.Context, store Store, provider boxoffice.PaymentProvider, p *payment, currency string) (string, error) {
	row, err := store.BeginPayment(ctx, p.booking, p.key, p.amount, currency)
	if err != nil {
		return "", err
	}
	if row.Status == persistence.PaymentDeclined {
		if row, err = store.RetryPayment(ctx, p.booking, p.key); err != nil {
			return "", err
		}
	}
	if row.Status == persistence.PaymentSucceeded {
		return row.ChargeID, nil
	}
	// The row's key, not the caller's: when an earlier attempt's outcome is
	// unknown (a crash mid-call), the provider must be asked with its key.
	key := row.Key
	res, err := provider.Charge(ctx, boxoffice.PaymentRequest{BookingID: p.booking, IdempotencyKey: key,
		Amount: p.amount, Currency: currency, Method: p.method, Token: p.token})
	if err != nil {
		if errors.Is(err, boxoffice.ErrPaymentFailed) {
			if ferr := store.FinishPayment(ctx, p.booking, persistence.PaymentDeclined, ""); ferr != nil {
				return "", ferr
			}
		}
		return "", err
	}
	if err := store.FinishPayment(ctx, p.booking, persistence.PaymentSucceeded, res.ChargeID); err != nil {
		return "", err
	}
	return res.ChargeID, nil
}

// onPaymentDone sells the seats after a successful charge, or unpins the
// hold after a decline (API.md: the booking stays in-progress until the
// hold expires).
func (g *grain) onPaymentDone(ctx actor.Context, msg *paymentDone) {
	p := g.payments[msg.booking]
	if p == nil || g.broken {
		return
	}
	var reply proto.Message
	if msg.err == nil {
		r, err := g.m.Sell(msg.booking)
		if err != nil {
			g.log.Error("sell after payment failed", "event", g.eventID, "booking", msg.booking, "err", err)
			p.reply(ctx, &grainpb.BookingReply{Error: toPB(err)})
			delete(g.payments, msg.booking)
			return
		}
		b := g.bookingRow(holdInfo(r), boxoffice.BookingConfirmed)
		g.stage(r, b, &persistence.Sale{BookingID: msg.booking, TicketIDs: b.TicketIDs})
		reply = &grainpb.BookingReply{Booking: bookingToPB(*b)}
		g.outcome("confirm", "ok", len(r.Seats))
	} else {
		r, err := g.m.Unpin(msg.booking)
		if err == nil {
			g.stage(r, nil, nil)
		}
		code := boxoffice.ErrorCode(msg.err)
		if code != boxoffice.EPaymentFailed {
			msg.err = boxoffice.Errorf(boxoffice.EUnavailable, "the payment provider could not be reached; retry with the same Idempotency-Key")
		}
		reply = &grainpb.BookingReply{Error: toPB(msg.err)}
		g.outcome("confirm", boxoffice.ErrorCode(msg.err), 0)
	}
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			p.reply(ctx, failReply)
		} else {
			p.reply(ctx, reply)
		}
		delete(g.payments, msg.booking)
	})
	g.flush(ctx)
}

// settleInterrupted finishes payments a crash cut off: a hold pinned in the
// journal is sold if its payment row says the charge succeeded, and
// unpinned otherwise (the buyer may confirm again; the payments row keeps
// the earlier key, so a charge whose outcome was unknown is not repeated).
func (g *grain) settleInterrupted(ctx actor.Context) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	store, timeout := g.e.deps.Store, g.e.cfg.RequestTimeout
	for _, h := range g.m.PinnedHolds() {
		p := &payment{booking: h.Booking, owner: h.Owner, amount: g.price(h.Seats)}
		g.payments[h.Booking] = p
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			c, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			done := &paymentDone{booking: p.booking}
			row, err := store.Payment(c, p.booking)
			switch {
			case err == nil && row.Status == persistence.PaymentSucceeded:
				done.chargeID = row.ChargeID
			case err == nil:
				done.err = boxoffice.Errorf(boxoffice.EUnavailable, "the payment was interrupted; confirm again")
			default:
				done.err = err
			}
			root.Send(self, done)
		}()
	}
}
