// Package baseline is the conventional ticketing design the seat engine is
// benchmarked against (issue 4): one row per seat, held by a conditional
// UPDATE in one transaction. Only benchmarks use it, so it lives apart from
// the persistence adapter production runs on.
package baseline

import (
	"context"
	"fmt"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// Reserve is how a conventional ticketing service holds seats: one
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
