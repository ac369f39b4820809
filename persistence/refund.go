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
