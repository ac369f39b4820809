package actors

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// Reserve implements boxoffice.SeatEngine. With an IdempotencyKey it
// claims the key first and never holds twice for one claim (idempotency.go).
// The tickets are checked once, by the grain's seat map (seatmap.Map.Hold:
// how many, twice, of this event, free), which alone knows the venue; the
// API validates the request's shape before it gets here.
func (e *Engine) Reserve(ctx context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, error) {
	msg := &grainpb.Reserve{UserId: req.UserID[:], BookingId: req.BookingID[:]}
	for _, t := range req.TicketIDs {
		msg.TicketIds = append(msg.TicketIds, t[:])
	}
	for _, w := range req.Standing {
		msg.Standing = append(msg.Standing, &grainpb.StandingWant{Section: w.Section, Quantity: int32(w.Quantity), TicketType: w.TicketType})
	}
	msg.TicketTypes, msg.PromoCode = req.TicketTypes, req.PromoCode
	if b := req.BestAvailable; b != nil {
		msg.BestAvailable = &grainpb.BestAvailable{Section: b.Section, Quantity: int32(b.Quantity), Accessible: b.Accessible}
	}
	if req.IdempotencyKey == "" {
		return e.bookingCall(ctx, req.EventID, msg)
	}
	return e.keyedReserve(ctx, req, msg)
}

// Release implements boxoffice.SeatEngine. A hold the grain no longer has
// is explained from the booking's stored state (expired, sold, cancelled).
func (e *Engine) Release(ctx context.Context, eventID, bookingID, userID uuid.UUID) (boxoffice.Booking, error) {
	b, err := e.bookingCall(ctx, eventID, &grainpb.Release{UserId: userID[:], BookingId: bookingID[:]})
	if errors.Is(err, boxoffice.ErrNotFound) {
		return boxoffice.Booking{}, e.explainMissingHold(ctx, bookingID, userID, err)
	}
	return b, err
}

// Confirm implements boxoffice.SeatEngine. A booking that is already
// confirmed is answered from PostgreSQL without touching the grain, so a
// retried confirm returns the same body and never charges again (I6). The
// booking's row is read once (or carried in req.Booking) and carried to the
// answer.
func (e *Engine) Confirm(ctx context.Context, req boxoffice.ConfirmRequest) (boxoffice.Booking, error) {
	stored, err := e.storedBooking(ctx, req)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if stored.UserID != req.UserID {
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user")
	}
	if req.IdempotencyKey != "" {
		// The key belongs to this user and this booking from its first use
		// on: reused for another booking it is idempotency_conflict, so one
		// payment never confirms two bookings (I6). It goes no further:
		// the provider's key is derived from the booking and attempt.
		if err := e.deps.Store.BindConfirmKey(ctx, req.UserID, req.IdempotencyKey, req.BookingID); err != nil {
			return boxoffice.Booking{}, err
		}
	}
	if stored.Status == boxoffice.BookingConfirmed {
		return stored, nil
	}
	if stored.Status != boxoffice.BookingInProgress {
		return boxoffice.Booking{}, statusError(stored)
	}
	msg := &grainpb.Confirm{UserId: req.UserID[:], BookingId: req.BookingID[:], Method: req.Method, Token: req.Token}
	sold, action, err := e.confirmCall(ctx, stored.EventID, msg)
	if action != nil {
		return paymentPending(stored, action), nil
	}
	if errors.Is(err, boxoffice.ErrNotFound) {
		// A concurrent confirm of this booking may have sold it since the
		// read above: answer as a repeated confirm does.
		b, rerr := e.Booking(ctx, req.BookingID)
		if rerr != nil {
			return boxoffice.Booking{}, missingHoldReadErr(rerr, err)
		}
		if b.UserID == req.UserID && b.Status == boxoffice.BookingConfirmed {
			return b, nil
		}
		return boxoffice.Booking{}, e.explainHold(b, req.UserID)
	}
	if err != nil {
		return boxoffice.Booking{}, err
	}
	return committedSale(stored, sold), nil
}

// storedBooking is the booking req carries, or else the stored row.
func (e *Engine) storedBooking(ctx context.Context, req boxoffice.ConfirmRequest) (boxoffice.Booking, error) {
	if b := req.Booking; b != nil && b.ID == req.BookingID {
		return *b, nil
	}
	return e.Booking(ctx, req.BookingID)
}

// committedSale is the row the sale's commit left: the journal writer
// updates only status, confirmed_at and updated_at of a booking it has
// (persistence queueBookings), so the answer is the stored row with the
// grain's values of those, exactly what any later confirm of the booking
// reads and returns.
func committedSale(stored, sold boxoffice.Booking) boxoffice.Booking {
	stored.Status, stored.ConfirmedAt, stored.UpdatedAt = sold.Status, sold.ConfirmedAt, sold.UpdatedAt
	return stored
}

