package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// Idempotency-Key on reserve (API.md, Additions version 2) is decided in
// two places, each owning what it can serialise:
//
//  1. PostgreSQL owns the key. Engine.Reserve claims (user, key) in
//     reserve_idempotency before any grain is asked: the first claim fixes
//     the request's fingerprint (its body as parsed JSON) and a booking ID.
//     Every later use of the key within the window, from any node, reads
//     the same row: another fingerprint is idempotency_conflict, the same
//     one goes to the event's grain with the claimed booking ID. The key
//     thus never depends on which node or grain activation answers.
//  2. The event's grain owns the hold. It serialises every reserve of the
//     event, so for the claimed booking ID it decides exactly once: an ID
//     in the keyed set (held before; the hold live, in flight, expired,
//     released or sold) is answered "replayed" once the newest group is
//     durable (so a retry while the first is in flight waits for the same
//     commit), and the engine rebuilds the first 201 from the booking's
//     row; any other ID is decided now, as a first request is.
//
// The keyed set (grain.keyed) is durable without a record of its own: a
// keyed hold's booking row commits in the transaction of its journal
// record, so "the claim's booking exists" is exactly "that hold was made",
// and activation rebuilds the set from PostgreSQL (Store.ClaimedHolds)
// after taking ownership; only the grain of the current epoch can add to
// it. An error is never recorded: the claim stays, and a retry with the
// same body is decided afresh with the same booking ID (a different body
// with that key stays idempotency_conflict for the window).
//
// Both sides forget after boxoffice.IdempotencyWindow, counted from the
// claim: a claim older than that is replaced by the next use of the key
// (with a new booking ID), the grain drops it from the keyed set, and a
// keyed reserve whose claim ran out on its way is refused as unavailable
// (its retry claims afresh), so a booking ID is never held twice.

// keyedHold is one entry of the grain's keyed set, in claim order.
type keyedHold struct {
	booking   uuid.UUID
	claimedAt int64 // Unix ns of the claim
}

// keepKeyed rebuilds the keyed set at activation from the claims it read
// (EventStore.ClaimedHolds).
func (g *grain) keepKeyed(claims []boxoffice.ReserveClaim) {
	g.keyed = make(map[uuid.UUID]int64, len(claims))
	g.keyedOrder = g.keyedOrder[:0]
	for _, c := range claims {
		g.rememberKeyed(c.BookingID, c.CreatedAt.UnixNano())
	}
}

// rememberKeyed records that a keyed reserve held booking.
func (g *grain) rememberKeyed(booking uuid.UUID, claimedAt int64) {
	if g.keyed == nil {
		g.keyed = map[uuid.UUID]int64{}
	}
	if _, ok := g.keyed[booking]; ok {
		return
	}
	g.keyed[booking] = claimedAt
	g.keyedOrder = append(g.keyedOrder, keyedHold{booking: booking, claimedAt: claimedAt})
}

// pruneKeyed forgets the keyed holds whose claim is out of the window.
// Claims arrive nearly in order; one that arrived late is kept a little
// longer than needed, never shorter.
func (g *grain) pruneKeyed(now time.Time) {
	cut := now.Add(-boxoffice.IdempotencyWindow).UnixNano()
	n := 0
	for n < len(g.keyedOrder) && g.keyedOrder[n].claimedAt <= cut {
		delete(g.keyed, g.keyedOrder[n].booking)
		n++
	}
	if n > 0 {
		g.keyedOrder = append(g.keyedOrder[:0], g.keyedOrder[n:]...)
	}
}

// answerKeyed answers a keyed reserve that must not be decided as a new
// hold, and reports whether it did: one whose claim ran out on its way
// (refused, retry claims afresh), or one whose hold was made (replayed).
func (g *grain) answerKeyed(ctx actor.Context, msg *grainpb.Reserve, booking uuid.UUID) bool {
	if !msg.Keyed {
		return false
	}
	if g.e.cfg.Now().Add(-boxoffice.IdempotencyWindow).UnixNano() >= msg.KeyCreatedAt {
		ctx.Respond(&grainpb.BookingReply{Error: &grainpb.Error{Code: boxoffice.EUnavailable,
			Message: "the Idempotency-Key ran out while the request was on its way; retry"}})
		return true
	}
	if _, held := g.keyed[booking]; !held {
		return false
	}
	// Live or ended, the first reply is rebuilt from the booking's row
	// (the hold's own reply cannot be: the seat map keeps no creation
	// time). The row exists once the hold's commit is durable, which
	// waiting for the newest group guarantees; a repeat of a hold still in
	// flight thus waits for the same commit as the first request.
	g.outcome("reserve", "replayed", 0)
	g.wait(ctx, &grainpb.BookingReply{Booking: &grainpb.Booking{Id: booking[:]}, Replayed: true}, failReply)
	return true
}

