package persistence

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Acquire makes node the owner of an event and returns its new epoch, one
// more than the last owner's (1 for the first). The UPDATE waits for any
// journal transaction that holds the ownership row FOR SHARE, and every
// later commit of the previous owner sees the new epoch and is fenced: from
// the moment Acquire returns, only the caller can extend the journal (I4).
func (db *DB) Acquire(ctx context.Context, eventID uuid.UUID, node string) (int64, error) {
	var epoch int64
	err := db.pool.QueryRow(ctx, `
		WITH acquired AS (
			INSERT INTO event_ownership (event_id, epoch, node, acquired_at) VALUES ($1, 1, $2, now())
			ON CONFLICT (event_id) DO UPDATE
				SET epoch = event_ownership.epoch + 1, node = EXCLUDED.node, acquired_at = now()
			RETURNING event_id, epoch, node, acquired_at)
		INSERT INTO ownership_history (event_id, epoch, node, acquired_at)
			SELECT event_id, epoch, node, acquired_at FROM acquired
		RETURNING epoch`, eventID, node).Scan(&epoch)
	if err != nil {
		return 0, wrap("acquire event", err)
	}
	return epoch, nil
}

// checkEpoch locks the event's ownership row FOR SHARE inside tx and
// returns ErrFenced unless epoch is current.
func checkEpoch(ctx context.Context, tx pgx.Tx, eventID uuid.UUID, epoch int64) error {
	var current int64
	err := tx.QueryRow(ctx, `SELECT epoch FROM event_ownership WHERE event_id = $1 FOR SHARE`, eventID).Scan(&current)
	if isNoRows(err) {
		return fmt.Errorf("persistence: event %s has no owner, epoch %d: %w", eventID, epoch, boxoffice.ErrFenced)
	}
	if err != nil {
		return wrap("check epoch", err)
	}
	if current != epoch {
		return fmt.Errorf("persistence: event %s epoch %d is stale (current %d): %w", eventID, epoch, current, boxoffice.ErrFenced)
	}
	return nil
}

// SaveSnapshot stores the event's state at version, fenced like the
// journal (ErrFenced if epoch is stale), and keeps only the two newest
// snapshots: the latest and one to fall back on. Saves of one event take
// turns (a transaction-scoped advisory lock on the event): two concurrent
// saves, each pruning what it saw, would otherwise keep three or more.
func (db *DB) SaveSnapshot(ctx context.Context, eventID uuid.UUID, epoch int64, version uint64, state []byte) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap("save snapshot: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, snapshotLockKey(eventID)); err != nil {
		return wrap("save snapshot: lock", err)
	}
	if err := checkEpoch(ctx, tx, eventID, epoch); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO snapshots (event_id, version, epoch, state) VALUES ($1, $2, $3, $4)
		ON CONFLICT (event_id, version) DO UPDATE SET epoch = EXCLUDED.epoch, state = EXCLUDED.state, created_at = now()`,
		eventID, int64(version), epoch, state)
	if err != nil {
		return wrap("save snapshot", err)
	}
	_, err = tx.Exec(ctx, `
		DELETE FROM snapshots WHERE event_id = $1 AND version < (
			SELECT min(version) FROM (
				SELECT version FROM snapshots WHERE event_id = $1 ORDER BY version DESC LIMIT 2) AS newest)`,
		eventID)
	if err != nil {
		return wrap("save snapshot: prune", err)
	}
	return wrap("save snapshot: commit", tx.Commit(ctx))
}

// snapshotLockKey is the advisory lock key of an event's snapshot saves:
// the event ID's first 8 bytes, with a fixed tag in the top byte so the key
// space is told apart from any other advisory lock.
func snapshotLockKey(eventID uuid.UUID) int64 {
	return int64(binary.BigEndian.Uint64(eventID[:8])&^(0xff<<56) | 0x5e<<56)
}

// LatestSnapshot returns the newest snapshot of an event; ok is false when
// there is none (replay then starts from version 0).
func (db *DB) LatestSnapshot(ctx context.Context, eventID uuid.UUID) (version uint64, state []byte, ok bool, err error) {
	var v int64
	err = db.pool.QueryRow(ctx, `
		SELECT version, state FROM snapshots WHERE event_id = $1 ORDER BY version DESC LIMIT 1`, eventID).
		Scan(&v, &state)
	if isNoRows(err) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, wrap("read snapshot", err)
	}
	return uint64(v), state, true, nil
}

// SnapshotBefore returns the newest snapshot of an event older than
// version before; ok is false when there is none. An activation that
// finds the latest snapshot unusable falls back on the older one kept
// beside it (SaveSnapshot keeps two), then on a full replay.
func (db *DB) SnapshotBefore(ctx context.Context, eventID uuid.UUID, before uint64) (version uint64, state []byte, ok bool, err error) {
	if before > math.MaxInt64 {
		before = math.MaxInt64
	}
	var v int64
	err = db.pool.QueryRow(ctx, `
		SELECT version, state FROM snapshots WHERE event_id = $1 AND version < $2 ORDER BY version DESC LIMIT 1`,
		eventID, int64(before)).Scan(&v, &state)
	if isNoRows(err) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, wrap("read snapshot", err)
	}
	return uint64(v), state, true, nil
}
