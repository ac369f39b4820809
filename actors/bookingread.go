package actors

import (
	"context"
	"errors"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// Booking returns a booking as the seat engine committed it, exact on every
// node of the cluster (GET /booking/{id}, and the reads of confirm, release
// and a keyed reserve's replay), also while the bookings of holds are
// written behind the journal (Config.BookingsWindow):
//
//   - A row in any state but in-progress is exact as stored: a sale, a
//     refund and a payment's failure are written in the journal's commit,
//     and a hold's end (cancelled, expired) is final.
//   - Otherwise (an in-progress row, which may lag, or no row yet) the
//     booking's event is the row's, or found from the event fingerprint
//     the booking ID carries (boxoffice.NewBookingID, events.booking_fp),
//     and the event's grain, wherever it lives, answers from its node's
//     projector: the row pending or being written, or the end of a hold
//     that ended within the window and is never written; or that nothing
//     is waiting there, so the table is exact for the booking (read again).
//
// The owner's projector holds every row of its event the table lacks: its
// grain's commits, and at activation what an earlier owner committed
// after the event's projection watermark (grain.catchUp). Random-v4 IDs
// of older bookings name no event and are read as localBooking does.
// Errors: not_found, unavailable.
func (e *Engine) Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	if !e.behind() {
		return e.localBooking(ctx, id)
	}
	stored, err := e.deps.Store.Booking(ctx, id)
	var events []uuid.UUID
	switch {
	case err == nil && stored.Status != boxoffice.BookingInProgress:
		return stored, nil
	case err == nil:
		events = []uuid.UUID{stored.EventID}
	case !errors.Is(err, boxoffice.ErrNotFound):
		return boxoffice.Booking{}, err
	default:
		fp, ok := boxoffice.EventFingerprintOf(id)
		if !ok {
			return e.localBooking(ctx, id)
		}
		if events, err = e.deps.Projection.EventsByFingerprint(ctx, fp); err != nil {
			return boxoffice.Booking{}, err
		}
	}
	for _, ev := range events {
		r, err := cluster.Call[*grainpb.BookingReply](ctx, e.grains, ev.String(), &grainpb.GetBooking{BookingId: id[:]})
		if err == nil && r.Error != nil {
			err = r.Error.Err()
		}
		switch {
		case errors.Is(err, boxoffice.ErrNotFound) && len(events) > 1:
			continue // an event that shares the fingerprint and cannot load
		case err != nil:
			return boxoffice.Booking{}, err
		case r.Booking != nil:
			return e.withCreation(ctx, bookingFromPB(r.Booking), stored)
		}
	}
	return e.deps.Store.Booking(ctx, id)
}

// withCreation gives b, a row the projector holds, its creation time when
// that row does not carry it (the end of a hold whose row is written):
// from stored, the row read before, or the table.
func (e *Engine) withCreation(ctx context.Context, b, stored boxoffice.Booking) (boxoffice.Booking, error) {
	if !b.CreatedAt.IsZero() {
		return b, nil
	}
	if stored.ID != b.ID {
		var err error
		if stored, err = e.deps.Store.Booking(ctx, b.ID); err != nil {
			return boxoffice.Booking{}, err
		}
	}
	b.CreatedAt = stored.CreatedAt
	return b, nil
}

// getBooking answers GetBooking from this node's projector: the booking's
// row it holds for this event, or stored (the table is exact for it). Only
// durable commits reach the projector, so the answer never shows a state
// a crash could undo.
func (g *grain) getBooking(ctx actor.Context, msg *grainpb.GetBooking) {
	if g.refuse(ctx) {
		return
	}
	if g.e.proj != nil {
		if b, ok := g.e.proj.lookup(id(msg.BookingId)); ok && b.EventID == g.eventID {
			ctx.Respond(&grainpb.BookingReply{Booking: bookingToPB(b)})
			return
		}
	}
	ctx.Respond(&grainpb.BookingReply{Stored: true})
}
