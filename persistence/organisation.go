package persistence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Organisations (API.md Roles): venues, performers, events and webhooks
// carry the org_id of the organisation that owns them; NULL is the shared
// catalog.

// ensureOrg records org (the token's org_id) the first time an organiser
// creates something; the rows' foreign keys need it. uuid.Nil is no
// organisation and needs nothing.
func ensureOrg(ctx context.Context, q querier, org uuid.UUID) error {
	if org == uuid.Nil {
		return nil
	}
	_, err := q.Exec(ctx, `INSERT INTO organisations (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, org)
	return wrap("record organisation", err)
}

// nullID stores uuid.Nil as NULL.
func nullID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// orgID scans a nullable uuid column, NULL as uuid.Nil.
type orgID uuid.UUID

// Scan implements sql.Scanner.
func (o *orgID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*o = orgID(uuid.Nil)
	case [16]byte:
		*o = orgID(v)
	case []byte:
		id, err := uuid.ParseBytes(v)
		if err != nil {
			return err
		}
		*o = orgID(id)
	case string:
		id, err := uuid.Parse(v)
		if err != nil {
			return err
		}
		*o = orgID(id)
	default:
		return fmt.Errorf("persistence: cannot scan %T into an org id", src)
	}
	return nil
}

// scopeWhere is the catalog filter of scope for table t: everything for an
// admin, else the organisation's rows and, where shared is true, the shared
// catalog's.
func scopeWhere(scope boxoffice.CatalogScope, shared bool) string {
	switch {
	case scope.All:
		return `($3::uuid IS NULL OR TRUE)`
	case shared:
		return `(org_id = $3 OR org_id IS NULL)`
	default:
		return `org_id = $3`
	}
}

// pageIDs returns up to limit ids of table after after, in id order,
// within scope.
func (db *DB) pageIDs(ctx context.Context, table string, scope boxoffice.CatalogScope, shared bool, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM `+table+` WHERE id > $1 AND `+scopeWhere(scope, shared)+
		` ORDER BY id LIMIT $2`, after, limit, scope.Org)
	if err != nil {
		return nil, wrap("list "+table, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, wrap("list "+table, err)
}

// ListVenues implements boxoffice.CatalogLister.
func (db *DB) ListVenues(ctx context.Context, scope boxoffice.CatalogScope, after uuid.UUID, limit int) ([]boxoffice.Venue, error) {
	ids, err := db.pageIDs(ctx, "venues", scope, true, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]boxoffice.Venue, 0, len(ids))
	for _, id := range ids {
		v, _, err := venueQ(ctx, db.pool, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ListPerformers implements boxoffice.CatalogLister.
func (db *DB) ListPerformers(ctx context.Context, scope boxoffice.CatalogScope, after uuid.UUID, limit int) ([]boxoffice.Performer, error) {
	ids, err := db.pageIDs(ctx, "performers", scope, true, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]boxoffice.Performer, 0, len(ids))
	for _, id := range ids {
		p, _, err := performerQ(ctx, db.pool, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ListEvents implements boxoffice.CatalogLister: an organiser sees its own
// organisation's events only.
func (db *DB) ListEvents(ctx context.Context, scope boxoffice.CatalogScope, after uuid.UUID, limit int) ([]boxoffice.Event, error) {
	ids, err := db.pageIDs(ctx, "events", scope, false, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]boxoffice.Event, 0, len(ids))
	for _, id := range ids {
		e, _, err := eventQ(ctx, db.pool, id, "")
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// UpdateVenue implements boxoffice.CatalogLister. The creation hash stays,
// as UpdateEvent keeps it; the venue's events' listings are queued again
// (search shows the venue's name and city).
func (db *DB) UpdateVenue(ctx context.Context, id uuid.UUID, p boxoffice.VenuePatch) (boxoffice.Venue, boxoffice.Venue, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT 1 FROM venues WHERE id = $1 FOR UPDATE`, id); err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue: lock", err)
	}
	before, _, err := venueQ(ctx, tx, id)
	if err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, err
	}
	after := before
	for _, f := range []struct {
		to   *string
		from *string
	}{{&after.Name, p.Name}, {&after.City, p.City}, {&after.Address, p.Address}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if p.Location != nil {
		after.Location = *p.Location
	}
	if err := after.Validate(); err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE venues SET name = $2, city = $3, address = $4, lat = $5, lon = $6 WHERE id = $1`,
		id, after.Name, after.City, after.Address, after.Location.Lat, after.Location.Lon); err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue", err)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM events WHERE venue_id = $1`, id)
	if err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue: events", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue: events", err)
	}
	for _, e := range events {
		if err := queueListing(ctx, tx, e); err != nil {
			return boxoffice.Venue{}, boxoffice.Venue{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return boxoffice.Venue{}, boxoffice.Venue{}, wrap("update venue: commit", err)
	}
	return before, after, nil
}

// UpdatePerformer implements boxoffice.CatalogLister, like UpdateVenue.
func (db *DB) UpdatePerformer(ctx context.Context, id uuid.UUID, p boxoffice.PerformerPatch) (boxoffice.Performer, boxoffice.Performer, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT 1 FROM performers WHERE id = $1 FOR UPDATE`, id); err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer: lock", err)
	}
	before, _, err := performerQ(ctx, tx, id)
	if err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, err
	}
	after := before
	if p.Name != nil {
		after.Name = *p.Name
	}
	if p.Biography != nil {
		after.Biography = *p.Biography
	}
	if err := after.Validate(); err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE performers SET name = $2, biography = $3 WHERE id = $1`, id, after.Name, after.Biography); err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer", err)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM events WHERE performer_id = $1`, id)
	if err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer: events", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer: events", err)
	}
	for _, e := range events {
		if err := queueListing(ctx, tx, e); err != nil {
			return boxoffice.Performer{}, boxoffice.Performer{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return boxoffice.Performer{}, boxoffice.Performer{}, wrap("update performer: commit", err)
	}
	return before, after, nil
}

// AppendAudit implements boxoffice.AuditLog.
func (db *DB) AppendAudit(ctx context.Context, e boxoffice.AuditEntry) error {
	roles := e.ActorRoles
	if roles == nil {
		roles = []string{}
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO audit_log (actor_id, actor_roles, org_id, action, target_type, target_id, before, after, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ActorID, roles, nullID(e.OrgID), e.Action, e.TargetType, e.TargetID, nullJSON(e.Before), nullJSON(e.After), e.RequestID)
	return wrap("append audit", err)
}

// nullJSON stores an empty document as NULL.
func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Audit implements boxoffice.AuditLog.
func (db *DB) Audit(ctx context.Context, org uuid.UUID, beforeID int64, limit int) ([]boxoffice.AuditEntry, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := db.pool.Query(ctx, `
		SELECT id, at, actor_id, actor_roles, org_id, action, target_type, target_id,
			coalesce(before::text, ''), coalesce(after::text, ''), request_id
		FROM audit_log WHERE id < $1 AND ($3::uuid IS NULL OR org_id = $3)
		ORDER BY id DESC LIMIT $2`, beforeID, limit, nullID(org))
	if err != nil {
		return nil, wrap("read audit", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (boxoffice.AuditEntry, error) {
		var e boxoffice.AuditEntry
		var at time.Time
		var before, after string
		err := r.Scan(&e.ID, &at, &e.ActorID, &e.ActorRoles, (*orgID)(&e.OrgID), &e.Action, &e.TargetType, &e.TargetID,
			&before, &after, &e.RequestID)
		e.At = at.UTC()
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		return e, err
	})
	return out, wrap("read audit", err)
}
