package persistence

import (
	"context"
	"github.com/jackc/pgx/v5"

	"github.com/google/uuid"
)

// OverdueHoldEvents lists events that have in-progress bookings past their
// expiry, the one whose oldest such hold expired first first, so a node can
// wake those events' actors after a restart and let them expire the holds
// on time (I3) even if nobody calls the event; the latest are the ones
// left for the next sweep when there are more than limit. Events with
// refunds owed (requested, not done: a crash in the middle, or a cancelled
// event's job) are listed too, first: their activation resumes them.
func (db *DB) OverdueHoldEvents(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT event_id FROM (
			SELECT event_id, min(requested_at) AS due FROM refunds WHERE refunded_at IS NULL GROUP BY event_id
			UNION ALL
			SELECT event_id, min(expires_at) FROM bookings
			WHERE status = 'in-progress' AND expires_at < now() GROUP BY event_id
		) t GROUP BY event_id ORDER BY min(due), event_id
		LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("overdue holds", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, wrap("overdue holds", err)
	}
	return ids, nil
}
