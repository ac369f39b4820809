package persistence

import (
	"context"

	"github.com/boxoffice/boxoffice"
)

// PaymentEventApplied reports whether the provider's notification id was
// recorded as applied (RecordPaymentEvent).
func (db *DB) PaymentEventApplied(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_events WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, wrap("read payment event", err)
	}
	return ok, nil
}

// RecordPaymentEvent records a provider notification as applied, once:
// first is false when its id was recorded before. Record it after its
// effect, which must be idempotent, so that a failure between the two
// leaves it to be applied again rather than lost.
func (db *DB) RecordPaymentEvent(ctx context.Context, ev boxoffice.PaymentEvent) (first bool, err error) {
	if ev.ID == "" {
		return false, boxoffice.InvalidField("id", "a payment event needs its provider's id")
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO payment_events (id, booking_id, kind) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, ev.ID, ev.BookingID, string(ev.Kind))
	if err != nil {
		return false, wrap("record payment event", err)
	}
	return tag.RowsAffected() == 1, nil
}
