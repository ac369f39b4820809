package persistence

import (
	"context"
	"time"
)

// PruneOwnershipHistory deletes up to limit ownership_history rows that
// nothing needs any more, and returns how many it deleted. Every
// activation writes a row, failed ones included, so without pruning the
// table grows for as long as the cluster runs.
//
// A row is kept when it is younger than keep (for people reading the
// history), when it is its event's latest acquisition, or when `boxoffice
// check`'s I3 audit may use it: the audit forgives a hold released late
// when its event was acquired after the hold's expiry and before its
// release (no owner could release it meanwhile), so every acquisition that
// fell between the expiry and the release of a hold released late, or
// after the expiry of a hold still held, stays. Acquisitions before a
// hold's expiry never change the audit's verdict.
func (db *DB) PruneOwnershipHistory(ctx context.Context, keep time.Duration, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `
		WITH needed AS (
			SELECT event_id, expires_at AS since, now() AS upto FROM bookings
				WHERE status = 'in-progress' AND expires_at < now()
			UNION ALL
			SELECT event_id, expires_at, updated_at FROM bookings
				WHERE status = 'expired' AND updated_at > expires_at
		), doomed AS (
			SELECT h.event_id, h.epoch FROM ownership_history h
			WHERE h.acquired_at < $1
			  AND h.epoch < (SELECT max(l.epoch) FROM ownership_history l WHERE l.event_id = h.event_id)
			  AND NOT EXISTS (SELECT 1 FROM needed n
				WHERE n.event_id = h.event_id AND h.acquired_at >= n.since AND h.acquired_at <= n.upto)
			LIMIT $2)
		DELETE FROM ownership_history h USING doomed d
		WHERE h.event_id = d.event_id AND h.epoch = d.epoch`, time.Now().Add(-keep), limit)
	if err != nil {
		return 0, wrap("prune ownership history", err)
	}
	return tag.RowsAffected(), nil
}
