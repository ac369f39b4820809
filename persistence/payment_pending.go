package persistence

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

// PendingPayments lists the event's payments whose outcome is not recorded
// yet, oldest booking id first, for reconciliation: the event's grain asks
// the provider about each one no run of its own is settling (a charge may
// have succeeded just before PostgreSQL or the node died).
func (db *DB) PendingPayments(ctx context.Context, eventID uuid.UUID) ([]boxoffice.Payment, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE event_id = $1 AND status = 'pending' ORDER BY booking_id`, eventID)
	if err != nil {
		return nil, wrap("pending payments", err)
	}
	out, err := pgx.CollectRows(rows, scanPayment)
	if err != nil {
		return nil, wrap("pending payments", err)
	}
	return out, nil
}
