package persistence

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

var _ boxoffice.ActivationLoader = (*DB)(nil)

// LoadActivations implements boxoffice.ActivationLoader: one pipelined
// round trip (one implicit transaction, one WAL flush) takes the epochs of
// every event of ids that exists, exactly as Acquire does one (the UPDATE
// waits for the old owner's journal transactions, which hold the rows FOR
// SHARE, and fences every later one, I4), and only then reads their rows,
// snapshots, journal tails (all in one statement, so a tail always starts
// at the snapshot it was read with), Idempotency-Key claims, bookings
// projection watermarks, pending payments and owed refunds. The ownership rows are taken in event-ID order,
// the order in which journal transactions lock them FOR SHARE.
func (db *DB) LoadActivations(ctx context.Context, ids []uuid.UUID, node string, claimsSince time.Time) (map[uuid.UUID]*boxoffice.ActivationLoad, error) {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	b.Queue(`
		WITH acquired AS (
			INSERT INTO event_ownership (event_id, epoch, node, acquired_at)
				SELECT id, 1, $2, now() FROM events WHERE id = ANY($1::uuid[]) ORDER BY id
			ON CONFLICT (event_id) DO UPDATE
				SET epoch = event_ownership.epoch + 1, node = EXCLUDED.node, acquired_at = now()
			RETURNING event_id, epoch, node, acquired_at)
		INSERT INTO ownership_history (event_id, epoch, node, acquired_at)
			SELECT event_id, epoch, node, acquired_at FROM acquired
		RETURNING event_id, epoch`, ids, node)
	b.Queue(`SELECT id, `+eventColumns+` FROM events WHERE id = ANY($1::uuid[])`, ids)
	b.Queue(`SELECT id, `+venueColumns+` FROM venues
		WHERE id IN (SELECT venue_id FROM events WHERE id = ANY($1::uuid[]))`, ids)
	b.Queue(`
		WITH snap AS (
			SELECT DISTINCT ON (event_id) event_id, version, state FROM snapshots
			WHERE event_id = ANY($1::uuid[]) ORDER BY event_id, version DESC)
		SELECT event_id, 0 AS kind, version, version AS last, state FROM snap
		UNION ALL
		SELECT j.event_id, 1, j.first_version, j.last_version, j.records
		FROM journal j LEFT JOIN snap ON snap.event_id = j.event_id
		WHERE j.event_id = ANY($1::uuid[]) AND j.last_version > COALESCE(snap.version, 0)
		ORDER BY 1, 2, 4`, ids)
	b.Queue(`
		SELECT k.user_id, k.idem_key, k.fingerprint, k.event_id, k.booking_id, k.created_at
		FROM reserve_idempotency k JOIN bookings b ON b.id = k.booking_id AND b.user_id = k.user_id
		WHERE k.event_id = ANY($1::uuid[]) AND k.created_at > $2
		ORDER BY k.event_id, k.created_at`, ids, claimsSince)
	b.Queue(`SELECT event_id, version FROM booking_projection WHERE event_id = ANY($1::uuid[])`, ids)
	b.Queue(`SELECT `+paymentColumns+` FROM payments
		WHERE event_id = ANY($1::uuid[]) AND status = 'pending' ORDER BY event_id, booking_id`, ids)
	b.Queue(`SELECT event_id, booking_id FROM refunds WHERE event_id = ANY($1::uuid[]) AND refunded_at IS NULL
		ORDER BY event_id, requested_at, booking_id`, ids)

	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	out := make(map[uuid.UUID]*boxoffice.ActivationLoad, len(ids))
	var id uuid.UUID
	var n int64
	if err := each(br, "claim", []any{&id, &n}, func() error {
		out[id] = &boxoffice.ActivationLoad{Epoch: n}
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrap("activate events: read events", err)
	}
	for rows.Next() {
		ev, _, err := scanEvent(prefixRow{rows, &id}, uuid.Nil)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if a := out[id]; a != nil {
			ev.ID = id
			a.Event = ev
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("activate events: read events", err)
	}
	venues := map[uuid.UUID]boxoffice.Venue{}
	if rows, err = br.Query(); err != nil {
		return nil, wrap("activate events: read venues", err)
	}
	for rows.Next() {
		v, _, err := scanVenue(prefixRow{rows, &id}, uuid.Nil)
		if err != nil {
			rows.Close()
			return nil, err
		}
		v.ID = id
		venues[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("activate events: read venues", err)
	}
	var first, last int64
	var data []byte
	if err := each(br, "read snapshots and journal", []any{&id, &n, &first, &last, &data}, func() error {
		a := out[id]
		if a == nil {
			return nil
		}
		if n == 0 {
			a.SnapshotVersion, a.Snapshot, a.HasSnapshot = uint64(first), slices.Clone(data), true
			return nil
		}
		return eachRecord(uint64(first), uint64(last), slices.Clone(data), a.SnapshotVersion+1, func(e boxoffice.Entry) error {
			a.Journal = append(a.Journal, e)
			return nil
		})
	}); err != nil {
		return nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, wrap("activate events: read claimed holds", err)
	}
	claims, err := pgx.CollectRows(rows, scanClaim)
	if err != nil {
		return nil, wrap("activate events: read claimed holds", err)
	}
	for _, c := range claims {
		if a := out[c.EventID]; a != nil {
			a.Claims = append(a.Claims, c)
		}
	}
	if err := each(br, "read projection watermarks", []any{&id, &n}, func() error {
		if a := out[id]; a != nil {
			a.Watermark, a.Projected = uint64(n), true
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, wrap("activate events: read pending payments", err)
	}
	pending, err := pgx.CollectRows(rows, scanPayment)
	if err != nil {
		return nil, wrap("activate events: read pending payments", err)
	}
	for _, p := range pending {
		if a := out[p.EventID]; a != nil {
			a.Pending = append(a.Pending, p)
		}
	}
	var booking uuid.UUID
	if err := each(br, "read owed refunds", []any{&id, &booking}, func() error {
		if a := out[id]; a != nil {
			a.OwedRefunds = append(a.OwedRefunds, booking)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for id, a := range out {
		v, ok := venues[a.Event.VenueID]
		if !ok || a.Event.ID != id {
			return nil, fmt.Errorf("persistence: activate event %s: its event or venue row is missing", id)
		}
		a.Venue = v
	}
	return out, wrap("activate events", br.Close())
}

// each reads the next result of br into dest row by row, calling fn after
// each row.
func each(br pgx.BatchResults, what string, dest []any, fn func() error) error {
	rows, err := br.Query()
	if err != nil {
		return wrap("activate events: "+what, err)
	}
	if _, err := pgx.ForEachRow(rows, dest, fn); err != nil {
		return wrap("activate events: "+what, err)
	}
	return nil
}

// prefixRow scans a row whose first column is an ID into id and the rest
// into the destinations its Scan is given, so that the single-row scanners
// (scanEvent, scanVenue) read the rows of a query over many IDs.
type prefixRow struct {
	rows pgx.Rows
	id   *uuid.UUID
}

func (r prefixRow) Scan(dest ...any) error { return r.rows.Scan(append([]any{r.id}, dest...)...) }
