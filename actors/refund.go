package actors

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

// Refunds (API.md "Payments, refunds, cancellation"). The order makes a
// crash harmless at every point:
//
//  1. Engine.Refund records the refund as owed (RefundStore.RequestRefund);
//  2. the grain's refund run gives the money back through the provider,
//     under the charge's own key, retrying until the provider confirms
//     (a refund of a refunded charge is nil, so a retry never pays twice);
//  3. the grain journals a SeatsRefunded record; the same commit deletes
//     the booking's sold_seats rows, sets it refunded and marks the refund
//     done. Only then are the seats on sale again.
//
// A crash before 3 leaves the refund owed and the seats sold: the event's
// next activation (woken by the sweeper, which lists events with owed
// refunds) resumes at 2. No seat goes back on sale while its money is
// still taken without a record that the refund is owed.

// refundHook, when set, is called by a refund run after the provider
// confirmed the refund and before the grain journals it (SetRefundHook).
var refundHook atomic.Pointer[func(booking uuid.UUID) error]

// refund is a booking's refund in flight in its grain.
type refund struct {
	waiters []*actor.PID
}

// refundDone is a refund run's report: the booking as stored, and nil
// once no money of it stays taken.
type refundDone struct {
	stamp
	booking uuid.UUID
	b       boxoffice.Booking
	err     error
}

// refundsOwed lists the refunds an activation found owed.
type refundsOwed struct {
	stamp
	ids []uuid.UUID
	err error
}

// Refund implements boxoffice.BookingRefunder: b is the booking as the
// caller read it. The reply waits until the refund is durable; when the
// provider is slow the call ends unavailable, and the refund, already
// owed, completes anyway (a later call answers refunded).
func (e *Engine) Refund(ctx context.Context, b boxoffice.Booking, reason boxoffice.RefundReason) (boxoffice.Booking, error) {
	switch b.Status {
	case boxoffice.BookingRefunded:
		return b, nil
	case boxoffice.BookingConfirmed:
	default:
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EBookingState, "only a confirmed booking can be refunded; this one is %s", b.Status)
	}
	rs, ok := e.deps.Store.(boxoffice.RefundStore)
	if !ok {
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EUnavailable, "refunds are not supported by this store")
	}
	if err := rs.RequestRefund(ctx, b.ID, b.EventID, reason); err != nil {
		return boxoffice.Booking{}, err
	}
	done, err := e.bookingCall(ctx, b.EventID, &grainpb.RefundBooking{BookingId: b.ID[:]})
	if err != nil {
		return boxoffice.Booking{}, err
	}
	b.Status, b.UpdatedAt = done.Status, done.UpdatedAt
	return b, nil
}

// refundBooking starts (or joins) the booking's refund run.
func (g *grain) refundBooking(ctx actor.Context, msg *grainpb.RefundBooking) {
	if g.refuse(ctx) {
		return
	}
	g.startRefund(ctx, id(msg.BookingId), ctx.Sender())
}

func (g *grain) startRefund(ctx actor.Context, booking uuid.UUID, waiter *actor.PID) {
	if g.refunds == nil {
		g.refunds = map[uuid.UUID]*refund{}
	}
	if r, ok := g.refunds[booking]; ok {
		if waiter != nil {
			r.waiters = append(r.waiters, waiter)
		}
		return
	}
	r := &refund{}
	if waiter != nil {
		r.waiters = append(r.waiters, waiter)
	}
	g.refunds[booking] = r
	if g.payStop == nil {
		g.payStop = make(chan struct{})
	}
	self, root, st, stop := ctx.Self(), ctx.ActorSystem().Root, g.stamp(), g.payStop
	g.e.pay.wg.Add(1)
	g.Go(func() {
		defer g.e.pay.wg.Done()
		b, err := g.e.refundMoney(stop, g.eventID, booking)
		if err == nil {
			if h := refundHook.Load(); h != nil {
				err = (*h)(booking)
			}
		}
		root.Send(self, &refundDone{stamp: st, booking: booking, b: b, err: err})
	})
}

func (r *refund) reply(ctx actor.Context, msg *grainpb.BookingReply) {
	for _, w := range r.waiters {
		if w != nil {
			ctx.Send(w, msg)
		}
	}
	r.waiters = nil
}

