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
// event's job) are listed too, first: their activation resumes them. So
// are events whose bookings projection has stood behind their journal for
// a minute (its node died with rows pending): activation catches it up.
func (db *DB) OverdueHoldEvents(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT event_id FROM (
			SELECT event_id, min(requested_at) AS due FROM refunds WHERE refunded_at IS NULL GROUP BY event_id
			UNION ALL
			SELECT event_id, min(expires_at) FROM bookings
			WHERE status = 'in-progress' AND expires_at < now() GROUP BY event_id
			UNION ALL
			SELECT p.event_id, p.updated_at FROM booking_projection p
			WHERE p.updated_at < now() - interval '1 minute'
				AND EXISTS (SELECT 1 FROM journal j WHERE j.event_id = p.event_id AND j.last_version > p.version)
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
