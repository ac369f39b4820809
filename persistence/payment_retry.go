package persistence

import (
	"context"

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
