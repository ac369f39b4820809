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
		created_at, expires_at, confirmed_at, updated_at,
		ticket_types, price_lines, coalesce(promo_code, '')
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
		&b.CreatedAt, &expires, &confirmed, &b.UpdatedAt,
		&b.TicketTypes, &b.PriceLines, &b.PromoCode)
	b.Status = boxoffice.BookingStatus(status)
	b.Total = boxoffice.Money(total)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	b.ExpiresAt, b.ConfirmedAt = fromNullTime(expires), fromNullTime(confirmed)
	return b, err
}