// Seats implements boxoffice.SeatEngine.
func (e *Engine) Seats(ctx context.Context, eventID uuid.UUID) (boxoffice.SeatsView, error) {
	r, err := cluster.Call[*grainpb.SeatsReply](ctx, e.grains, eventID.String(), &grainpb.GetSeats{})
	if err != nil {
		return boxoffice.SeatsView{}, err
	}
	if r.Error != nil {
		return boxoffice.SeatsView{}, r.Error.Err()
	}
	st := make([]boxoffice.SeatStatus, len(r.Statuses))
	for i, s := range r.Statuses {
		st[i] = boxoffice.SeatStatus(s)
	}
	return boxoffice.SeatsView{EventID: eventID, Version: r.Version, Statuses: st}, nil
}

// Stats implements boxoffice.SeatEngine.
func (e *Engine) Stats(ctx context.Context, eventID uuid.UUID) (boxoffice.EventStats, error) {
	r, err := cluster.Call[*grainpb.StatsReply](ctx, e.grains, eventID.String(), &grainpb.GetStats{})
	if err != nil {
		return boxoffice.EventStats{}, err
	}
	if r.Error != nil {
		return boxoffice.EventStats{}, r.Error.Err()
	}
	return boxoffice.EventStats{
		EventID: eventID, NodeID: r.Node, Version: r.Version,
		Counts: boxoffice.SeatCounts{Available: int(r.Available), Reserved: int(r.Reserved), Booked: int(r.Booked)},
		Holds:  int(r.Holds), JournalLag: int(r.JournalLag), LastSnapshotVersion: r.LastSnapshotVersion,
		Admitted: int(r.Admitted),
	}, nil
}

// Touch activates the event's grain so that its overdue holds expire (used
// after a restart, when no client is calling the event).
func (e *Engine) Touch(ctx context.Context, eventID uuid.UUID) error {
	res, err := e.request(ctx, eventID, &grainpb.Touch{})
	if err != nil {
		return err
	}
	if a, ok := res.(*grainpb.Ack); ok && a.Error != nil {
		return a.Error.Err()
	}
	return nil
}

func (e *Engine) bookingCall(ctx context.Context, eventID uuid.UUID, msg proto.Message) (boxoffice.Booking, error) {
	r, err := cluster.Call[*grainpb.BookingReply](ctx, e.grains, eventID.String(), msg)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if r.Error != nil {
		return boxoffice.Booking{}, r.Error.Err()
	}
	return bookingFromPB(r.Booking), nil
}

// explainMissingHold turns "the grain has no such hold" into the error the
// booking's stored state calls for: not_found only for a booking that does
// not exist (API.md). The grain answers "no hold" only once the hold's end
// is durable (grain.refuseHold), so the row shows how it ended.
func (e *Engine) explainMissingHold(ctx context.Context, bookingID, userID uuid.UUID, orig error) error {
	b, err := e.Booking(ctx, bookingID)
	if err != nil {
		return missingHoldReadErr(err, orig)
	}
	return e.explainHold(b, userID)
}

// missingHoldReadErr is the answer when the row that would explain a
// missing hold cannot be read: the grain's orig when there is no row.
func missingHoldReadErr(err, orig error) error {
	if errors.Is(err, boxoffice.ErrNotFound) {
		return orig
	}
	return err
}

// explainHold is explainMissingHold's answer from the booking's row b.
func (e *Engine) explainHold(b boxoffice.Booking, userID uuid.UUID) error {
	if b.UserID != userID {
		return boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user")
	}
	if b.Status == boxoffice.BookingInProgress {
		// Not seen while the grain waits for durability; kept an answer
		// the contract allows should a row ever lag its hold.
		if !e.cfg.Now().Before(b.ExpiresAt) {
			b.Status = boxoffice.BookingExpired
		} else {
			return boxoffice.Errorf(boxoffice.EBookingState, "the booking has no live hold")
		}
	}
	return statusError(b)
}

func statusError(b boxoffice.Booking) error {
	if b.Status == boxoffice.BookingExpired {
		return boxoffice.Errorf(boxoffice.EHoldExpired, "the hold expired at %s", b.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return boxoffice.Errorf(boxoffice.EBookingState, "the booking is %s", b.Status)
}

// SettlePayment hands a provider's verified notification about one
// booking's payment attempt to the event's grain (see grain.paymentSettled):
// a payment waiting for it is settled as the provider's own answer would
// settle it; anything else ignores it. Repeating it is harmless.
func (e *Engine) SettlePayment(ctx context.Context, eventID uuid.UUID, ev boxoffice.PaymentEvent) error {
	if ev.Kind != boxoffice.PaymentEventSucceeded && ev.Kind != boxoffice.PaymentEventFailed {
		return nil
	}
	res, err := e.request(ctx, eventID, &grainpb.PaymentSettled{BookingId: ev.BookingID[:], Key: ev.Key,
		Succeeded: ev.Kind == boxoffice.PaymentEventSucceeded, ChargeId: ev.ChargeID,
		AmountMinor: int64(ev.Amount), Currency: ev.Currency})
	if err != nil {
		return err
	}
	if a, ok := res.(*grainpb.Ack); ok && a.Error != nil {
		return a.Error.Err()
	}
	return nil
}
