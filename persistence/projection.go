package persistence

import (
	"context"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ boxoffice.BookingProjection = (*DB)(nil)

// projectionGuard lets a projected row replace only an in-progress row of
// an older version: the synchronous states (confirmed, refunded, failed)
// and anything newer stay as they are.
const projectionGuard = `bookings.status = 'in-progress' AND coalesce(bookings.version, 0) < EXCLUDED.version`

// ProjectBookings implements boxoffice.BookingProjection: the rows and the
// events' watermarks in one transaction (one pipelined round trip), so a
// watermark never runs ahead of the rows it covers.
func (db *DB) ProjectBookings(ctx context.Context, rows []boxoffice.ProjectedBooking, marks []boxoffice.ProjectionMark) error {
	b := &pgx.Batch{}
	queueBookingRows(b, rows, projectionGuard)
	if len(marks) > 0 {
		ids, versions := make([]pgtype.UUID, len(marks)), make([]int64, len(marks))
		for i, m := range marks {
			ids[i], versions[i] = pgUUID(m.EventID), int64(m.Version)
		}
		b.Queue(`INSERT INTO booking_projection (event_id, version)
			SELECT * FROM unnest($1::uuid[], $2::bigint[])
			ON CONFLICT (event_id) DO UPDATE SET version = greatest(booking_projection.version, EXCLUDED.version),
				updated_at = now()`, ids, versions)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return wrap("project bookings", err)
	}
	return nil
}

// ProjectionWatermark implements boxoffice.BookingProjection.
func (db *DB) ProjectionWatermark(ctx context.Context, eventID uuid.UUID) (uint64, bool, error) {
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT version FROM booking_projection WHERE event_id = $1`, eventID).Scan(&v)
	if isNoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("read projection watermark", err)
	}
	return uint64(v), true, nil
}

// ProjectionWatermarks returns every event's bookings projection watermark
// (`boxoffice check` judges the projection up to it).
func (a Audit) ProjectionWatermarks(ctx context.Context) (map[uuid.UUID]uint64, error) {
	rows, err := a.q.Query(ctx, `SELECT event_id, version FROM booking_projection`)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID]uint64{}
	var id uuid.UUID
	var v int64
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error { out[id] = uint64(v); return nil })
	return out, err
}

// EventsByFingerprint implements boxoffice.BookingProjection through the
// indexed events.booking_fp (migration 0640).
func (db *DB) EventsByFingerprint(ctx context.Context, fp int64) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM events WHERE booking_fp = $1`, fp)
	if err != nil {
		return nil, wrap("read events by fingerprint", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, wrap("read events by fingerprint", err)
	}
	return ids, nil
}