// onRefundDone journals the refund whose money went back: a SeatsRefunded
// record puts the seats back on sale, and the same commit ends the sale in
// PostgreSQL. The callers are answered once it is durable.
func (g *grain) onRefundDone(ctx actor.Context, msg *refundDone) {
	r := g.refunds[msg.booking]
	if r == nil || g.broken {
		return
	}
	if msg.err != nil {
		g.log.Warn("refund not finished; it stays owed and the next activation resumes it",
			"event", g.eventID, "booking", msg.booking, "err", msg.err)
		r.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(msg.err)})
		delete(g.refunds, msg.booking)
		return
	}
	b := msg.b
	if b.Status == boxoffice.BookingRefunded {
		r.reply(ctx, &grainpb.BookingReply{Booking: bookingToPB(b)})
		delete(g.refunds, msg.booking)
		return
	}
	seats := make([]int32, 0, len(b.TicketIDs))
	for _, t := range b.TicketIDs {
		if i, ok := g.m.Index(t); ok {
			seats = append(seats, int32(i))
		}
	}
	rec, err := g.m.RefundPromo(b.ID, b.UserID, seats, b.PromoCode)
	if err != nil {
		g.log.Error("a refunded booking's seats cannot be given back; the refund stays owed", "event", g.eventID,
			"booking", b.ID, "err", err)
		r.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
		delete(g.refunds, msg.booking)
		return
	}
	b.Status = boxoffice.BookingRefunded
	b.UpdatedAt = g.e.cfg.Now().UTC().Truncate(time.Microsecond)
	g.stage(rec, &b, nil)
	g.open.refunds = append(g.open.refunds, b.ID)
	g.notify(boxoffice.BookingNotice(boxoffice.NoticeBookingRefunded, b, b.UpdatedAt))
	g.outcome("refund", "ok", len(seats))
	reply := &grainpb.BookingReply{Booking: bookingToPB(b)}
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			r.reply(ctx, failReply)
		} else {
			r.reply(ctx, reply)
		}
		delete(g.refunds, msg.booking)
	})
	g.flush(ctx)
}

// resumeRefunds reads the refunds an earlier activation (or a cancellation)
// left owed and starts them.
func (g *grain) resumeRefunds(ctx actor.Context) {
	rs, ok := g.e.deps.Store.(boxoffice.RefundStore)
	if !ok {
		return
	}
	self, root, st, eventID, timeout := ctx.Self(), ctx.ActorSystem().Root, g.stamp(), g.eventID, g.e.cfg.RequestTimeout
	if g.pre != nil { // read by the batched activation
		root.Send(self, refundsOwed{stamp: st, ids: g.pre.OwedRefunds})
		return
	}
	g.Go(func() {
		c, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ids, err := rs.OwedRefunds(c, eventID)
		root.Send(self, refundsOwed{stamp: st, ids: ids, err: err})
	})
}

func (g *grain) onRefundsOwed(ctx actor.Context, msg refundsOwed) {
	if msg.err != nil {
		g.log.Warn("owed refunds could not be listed; the sweeper wakes the event again", "event", g.eventID, "err", msg.err)
		return
	}
	if g.m == nil || g.broken {
		return
	}
	for _, b := range msg.ids {
		g.startRefund(ctx, b, nil)
	}
}

// abandonRefunds answers the callers of refunds in flight when the grain
// fails; the refunds stay owed.
func (g *grain) abandonRefunds(ctx actor.Context) {
	for _, r := range g.refunds {
		r.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(errAbandoned)})
	}
	g.refunds = nil
}

// refundMoney gives the booking's money back through the provider,
// retrying until it confirms or the grain stops. It returns the booking as
// stored: a refunded one needs nothing more, a confirmed one has no money
// taken any longer (refunded now, or nothing was charged).
func (e *Engine) refundMoney(stop <-chan struct{}, eventID, booking uuid.UUID) (boxoffice.Booking, error) {
	rs := e.deps.Store.(boxoffice.RefundStore)
	for try := 0; ; try++ {
		b, err := e.refundOnce(rs, eventID, booking)
		if err == nil || boxoffice.ErrorCode(err) == boxoffice.EBookingState || boxoffice.ErrorCode(err) == boxoffice.ENotFound {
			return b, err
		}
		e.cfg.Logger.Warn("refund failed; retrying", "event", eventID, "booking", booking, "try", try+1, "err", err)
		d := e.cfg.PaymentBackoff << min(try, 16)
		if d <= 0 || d > e.cfg.PaymentTimeout {
			d = e.cfg.PaymentTimeout
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return boxoffice.Booking{}, errRefundInterrupted
		case <-e.pay.stopping:
			t.Stop()
			return boxoffice.Booking{}, errRefundInterrupted
		}
	}
}

