package persistence

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

// RequestRefund records that the booking's money is owed back, before the
// provider is asked: the event's actor refunds every owed booking, also
// after a crash (its next activation reads them with OwedRefunds). A
// second request of the same booking changes nothing.
func (db *DB) RequestRefund(ctx context.Context, bookingID, eventID uuid.UUID, reason boxoffice.RefundReason) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO refunds (booking_id, event_id, reason) VALUES ($1, $2, $3)
		ON CONFLICT (booking_id) DO NOTHING`, bookingID, eventID, string(reason))
	return wrap("request refund", err)
}

// OwedRefunds lists the event's bookings whose refund was requested and not
// done yet, oldest request first.
func (db *DB) OwedRefunds(ctx context.Context, eventID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `SELECT booking_id FROM refunds WHERE event_id = $1 AND refunded_at IS NULL
		ORDER BY requested_at, booking_id`, eventID)
	if err != nil {
		return nil, wrap("owed refunds", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, wrap("owed refunds", err)
}

// RefundProgress counts the event's refunds: requested in all, and done.
func (db *DB) RefundProgress(ctx context.Context, eventID uuid.UUID) (boxoffice.RefundProgress, error) {
	var p boxoffice.RefundProgress
	err := db.pool.QueryRow(ctx, `SELECT count(*), count(refunded_at) FROM refunds WHERE event_id = $1`, eventID).
		Scan(&p.Total, &p.Done)
	return p, wrap("refund progress", err)
}

// CancelEvent cancels the event (cancelled_at, once; its listing says so)
// and, in the same transaction, owes a refund of every confirmed booking
// of it: the durable job that the event's actor works through (resumed by
// its next activation after a crash; each booking refunded once). Calling
// it again changes nothing but owing the refund of a booking confirmed
// since (a payment in flight at the cancellation). Errors: not_found.
func (db *DB) CancelEvent(ctx context.Context, id uuid.UUID) (boxoffice.Event, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return boxoffice.Event{}, wrap("cancel event: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	e, _, err := eventQ(ctx, tx, id, "FOR UPDATE")
	if err != nil {
		return boxoffice.Event{}, err
	}
	if e.CancelledAt.IsZero() {
		e.Revision++
		if err := tx.QueryRow(ctx, `UPDATE events SET cancelled_at = now(), revision = $2, updated_at = now()
			WHERE id = $1 RETURNING cancelled_at`, id, e.Revision).Scan(&e.CancelledAt); err != nil {
			return boxoffice.Event{}, wrap("cancel event", err)
		}
		if err := queueListing(ctx, tx, id); err != nil {
			return boxoffice.Event{}, err
		}
		// Buyers and organisers' webhooks hear of it exactly when it is
		// durable, and once (a repeated cancel skips this branch).
		if err := AddNotices(ctx, tx, boxoffice.EventNotice(boxoffice.NoticeEventCancelled, id, e.CancelledAt)); err != nil {
			return boxoffice.Event{}, err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO refunds (booking_id, event_id, reason)
		SELECT id, event_id, 'cancel' FROM bookings WHERE event_id = $1 AND status = 'confirmed'
		ON CONFLICT (booking_id) DO NOTHING`, id); err != nil {
		return boxoffice.Event{}, wrap("cancel event: owe refunds", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return boxoffice.Event{}, wrap("cancel event: commit", err)
	}
	return e, nil
}
