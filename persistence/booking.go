package persistence

import (
	"context"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const bookingSelect = `
	SELECT id, user_id, event_id, ticket_ids, status, total_minor, currency,
		created_at, expires_at, confirmed_at, updated_at
	FROM bookings`

// Booking returns a booking as last committed by the journal writer, or a
// not_found error.
func (db *DB) Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	rows, err := db.pool.Query(ctx, bookingSelect+` WHERE id = $1`, id)
	if err != nil {
		return boxoffice.Booking{}, wrap("read booking", err)
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBooking)
	if isNoRows(err) {
		return boxoffice.Booking{}, notFound("booking", id)
	}
	if err != nil {
		return boxoffice.Booking{}, wrap("read booking", err)
	}
	return b, nil
}

// UserBookings returns up to limit of a user's bookings, newest first.
func (db *DB) UserBookings(ctx context.Context, userID uuid.UUID, limit int) ([]boxoffice.Booking, error) {
	if limit <= 0 {
		return nil, boxoffice.InvalidField("limit", "limit must be positive")
	}
	rows, err := db.pool.Query(ctx, bookingSelect+`
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, wrap("read user bookings", err)
	}
	out, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return nil, wrap("read user bookings", err)
	}
	return out, nil
}

func scanBooking(row pgx.CollectableRow) (boxoffice.Booking, error) {
	var b boxoffice.Booking
	var status string
	var total int64
	var expires, confirmed *time.Time
	err := row.Scan(&b.ID, &b.UserID, &b.EventID, &b.TicketIDs, &status, &total, &b.Currency,
		&b.CreatedAt, &expires, &confirmed, &b.UpdatedAt)
	b.Status = boxoffice.BookingStatus(status)
	b.Total = boxoffice.Money(total)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	b.ExpiresAt, b.ConfirmedAt = fromNullTime(expires), fromNullTime(confirmed)
	return b, err
}

// Payment statuses.
const (
	PaymentPending   = "pending"
	PaymentSucceeded = "succeeded"
	PaymentDeclined  = "declined"
)

// Payment is the at-most-once record of one booking's charge (I6).
type Payment struct {
	BookingID uuid.UUID
	Key       string
	Status    string // PaymentPending, PaymentSucceeded or PaymentDeclined
	ChargeID  string
	Amount    boxoffice.Money
	Currency  string
}

// BeginPayment records the intent to charge a booking before the provider
// is called: it inserts a pending row, or returns the existing row
// unchanged. A caller that gets back a row it did not create (another
// key, or a status other than pending) must not charge with a new key:
// that is what makes a booking charged at most once even across crashes
// and takeovers.
func (db *DB) BeginPayment(ctx context.Context, bookingID uuid.UUID, key string, amount boxoffice.Money, currency string) (Payment, error) {
	if key == "" {
		return Payment{}, boxoffice.InvalidField("idempotency_key", "an idempotency key is required")
	}
	rows, err := db.pool.Query(ctx, `
		WITH ins AS (
			INSERT INTO payments (booking_id, idempotency_key, amount_minor, currency, status)
			VALUES ($1, $2, $3, $4, 'pending')
			ON CONFLICT (booking_id) DO NOTHING
			RETURNING booking_id, idempotency_key, status, charge_id, amount_minor, currency)
		SELECT * FROM ins
		UNION ALL
		SELECT booking_id, idempotency_key, status, charge_id, amount_minor, currency
		FROM payments WHERE booking_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		bookingID, key, int64(amount), currency)
	if err != nil {
		return Payment{}, wrap("begin payment", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if isNoRows(err) {
		// A concurrent BeginPayment inserted between our INSERT and SELECT
		// snapshots; its row is committed now.
		return db.payment(ctx, bookingID)
	}
	if err != nil {
		return Payment{}, wrap("begin payment", err)
	}
	return p, nil
}

func (db *DB) payment(ctx context.Context, bookingID uuid.UUID) (Payment, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT booking_id, idempotency_key, status, charge_id, amount_minor, currency
		FROM payments WHERE booking_id = $1`, bookingID)
	if err != nil {
		return Payment{}, wrap("read payment", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if isNoRows(err) {
		return Payment{}, notFound("payment of booking", bookingID)
	}
	if err != nil {
		return Payment{}, wrap("read payment", err)
	}
	return p, nil
}

func scanPayment(row pgx.CollectableRow) (Payment, error) {
	var p Payment
	var amount int64
	err := row.Scan(&p.BookingID, &p.Key, &p.Status, &p.ChargeID, &amount, &p.Currency)
	p.Amount = boxoffice.Money(amount)
	return p, err
}

// FinishPayment records the provider's answer. Only a pending payment
// changes; repeating the same answer is a no-op, a different answer for a
// finished payment is booking_state (a charge's outcome never flips), and
// an unknown booking is not_found.
func (db *DB) FinishPayment(ctx context.Context, bookingID uuid.UUID, status string, chargeID string) error {
	if status != PaymentSucceeded && status != PaymentDeclined {
		return boxoffice.InvalidField("status", "payment status must be %q or %q", PaymentSucceeded, PaymentDeclined)
	}
	tag, err := db.pool.Exec(ctx, `
		UPDATE payments SET status = $2, charge_id = $3, updated_at = now()
		WHERE booking_id = $1 AND status = 'pending'`, bookingID, status, chargeID)
	if err != nil {
		return wrap("finish payment", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	p, err := db.payment(ctx, bookingID)
	if err != nil {
		return err
	}
	if p.Status == status && p.ChargeID == chargeID {
		return nil
	}
	return boxoffice.Errorf(boxoffice.EBookingState, "the payment of booking %s is already %s", bookingID, p.Status)
}
