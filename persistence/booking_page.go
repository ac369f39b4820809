package persistence

import (
	"context"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// UserBookingsPage returns up to limit of a user's bookings, newest first
// (created_at, then id, both descending: a total order), starting after the
// booking at (afterCreated, afterID); a zero afterCreated starts at the
// newest. Paging by this key rather than by offset is what keeps every
// booking on exactly one page while new bookings arrive between pages
// (they sort before the key, so they never shift the pages after it).
func (db *DB) UserBookingsPage(ctx context.Context, userID uuid.UUID, afterCreated time.Time, afterID uuid.UUID, limit int) ([]boxoffice.Booking, error) {
	if limit <= 0 {
		return nil, boxoffice.InvalidField("limit", "limit must be positive")
	}
	var rows pgx.Rows
	var err error
	if afterCreated.IsZero() {
		rows, err = db.pool.Query(ctx, bookingSelect+`
			WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	} else {
		rows, err = db.pool.Query(ctx, bookingSelect+`
			WHERE user_id = $1 AND (created_at, id) < ($2, $3)
			ORDER BY created_at DESC, id DESC LIMIT $4`, userID, afterCreated, afterID, limit)
	}
	if err != nil {
		return nil, wrap("read user bookings", err)
	}
	out, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return nil, wrap("read user bookings", err)
	}
	return out, nil
}
