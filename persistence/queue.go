package persistence

import (
	"context"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

// OpenQueue takes ownership of an event's waiting room for a new grain
// activation: it creates the room's row on first use and otherwise bumps
// its epoch, which fences off every older activation. It returns the room
// as stored, with the new epoch.
func (db *DB) OpenQueue(ctx context.Context, eventID uuid.UUID) (boxoffice.QueueRoom, error) {
	var r boxoffice.QueueRoom
	err := db.pool.QueryRow(ctx, `
		INSERT INTO queue_rooms (event_id) VALUES ($1)
		ON CONFLICT (event_id) DO UPDATE SET epoch = queue_rooms.epoch + 1
		RETURNING epoch, next_seq, admitted_upto, admitted_at, period, period_base`, eventID,
	).Scan(&r.Epoch, &r.NextSeq, &r.AdmittedUpto, &r.AdmittedAt, &r.Period, &r.PeriodBase)
	if err != nil {
		return boxoffice.QueueRoom{}, wrap("open queue", err)
	}
	r.AdmittedAt = r.AdmittedAt.UTC()
	return r, nil
}

// QueueEntries calls fn with every place of the event's waiting room in
// seq order, streaming so that a room of a million places is never held
// twice in memory. An error from fn stops the scan and is returned.
func (db *DB) QueueEntries(ctx context.Context, eventID uuid.UUID, fn func(boxoffice.QueueEntry) error) error {
	rows, err := db.pool.Query(ctx,
		`SELECT user_id, seq FROM queue_entries WHERE event_id = $1 ORDER BY seq`, eventID)
	if err != nil {
		return wrap("read queue", err)
	}
	defer rows.Close()
	var e boxoffice.QueueEntry
	for rows.Next() {
		if err := rows.Scan(&e.UserID, &e.Seq); err != nil {
			return wrap("read queue", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return wrap("read queue", rows.Err())
}

// AppendQueue durably records a batch of places, new ones and re-joins
// (a user's row then moves to its new seq), and raises the room's next_seq,
// watermark and period to room's values (never lowers them, so it may
// overlap with AdmitQueue), all in one statement fenced by room.Epoch. It returns
// ErrFenced when another activation owns the room; nothing is written then.
func (db *DB) AppendQueue(ctx context.Context, eventID uuid.UUID, room boxoffice.QueueRoom, entries []boxoffice.QueueEntry) error {
	users := make([]uuid.UUID, len(entries))
	seqs := make([]int64, len(entries))
	for i, e := range entries {
		users[i], seqs[i] = e.UserID, e.Seq
	}
	var fenced bool
	err := db.pool.QueryRow(ctx, `
		WITH room AS (
			UPDATE queue_rooms SET
				next_seq = GREATEST(next_seq, $3),
				admitted_at = CASE WHEN $4 > admitted_upto THEN $5 ELSE admitted_at END,
				admitted_upto = GREATEST(admitted_upto, $4),
				period_base = CASE WHEN $8 > period THEN $9 ELSE period_base END,
				period = GREATEST(period, $8)
			WHERE event_id = $1 AND epoch = $2
			RETURNING 1
		), ins AS (
			INSERT INTO queue_entries (event_id, user_id, seq)
			SELECT $1, u, s FROM unnest($6::uuid[], $7::bigint[]) AS t(u, s)
			WHERE EXISTS (SELECT 1 FROM room)
			ON CONFLICT (event_id, user_id) DO UPDATE SET seq = EXCLUDED.seq
			RETURNING 1
		)
		SELECT NOT EXISTS (SELECT 1 FROM room)`,
		eventID, room.Epoch, room.NextSeq, room.AdmittedUpto, room.AdmittedAt, users, seqs,
		room.Period, room.PeriodBase,
	).Scan(&fenced)
	if err != nil {
		return wrap("append queue", err)
	}
	if fenced {
		return boxoffice.ErrFenced
	}
	return nil
}

// AdmitQueue raises the room's watermark to room.AdmittedUpto (never
// lowers it) and records when (room.AdmittedAt), with the period it
// belongs to (room.Period, room.PeriodBase), fenced by room.Epoch; NextSeq
// is not written. The grain calls it before it hands out the admission
// tokens the new watermark implies, so a failover never takes an admission
// back nor moves the start of a period. It returns ErrFenced when another
// activation owns the room.
func (db *DB) AdmitQueue(ctx context.Context, eventID uuid.UUID, room boxoffice.QueueRoom) error {
	tag, err := db.pool.Exec(ctx, `
		UPDATE queue_rooms SET
			admitted_at = CASE WHEN $3 > admitted_upto THEN $4 ELSE admitted_at END,
			admitted_upto = GREATEST(admitted_upto, $3),
			period_base = CASE WHEN $5 > period THEN $6 ELSE period_base END,
			period = GREATEST(period, $5)
		WHERE event_id = $1 AND epoch = $2`,
		eventID, room.Epoch, room.AdmittedUpto, room.AdmittedAt, room.Period, room.PeriodBase)
	if err != nil {
		return wrap("admit queue", err)
	}
	if tag.RowsAffected() == 0 {
		return boxoffice.ErrFenced
	}
	return nil
}
