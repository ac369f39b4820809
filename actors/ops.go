package actors

import (
	"context"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

var failReply = &grainpb.BookingReply{Error: &grainpb.Error{Code: boxoffice.EUnavailable,
	Message: "the booking could not be made durable; nothing changed; retry shortly"}}

// reserve holds seats all-or-nothing; the reply waits for the hold's commit
// (I2). A retried reserve of a live hold with the same seats gets the same
// booking back instead of an error; a keyed one (Idempotency-Key) whose
// hold was made, live or ended, is answered as replayed (idempotency.go).
func (g *grain) reserve(ctx actor.Context, msg *grainpb.Reserve) {
	if g.refuse(ctx) {
		return
	}
	owner, booking := id(msg.UserId), id(msg.BookingId)
	tickets := make([]uuid.UUID, 0, len(msg.TicketIds))
	for _, t := range msg.TicketIds {
		tickets = append(tickets, id(t))
	}
	if g.answerKeyed(ctx, msg, booking) {
		return
	}
	wants := standingWants(msg)
	best := bestWant(msg)
	if info, ok := g.m.HoldInfo(booking); ok && info.Owner == owner && (sameHold(g.m, info.Seats, tickets, wants) ||
		best != nil && len(info.Seats) == best.Quantity) {
		b := g.bookingRow(info, boxoffice.BookingInProgress)
		g.wait(ctx, &grainpb.BookingReply{Booking: bookingToPB(*b)}, failReply)
		return
	}
	if err := g.checkOnSale(); err != nil {
		g.outcome("reserve", boxoffice.ErrorCode(err), len(tickets))
		ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
		return
	}
	now := g.e.cfg.Now()
	if best != nil {
		// The grain picks the seats inside this serialised reserve, then
		// prices and holds them as if the buyer had named them.
		picked, err := g.m.BestTickets(owner, booking, *best)
		if err != nil {
			g.outcome("reserve", boxoffice.ErrorCode(err), best.Quantity)
			ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
			return
		}
		tickets = picked
	}
	pr, err := g.priced(msg, tickets, wants, now)
	if err != nil {
		g.outcome("reserve", boxoffice.ErrorCode(err), len(tickets))
		ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
		return
	}
	r, err := g.m.ReservePriced(owner, booking, tickets, wants, pr, now, g.e.cfg.HoldTTL)
	if err != nil {
		g.outcome("reserve", boxoffice.ErrorCode(err), len(tickets))
		ctx.Respond(&grainpb.BookingReply{Error: grainpb.ErrorOf(err)})
		return
	}
	g.outcome("reserve", "ok", len(r.Seats))
	if msg.Keyed {
		g.rememberKeyed(booking, msg.KeyCreatedAt)
	}
	b := g.bookingRow(holdInfo(r), boxoffice.BookingInProgress)
	// The hold's creation is its expiry less the TTL, to the microsecond:
	// exactly what a catch-up after a crash rebuilds from the journal
	// (recordRow), so the booking reads the same before and after.
	b.CreatedAt = b.ExpiresAt.Add(-g.e.cfg.HoldTTL)
	g.stageRow(r, b, nil, msg.Keyed)
	g.wait(ctx, &grainpb.BookingReply{Booking: bookingToPB(*b)}, failReply)
	g.flush(ctx)
}

// release cancels an in-progress hold at its owner's request.
func (g *grain) release(ctx actor.Context, msg *grainpb.Release) {
	if g.refuse(ctx) {
		return
	}
	owner, booking := id(msg.UserId), id(msg.BookingId)
	r, err := g.m.Release(booking, owner)
	if err != nil {
		g.outcome("release", boxoffice.ErrorCode(err), 0)
		g.refuseHold(ctx, err)
		return
	}
	g.outcome("release", "ok", len(r.Seats))
	b := g.bookingRow(holdInfo(r), boxoffice.BookingCancelled)
	g.stage(r, b, nil)
	g.wait(ctx, &grainpb.BookingReply{Booking: bookingToPB(*b)}, failReply)
	g.flush(ctx)
}

// refuseHold answers a release or confirm the seat map refused. "No live
// hold" is a fact about state that may not be durable yet: a release or
// expiry of that hold may sit in the open or in-flight group. The engine
// explains a missing hold from the booking's stored row (booking_state,
// hold_expired), so that answer waits, as reads do, until the newest group
// is durable and the row shows how the hold ended.
func (g *grain) refuseHold(ctx actor.Context, err error) {
	reply := &grainpb.BookingReply{Error: grainpb.ErrorOf(err)}
	if boxoffice.ErrorCode(err) == boxoffice.ENotFound {
		g.wait(ctx, reply, failReply)
		return
	}
	ctx.Respond(reply)
}

// getSeats answers every seat's status at the current version, once that
// version is durable.
func (g *grain) getSeats(ctx actor.Context) {
	if g.refuse(ctx) {
		return
	}
	st := make([]byte, g.m.Len())
	for i := range st {
		st[i] = byte(g.m.Status(i))
	}
	g.wait(ctx, &grainpb.SeatsReply{Version: g.m.Version(), Statuses: st},
		&grainpb.SeatsReply{Error: failReply.Error})
}

// holdInfo rebuilds what a record says about its hold.
func holdInfo(r seatmap.Record) seatmap.HoldInfo {
	info := seatmap.HoldInfo{Booking: r.Booking, Owner: r.Owner, Seats: r.Seats, Types: r.Types, Promo: r.Promo}
	if r.ExpiresAt != 0 {
		info.ExpiresAt = time.Unix(0, r.ExpiresAt).UTC()
	}
	return info
}

// bookingRow is the bookings-table row a record leads to.
func (g *grain) bookingRow(info seatmap.HoldInfo, status boxoffice.BookingStatus) *boxoffice.Booking {
	// PostgreSQL keeps microseconds; replies carry what a later read returns.
	now := g.e.cfg.Now().UTC().Truncate(time.Microsecond)
	total, lines, types := g.quote(info)
	b := &boxoffice.Booking{
		ID: info.Booking, UserID: info.Owner, EventID: g.eventID, Status: status,
		Total: total, Currency: g.currency, ExpiresAt: info.ExpiresAt.Truncate(time.Microsecond), UpdatedAt: now,
		TicketTypes: types, PriceLines: lines, PromoCode: info.Promo,
	}
	for _, s := range info.Seats {
		b.TicketIDs = append(b.TicketIDs, g.m.TicketID(int(s)))
	}
	if status == boxoffice.BookingConfirmed {
		b.ConfirmedAt = now
	}
	return b
}

// standingWants is the reserve's standing places asked for.
func standingWants(msg *grainpb.Reserve) []seatmap.Want {
	if len(msg.Standing) == 0 {
		return nil
	}
	out := make([]seatmap.Want, len(msg.Standing))
	for k, w := range msg.Standing {
		out[k] = seatmap.Want{Section: w.Section, Quantity: int(w.Quantity)}
	}
	return out
}

// bestWant is the reserve's best-available request, if it is one
// (h19access): a retried one whose booking holds as many seats is answered
// with that hold, whichever seats were picked.
func bestWant(msg *grainpb.Reserve) *seatmap.BestWant {
	b := msg.BestAvailable
	if b == nil {
		return nil
	}
	return &seatmap.BestWant{Section: b.Section, Quantity: int(b.Quantity), Accessible: b.Accessible}
}

// sameHold reports whether a live hold's seats are what a retried reserve
// asks for: the same tickets, and as many places of each standing area
// (the grain picked which).
func sameHold(m *seatmap.Map, seats []int32, tickets []uuid.UUID, wants []seatmap.Want) bool {
	if len(wants) == 0 {
		return sameSeats(m, seats, tickets)
	}
	counts := m.StandingCount(seats)
	areas := m.Areas()
	placed := 0
	for k, a := range areas {
		want := 0
		for _, w := range wants {
			if w.Section == a.Name {
				want = w.Quantity
			}
		}
		if counts[k] != want {
			return false
		}
		placed += want
	}
	rest := make([]int32, 0, len(seats))
	for _, s := range seats {
		if !slices.ContainsFunc(areas, func(a seatmap.Area) bool { return int(s) >= a.First && int(s) < a.First+a.Capacity }) {
			rest = append(rest, s)
		}
	}
	return placed+len(rest) == len(seats) && sameSeats(m, rest, tickets)
}

func sameSeats(m *seatmap.Map, seats []int32, tickets []uuid.UUID) bool {
	if len(seats) != len(tickets) {
		return false
	}
	want := make([]int32, 0, len(tickets))
	for _, t := range tickets {
		i, ok := m.Index(t)
		if !ok {
			return false
		}
		want = append(want, int32(i))
	}
	have := slices.Clone(seats)
	slices.Sort(have)
	slices.Sort(want)
	return slices.Equal(have, want)
}

// maybeSnapshot writes a snapshot every SnapshotEvery records. The state is
// taken now and saved by a goroutine once every record in it is durable.
func (g *grain) maybeSnapshot(ctx actor.Context) {
	if g.sinceSnap < g.e.cfg.SnapshotEvery {
		return
	}
	g.sinceSnap = 0
	state, err := g.m.MarshalBinary()
	if err != nil {
		g.log.Error("snapshot encode failed", "event", g.eventID, "err", err)
		return
	}
	version, epoch, eventID := g.m.Version(), g.epoch, g.eventID
	store, timeout := g.e.deps.Store, g.e.cfg.RequestTimeout
	g.after(ctx, func(ctx actor.Context, err error) {
		if err != nil {
			return
		}
		self, root, st := ctx.Self(), ctx.ActorSystem().Root, g.stamp()
		g.Go(func() {
			c, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := store.SaveSnapshot(c, eventID, epoch, version, state)
			root.Send(self, snapshotSaved{stamp: st, version: version, err: err})
		})
	})
}

func (g *grain) onSnapshotSaved(msg snapshotSaved) {
	if msg.err != nil {
		g.log.Warn("snapshot save failed", "event", g.eventID, "version", msg.version, "err", msg.err)
		return
	}
	if msg.version > g.lastSnapshot {
		g.lastSnapshot = msg.version
	}
}

// publish sends one delta per committed version, in order (I5).
func (g *grain) publish(ctx context.Context, records []seatmap.Record) {
	if g.e.deps.Publisher == nil {
		return
	}
	for _, r := range records {
		if err := publishSeats(ctx, g.e.deps.Publisher, seatDelta(g.m, g.eventID, r)); err != nil {
			g.log.Warn("publish delta failed", "event", g.eventID, "version", r.Version, "err", err)
		}
	}
}
