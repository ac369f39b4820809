package persistence

import (
	"context"
	"sync"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/jackc/pgx/v5"
)

// relayLockKey is the session advisory lock that elects the one node that
// relays the outbox; any constant unlikely to collide will do.
const relayLockKey int64 = 0x626f786f75746278 // "boxoutbx"

// OutboxRow is one queued catalog change.
type OutboxRow struct {
	ID      int64
	Topic   string
	Payload []byte // JSON
}

// PendingOutbox returns up to limit unsent rows in ascending ID order.
// IDs are allocated before commit, so a row may appear behind a higher one
// that committed first; the relay must therefore not treat the last ID as a
// cursor but ask again, and consumers order by Listing.Revision.
func (db *DB) PendingOutbox(ctx context.Context, limit int) ([]OutboxRow, error) {
	if limit <= 0 {
		return nil, boxoffice.InvalidField("limit", "limit must be positive")
	}
	rows, err := db.pool.Query(ctx, `
		SELECT id, topic, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("outbox: read", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxRow, error) {
		var o OutboxRow
		err := r.Scan(&o.ID, &o.Topic, &o.Payload)
		return o, err
	})
	if err != nil {
		return nil, wrap("outbox: read", err)
	}
	return out, nil
}

// MarkOutboxSent records that rows were published, after the bus
// acknowledged them; a crash in between republishes them, which consumers
// tolerate (at-least-once).
func (db *DB) MarkOutboxSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE id = ANY($1) AND sent_at IS NULL`, ids)
	return wrap("outbox: mark sent", err)
}

// TryRelayLock takes the relay's session advisory lock on a connection of
// its own, so that only one node of the cluster relays the outbox. ok is
// false, without error, when another node holds it. release unlocks and
// returns the connection; it is idempotent. If the connection dies the lock
// is gone with it, and the next TryRelayLock (here or elsewhere) wins it.
func (db *DB) TryRelayLock(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, wrap("relay lock: acquire connection", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, relayLockKey).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, wrap("relay lock", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var unlocked bool
			err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, relayLockKey).Scan(&unlocked)
			if err != nil || !unlocked {
				// Closing the session is the only sure way to drop the lock.
				_ = conn.Conn().Close(ctx)
			}
			conn.Release()
		})
	}, true, nil
}
