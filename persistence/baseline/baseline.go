// Package baseline is the conventional ticketing design the seat engine is
// benchmarked against: one row per seat, held by a conditional UPDATE. Hold
// is the design at its strongest (issue 21): one prepared statement, one
// round trip per attempt, the booking row written in the same statement.
// Reserve is the weaker first version (issue 4: BEGIN, UPDATE, COMMIT, three
// round trips and no booking row), kept only so that older numbers in
// docs/benchmarks.md can be explained. Only benchmarks use this package, so
// it lives apart from the persistence adapter production runs on.
package baseline

import (
	"context"
	"fmt"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tickets is the conventional design's baseline_tickets table in one
// PostgreSQL database.
type Tickets struct {
	pool *pgxpool.Pool
}

// New returns the conventional design on pool (any boxoffice database; the
// table is created by Setup).
func New(pool *pgxpool.Pool) *Tickets { return &Tickets{pool: pool} }

// wrap names the failed step, keeping err for errors.Is and As.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("baseline: %s: %w", op, err)
}

// Setup prepares a baseline_tickets table with one row per seat of eventID,
// all available, that Reserve updates in place. It replaces any earlier rows
// of the event. The table is created on first use rather than by a
// migration because production never needs it; run Setup from one goroutine
// at a time.
func (t *Tickets) Setup(ctx context.Context, eventID uuid.UUID, seats int) error {
	if seats < 1 || seats > boxoffice.MaxVenueSeats {
		return boxoffice.InvalidField("seats", "seats must be 1..%d", boxoffice.MaxVenueSeats)
	}
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return wrap("begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	_, err = tx.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS baseline_tickets (
			ticket_id   uuid PRIMARY KEY,
			event_id    uuid NOT NULL,
			status      text NOT NULL,
			booking_id  uuid
		)`)
	if err != nil {
		return wrap("create table", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM baseline_tickets WHERE event_id = $1`, eventID); err != nil {
		return wrap("clear event", err)
	}
	space := boxoffice.NewTicketSpace(eventID)
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"baseline_tickets"}, []string{"ticket_id", "event_id", "status"},
		pgx.CopyFromSlice(seats, func(i int) ([]any, error) {
			return []any{space.ID(i), eventID, "available"}, nil
		}))
	if err != nil {
		return wrap("copy tickets", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE baseline_tickets`); err != nil {
		return wrap("analyze", err)
	}
	return wrap("commit", tx.Commit(ctx))
}

// Reserve is the first, weaker baseline (issue 4), kept to explain older
// numbers: one
// transaction with a conditional UPDATE of every requested seat, kept only
// if all of them were still available. It reports whether the hold
// succeeded; false means some seat was taken and nothing changed.
func (t *Tickets) Reserve(ctx context.Context, bookingID uuid.UUID, ticketIDs []uuid.UUID) (bool, error) {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return false, wrap("begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	tag, err := tx.Exec(ctx, `
		UPDATE baseline_tickets SET status = 'reserved', booking_id = $1
		WHERE ticket_id = ANY($2) AND status = 'available'`, bookingID, ticketIDs)
	if err != nil {
		return false, wrap("reserve", err)
	}
	if tag.RowsAffected() != int64(len(ticketIDs)) {
		return false, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return false, wrap("commit", err)
	}
	return true, nil
}

// holdOne holds one seat: a conditional UPDATE whose RETURNING feeds the
// booking row's INSERT, so the seat and the booking are written together
// or not at all, in one statement and one round trip.
const holdOne = `
	WITH held AS (
		UPDATE baseline_tickets SET status = 'reserved', booking_id = $1
		WHERE ticket_id = $3 AND status = 'available'
		RETURNING ticket_id),
	booked AS (
		INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, expires_at, updated_at)
		SELECT $1, $2, $5, ARRAY[ticket_id], 'in-progress', $4, 'EUR', now(), now() + interval '10 minutes', now()
		FROM held
		RETURNING 1)
	SELECT count(*) FROM booked`

// holdMany holds several seats all or nothing in one statement. A plain
// conditional UPDATE of all seats cannot be all or nothing under
// concurrency: READ COMMITTED rechecks each row after waiting for its
// lock, so two overlapping holds could each take part. Instead the seats
// are first locked in ticket order (no deadlocks between overlapping
// holds), their current status counted, and the UPDATE and the booking
// row are written only when every seat was available.
const holdMany = `
	WITH locked AS (
		SELECT status FROM baseline_tickets
		WHERE ticket_id = ANY($3::uuid[]) ORDER BY ticket_id FOR UPDATE),
	ok AS (
		SELECT count(*) = cardinality($3::uuid[]) AND bool_and(status = 'available') AS ok FROM locked),
	held AS (
		UPDATE baseline_tickets SET status = 'reserved', booking_id = $1
		WHERE ticket_id = ANY($3::uuid[]) AND (SELECT ok FROM ok)
		RETURNING 1),
	booked AS (
		INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, expires_at, updated_at)
		SELECT $1, $2, $5, $3::uuid[], 'in-progress', $4, 'EUR', now(), now() + interval '10 minutes', now()
		FROM ok WHERE ok
		RETURNING 1)
	SELECT count(*) FROM booked`

// Hold is the conventional design at its strongest: one statement, prepared
// once per connection by pgx's statement cache, one round trip per attempt.
// It holds every seat of ticketIDs for bookingID of userID and writes the
// in-progress booking row (into the same bookings table, with the same
// indexes, as the seat engine writes), all or nothing. It reports whether
// the hold succeeded; false means some seat was taken and nothing changed.
func (t *Tickets) Hold(ctx context.Context, eventID, bookingID, userID uuid.UUID, ticketIDs []uuid.UUID, totalMinor int64) (bool, error) {
	var n int64
	var err error
	// pgtype.UUID, not uuid.UUID: pgx writes it as 16 binary bytes, where
	// google/uuid goes through its driver.Valuer (format as text, parsed
	// again); a lean client does not pay that.
	booking, user, event := pgUUID(bookingID), pgUUID(userID), pgUUID(eventID)
	switch len(ticketIDs) {
	case 0:
		return false, boxoffice.InvalidField("ticket_ids", "hold at least one seat")
	case 1:
		err = t.pool.QueryRow(ctx, holdOne, booking, user, pgUUID(ticketIDs[0]), totalMinor, event).Scan(&n)
	default:
		ids := make([]pgtype.UUID, len(ticketIDs))
		for i, id := range ticketIDs {
			ids[i] = pgUUID(id)
		}
		err = t.pool.QueryRow(ctx, holdMany, booking, user, ids, totalMinor, event).Scan(&n)
	}
	if err != nil {
		return false, wrap("hold", err)
	}
	return n == 1, nil
}

func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }
