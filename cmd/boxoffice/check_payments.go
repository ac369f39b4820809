package main

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Violation kinds of the payments audit.
const (
	kindUnpaidSale   = "unpaid_sale"   // a confirmed booking without its own succeeded charge of its total (I7)
	kindSharedCharge = "shared_charge" // one charge confirmed two bookings (I6)
)

// payments: every confirmed booking has a succeeded payment of its own
// total (I7), and no charge id pays for two bookings (I6).
func (a *audit) payments(ctx context.Context, db querier) error {
	rows, err := db.Query(ctx, `SELECT b.id, b.total_minor, coalesce(p.status, 'none'), coalesce(p.amount_minor, 0)
		FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id
		WHERE b.status = 'confirmed' AND (p.status IS DISTINCT FROM 'succeeded' OR p.amount_minor <> b.total_minor
			OR p.charge_id = '')`)
	if err != nil {
		return err
	}
	var id uuid.UUID
	var total, amount int64
	var status string
	_, err = pgx.ForEachRow(rows, []any{&id, &total, &status, &amount}, func() error {
		a.add(kindUnpaidSale, "booking %s is confirmed for %d but its payment is %s for %d", id, total, status, amount)
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = db.Query(ctx, `SELECT charge_id, count(*) FROM payments
		WHERE status = 'succeeded' AND charge_id <> '' GROUP BY charge_id HAVING count(*) > 1`)
	if err != nil {
		return err
	}
	var charge string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&charge, &n}, func() error {
		a.add(kindSharedCharge, "charge %s paid for %d bookings", charge, n)
		return nil
	})
	return err
}
