package persistence

import (
	"context"
	"github.com/jackc/pgx/v5"

	"github.com/google/uuid"
)

// RetryPayment reopens a declined payment for another attempt (a new card,
// say) under a new idempotency key, and returns the row as it now stands.
// Only a declined payment reopens: a succeeded one stays succeeded (I6) and
// a pending one keeps the key its unknown outcome must be asked with.
func (db *DB) RetryPayment(ctx context.Context, bookingID uuid.UUID, key string) (Payment, error) {
	_, err := db.pool.Exec(ctx, `
		UPDATE payments SET status = 'pending', idempotency_key = $2, charge_id = '', updated_at = now()
		WHERE booking_id = $1 AND status = 'declined'`, bookingID, key)
	if err != nil {
		return Payment{}, wrap("retry payment", err)
	}
	return db.payment(ctx, bookingID)
}

// OverdueHoldEvents lists events that have in-progress bookings past their
// expiry, the one whose oldest such hold expired first first, so a node can
// wake those events' actors after a restart and let them expire the holds
// on time (I3) even if nobody calls the event; the latest are the ones
// left for the next sweep when there are more than limit.
func (db *DB) OverdueHoldEvents(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT event_id FROM bookings
		WHERE status = 'in-progress' AND expires_at < now()
		GROUP BY event_id ORDER BY min(expires_at), event_id
		LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("overdue holds", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, wrap("overdue holds", err)
	}
	return ids, nil
}

// Payment reads a booking's payment row; not_found when it has none. A
// restarted event actor reads it to settle a payment a crash interrupted.
func (db *DB) Payment(ctx context.Context, bookingID uuid.UUID) (Payment, error) {
	return db.payment(ctx, bookingID)
}