// keyedReserve is Reserve with an Idempotency-Key: claim the key, then let
// the grain decide the claimed booking ID (see the comment at the top).
// Errors: idempotency_conflict (the key belongs to another body), and
// those of Reserve.
func (e *Engine) keyedReserve(ctx context.Context, req boxoffice.ReserveRequest, msg *grainpb.Reserve) (boxoffice.Booking, error) {
	if len(req.Fingerprint) == 0 {
		return boxoffice.Booking{}, boxoffice.InvalidField("Idempotency-Key", "a keyed reserve needs the request's fingerprint")
	}
	now := e.cfg.Now()
	claim, err := e.deps.Store.ClaimReserve(ctx, boxoffice.ReserveClaim{
		UserID: req.UserID, Key: req.IdempotencyKey, Fingerprint: req.Fingerprint,
		EventID: req.EventID, BookingID: req.BookingID, CreatedAt: now,
	}, now.Add(-boxoffice.IdempotencyWindow))
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if !bytes.Equal(claim.Fingerprint, req.Fingerprint) || claim.EventID != req.EventID {
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EIdempotencyConflict,
			"this Idempotency-Key was already used for a different request")
	}
	msg.BookingId, msg.Keyed, msg.KeyCreatedAt = claim.BookingID[:], true, claim.CreatedAt.UnixNano()
	r, err := cluster.Call[*grainpb.BookingReply](ctx, e.grains, req.EventID.String(), msg)
	switch {
	case err != nil:
		return boxoffice.Booking{}, err
	case r.Error != nil:
		return boxoffice.Booking{}, r.Error.Err()
	case r.Replayed:
		return e.firstReply(ctx, claim)
	}
	return bookingFromPB(r.Booking), nil
}

// ReplayReserve answers a keyed reserve whose hold was already made
// durable, without asking the grain: the first reply, rebuilt from the
// booking's row. It reports false when the request is not such a repeat
// (no claim, a claim out of its window, or a hold not made or not yet
// durable); Reserve then decides it. The API asks it before the checks
// that gate new holds (the waiting room's admission), which a repeat of a
// hold already made must not fail.
// Errors: idempotency_conflict (the key belongs to another body),
// unavailable.
func (e *Engine) ReplayReserve(ctx context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, bool, error) {
	if req.IdempotencyKey == "" {
		return boxoffice.Booking{}, false, nil
	}
	claim, err := e.deps.Store.ReserveClaim(ctx, req.UserID, req.IdempotencyKey)
	switch {
	case errors.Is(err, boxoffice.ErrNotFound):
		return boxoffice.Booking{}, false, nil
	case err != nil:
		return boxoffice.Booking{}, false, err
	case !claim.CreatedAt.After(e.cfg.Now().Add(-boxoffice.IdempotencyWindow)):
		return boxoffice.Booking{}, false, nil
	case !bytes.Equal(claim.Fingerprint, req.Fingerprint) || claim.EventID != req.EventID:
		return boxoffice.Booking{}, false, boxoffice.Errorf(boxoffice.EIdempotencyConflict,
			"this Idempotency-Key was already used for a different request")
	}
	b, err := e.firstReply(ctx, claim)
	switch {
	case errors.Is(err, boxoffice.ErrNotFound):
		return boxoffice.Booking{}, false, nil
	case err != nil:
		return boxoffice.Booking{}, false, err
	}
	return b, true, nil
}

// firstReply rebuilds the 201 a keyed reserve gave when it held the
// booking, from the booking's row (which keeps the hold's creation, expiry,
// seats and price whatever happened to the booking since).
func (e *Engine) firstReply(ctx context.Context, claim boxoffice.ReserveClaim) (boxoffice.Booking, error) {
	b, err := e.Booking(ctx, claim.BookingID)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if b.UserID != claim.UserID {
		return boxoffice.Booking{}, fmt.Errorf("booking %s of claim by %s belongs to %s", b.ID, claim.UserID, b.UserID)
	}
	b.Status, b.ConfirmedAt, b.UpdatedAt = boxoffice.BookingInProgress, time.Time{}, b.CreatedAt
	return b, nil
}

// pruneClaimsEvery is how often RunSweeper deletes claims out of the window.
const pruneClaimsEvery = time.Minute

// pruneClaims deletes claims out of the window, in batches.
func (e *Engine) pruneClaims(ctx context.Context) {
	before := e.cfg.Now().Add(-boxoffice.IdempotencyWindow)
	for {
		n, err := e.deps.Store.PruneReserveClaims(ctx, before, 10_000)
		if err != nil {
			e.cfg.Logger.Debug("pruning idempotency keys failed", "err", err)
			return
		}
		if n < 10_000 {
			return
		}
	}
}