var errRefundInterrupted = boxoffice.Errorf(boxoffice.EUnavailable,
	"the refund is recorded and will be completed; ask again shortly to see it done")

func (e *Engine) refundOnce(rs boxoffice.RefundStore, eventID, booking uuid.UUID) (boxoffice.Booking, error) {
	c, cancel := context.WithTimeout(e.pay.ctx, e.cfg.RequestTimeout)
	defer cancel()
	b, err := e.deps.Store.Booking(c, booking)
	if err != nil {
		return b, err
	}
	if b.EventID != eventID {
		return b, boxoffice.Errorf(boxoffice.ENotFound, "booking %s is not of event %s", booking, eventID)
	}
	switch b.Status {
	case boxoffice.BookingRefunded:
		return b, nil
	case boxoffice.BookingConfirmed:
	default:
		return b, boxoffice.Errorf(boxoffice.EBookingState, "the booking is %s", b.Status)
	}
	p, err := rs.Payment(c, booking)
	if boxoffice.ErrorCode(err) == boxoffice.ENotFound {
		return b, nil // nothing was charged
	}
	if err != nil {
		return b, err
	}
	if p.Status != boxoffice.PaymentSucceeded || p.Amount == 0 {
		return b, nil
	}
	ref, ok := e.deps.Payments.(boxoffice.Refunder)
	if !ok {
		return b, errors.New("the payment provider cannot refund")
	}
	pc, pcancel := context.WithTimeout(e.pay.ctx, e.cfg.PaymentTimeout)
	defer pcancel()
	err = ref.Refund(pc, boxoffice.RefundRequest{BookingID: booking, EventID: eventID, Key: p.Key,
		ChargeID: p.ChargeID, Amount: p.Amount, Currency: p.Currency})
	return b, err
}

// ResumeRefunds implements boxoffice.RefundResumer: the event's grain reads
// its owed refunds and starts those not in flight.
func (e *Engine) ResumeRefunds(ctx context.Context, eventID uuid.UUID) error {
	res, err := e.request(ctx, eventID, &grainpb.ResumeRefunds{})
	if err != nil {
		return err
	}
	if a, ok := res.(*grainpb.Ack); ok && a.Error != nil {
		return a.Error.Err()
	}
	return nil
}

func (g *grain) onResumeRefunds(ctx actor.Context) {
	if g.refuse(ctx) {
		return
	}
	g.resumeRefunds(ctx)
	if ctx.Sender() != nil {
		ctx.Respond(&grainpb.Ack{})
	}
}

// refundIfCancelled owes the refund of a booking sold after its event was
// cancelled (its payment was in flight at the cancellation, which owed
// refunds only of the bookings confirmed then), once the sale is durable.
func (g *grain) refundIfCancelled(ctx actor.Context, booking uuid.UUID) {
	rs, ok := g.e.deps.Store.(boxoffice.RefundStore)
	if g.rules.CancelledAt.IsZero() || !ok {
		return
	}
	self, root, eventID, timeout := ctx.Self(), ctx.ActorSystem().Root, g.eventID, g.e.cfg.RequestTimeout
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			return
		}
		g.Go(func() {
			c, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := rs.RequestRefund(c, booking, eventID, boxoffice.RefundByCancel); err != nil {
				g.log.Error("a booking sold after its event was cancelled is not refunded yet; cancel the event again",
					"event", eventID, "booking", booking, "err", err)
				return
			}
			root.Send(self, &grainpb.ResumeRefunds{})
		})
	})
}

// SetRefundHook sets a function every refund run calls after the provider
// gave the money back and before the grain journals the refund; a non-nil
// error makes the run stop there as a crash would (the refund stays owed
// and the next activation resumes it). For tests of crash recovery in
// other packages; nil removes it.
func SetRefundHook(h func(booking uuid.UUID) error) {
	if h == nil {
		refundHook.Store(nil)
		return
	}
	refundHook.Store(&h)
}
