package persistence

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

var _ boxoffice.ActivePoller = (*DB)(nil)

// ChangedEvents returns the events of ids whose revision is above the
// caller's copy (revisions[i] is ids[i]'s), in one query: a node's
// periodic re-read of its active events' sale rules (boxoffice.ActivePoller).
func (db *DB) ChangedEvents(ctx context.Context, ids []uuid.UUID, revisions []int64) ([]boxoffice.Event, error) {
	rows, err := db.pool.Query(ctx, `SELECT e.id, `+eventColumns+` FROM events e
		JOIN unnest($1::uuid[], $2::bigint[]) AS k(kid, krev) ON e.id = k.kid WHERE e.revision > k.krev`, ids, revisions)
	if err != nil {
		return nil, wrap("changed events", err)
	}
	defer rows.Close()
	var out []boxoffice.Event
	for rows.Next() {
		var id uuid.UUID
		ev, _, err := scanEvent(prefixRow{rows, &id}, uuid.Nil)
		if err != nil {
			return nil, err
		}
		ev.ID = id
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("changed events", err)
	}
	return out, nil
}

// PendingPaymentsFor is PendingPayments for many events in one query, by
// event id (events without pending payments are absent): a node's periodic
// reconciliation of its active events (boxoffice.ActivePoller).
func (db *DB) PendingPaymentsFor(ctx context.Context, eventIDs []uuid.UUID) (map[uuid.UUID][]boxoffice.Payment, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE event_id = ANY($1::uuid[]) AND status = 'pending' ORDER BY event_id, booking_id`, eventIDs)
	if err != nil {
		return nil, wrap("pending payments", err)
	}
	list, err := pgx.CollectRows(rows, scanPayment)
	if err != nil {
		return nil, wrap("pending payments", err)
	}
	out := map[uuid.UUID][]boxoffice.Payment{}
	for _, p := range list {
		out[p.EventID] = append(out[p.EventID], p)
	}
	return out, nil
}
