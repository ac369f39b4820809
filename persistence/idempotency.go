package persistence

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

const claimColumns = `user_id, idem_key, fingerprint, event_id, booking_id, created_at`

// ClaimReserve records c as the request its user's Idempotency-Key belongs
// to, unless the key already belongs to a request made after expired: then
// it returns that earlier claim unchanged, and the caller compares
// fingerprints. A claim made at or before expired is out of its window and
// is replaced by c. Concurrent claims of one key all return the same row,
// on any node: the primary key (user_id, idem_key) serialises them.
func (db *DB) ClaimReserve(ctx context.Context, c boxoffice.ReserveClaim, expired time.Time) (boxoffice.ReserveClaim, error) {
	if c.Key == "" || len(c.Fingerprint) == 0 {
		return boxoffice.ReserveClaim{}, boxoffice.InvalidField("Idempotency-Key", "an idempotency key and a fingerprint are required")
	}
	// Two attempts: when a concurrent claim inserted the row after this
	// statement's snapshot, ON CONFLICT neither returns it nor lets the
	// SELECT see it; the second statement, with a new snapshot, does.
	for range 2 {
		rows, err := db.pool.Query(ctx, `
			WITH ins AS (
				INSERT INTO reserve_idempotency AS r (`+claimColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (user_id, idem_key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
					event_id = EXCLUDED.event_id, booking_id = EXCLUDED.booking_id, created_at = EXCLUDED.created_at
				WHERE r.created_at <= $7
				RETURNING `+claimColumns+`)
			SELECT * FROM ins
			UNION ALL
			SELECT `+claimColumns+` FROM reserve_idempotency
			WHERE user_id = $1 AND idem_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
			c.UserID, c.Key, c.Fingerprint, c.EventID, c.BookingID, c.CreatedAt, expired)
		if err != nil {
			return boxoffice.ReserveClaim{}, wrap("claim idempotency key", err)
		}
		got, err := pgx.CollectExactlyOneRow(rows, scanClaim)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return boxoffice.ReserveClaim{}, wrap("claim idempotency key", err)
		}
		return got, nil
	}
	return boxoffice.ReserveClaim{}, boxoffice.Errorf(boxoffice.EUnavailable, "the idempotency key is being claimed concurrently; retry")
}

// ReserveClaim returns the claim of a user's Idempotency-Key, or a
// not_found error when the key was never claimed (or was pruned).
func (db *DB) ReserveClaim(ctx context.Context, userID uuid.UUID, key string) (boxoffice.ReserveClaim, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+claimColumns+` FROM reserve_idempotency
		WHERE user_id = $1 AND idem_key = $2`, userID, key)
	if err != nil {
		return boxoffice.ReserveClaim{}, wrap("read idempotency key", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanClaim)
	if isNoRows(err) {
		return boxoffice.ReserveClaim{}, boxoffice.Errorf(boxoffice.ENotFound, "idempotency key not found")
	}
	if err != nil {
		return boxoffice.ReserveClaim{}, wrap("read idempotency key", err)
	}
	return c, nil
}

// ClaimedHolds lists the claims of an event made after since whose booking
// exists, that is whose hold was made durable: the bookings an event
// actor must never hold again for a repeated request (it answers those
// with the first reply). Oldest first.
func (db *DB) ClaimedHolds(ctx context.Context, eventID uuid.UUID, since time.Time) ([]boxoffice.ReserveClaim, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT k.user_id, k.idem_key, k.fingerprint, k.event_id, k.booking_id, k.created_at
		FROM reserve_idempotency k JOIN bookings b ON b.id = k.booking_id AND b.user_id = k.user_id
		WHERE k.event_id = $1 AND k.created_at > $2
		ORDER BY k.created_at`, eventID, since)
	if err != nil {
		return nil, wrap("read claimed holds", err)
	}
	out, err := pgx.CollectRows(rows, scanClaim)
	if err != nil {
		return nil, wrap("read claimed holds", err)
	}
	return out, nil
}

// PruneReserveClaims deletes up to limit claims made at or before
// before, and returns how many it deleted; storage stays bounded by the
// keys of one window.
func (db *DB) PruneReserveClaims(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := db.pool.Exec(ctx, `
		DELETE FROM reserve_idempotency WHERE ctid IN (
			SELECT ctid FROM reserve_idempotency WHERE created_at <= $1 LIMIT $2)`, before, limit)
	if err != nil {
		return 0, wrap("prune idempotency keys", err)
	}
	return int(tag.RowsAffected()), nil
}

func scanClaim(row pgx.CollectableRow) (boxoffice.ReserveClaim, error) {
	var c boxoffice.ReserveClaim
	err := row.Scan(&c.UserID, &c.Key, &c.Fingerprint, &c.EventID, &c.BookingID, &c.CreatedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}
