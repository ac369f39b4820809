package persistence

import (
	"bytes"
	"context"
	"strings"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CreateVenue stores a venue. The ID is the client's (a new one when it is
// uuid.Nil), so a retried request creates nothing twice: the same ID with
// the same body returns the stored venue and created=false, and the same ID
// with another body is invalid_argument on field "id". Validation errors
// are invalid_argument; a lost connection is unavailable.
func (db *DB) CreateVenue(ctx context.Context, v boxoffice.Venue) (boxoffice.Venue, bool, error) {
	if err := v.Validate(); err != nil {
		return boxoffice.Venue{}, false, err
	}
	if v.ID == uuid.Nil {
		v.ID = uuid.New()
	}
	hash := venueHash(v)
	if err := ensureOrg(ctx, db.pool, v.OrgID); err != nil {
		return boxoffice.Venue{}, false, err
	}
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO venues (id, name, city, address, lat, lon, seat_map, capacity, body_hash, org_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO NOTHING`,
		v.ID, v.Name, v.City, v.Address, v.Location.Lat, v.Location.Lon,
		encodeSeatMap(v.SeatMap), v.SeatMap.Capacity(), hash, nullID(v.OrgID))
	if err != nil {
		return boxoffice.Venue{}, false, wrap("create venue", err)
	}
	if tag.RowsAffected() == 1 {
		return v, true, nil
	}
	stored, storedHash, err := venueQ(ctx, db.pool, v.ID)
	if err != nil {
		return boxoffice.Venue{}, false, err
	}
	if !bytes.Equal(hash, storedHash) || stored.OrgID != v.OrgID {
		return boxoffice.Venue{}, false, idReused("venue", v.ID)
	}
	return stored, false, nil
}

// Venue returns a venue, or a not_found error.
func (db *DB) Venue(ctx context.Context, id uuid.UUID) (boxoffice.Venue, error) {
	v, _, err := venueQ(ctx, db.pool, id)
	return v, err
}

func venueQ(ctx context.Context, q querier, id uuid.UUID) (boxoffice.Venue, []byte, error) {
	return scanVenue(q.QueryRow(ctx, `SELECT `+venueColumns+` FROM venues WHERE id = $1`, id), id)
}

// venueColumns are the columns scanVenue reads, in its order.
const venueColumns = `name, city, address, lat, lon, seat_map, body_hash, org_id`

// scanVenue scans one row of venueColumns into venue id.
func scanVenue(row pgx.Row, id uuid.UUID) (boxoffice.Venue, []byte, error) {
	v := boxoffice.Venue{ID: id}
	var sm seatMapJSON
	var hash []byte
	err := row.Scan(&v.Name, &v.City, &v.Address, &v.Location.Lat, &v.Location.Lon, &sm, &hash, (*orgID)(&v.OrgID))
	if isNoRows(err) {
		return boxoffice.Venue{}, nil, notFound("venue", id)
	}
	if err != nil {
		return boxoffice.Venue{}, nil, wrap("read venue", err)
	}
	v.SeatMap = sm.decode()
	return v, hash, nil
}

// CreatePerformer stores a performer, idempotent by ID like CreateVenue.
func (db *DB) CreatePerformer(ctx context.Context, p boxoffice.Performer) (boxoffice.Performer, bool, error) {
	if err := p.Validate(); err != nil {
		return boxoffice.Performer{}, false, err
	}
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	hash := performerHash(p)
	if err := ensureOrg(ctx, db.pool, p.OrgID); err != nil {
		return boxoffice.Performer{}, false, err
	}
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO performers (id, name, biography, body_hash, org_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`, p.ID, p.Name, p.Biography, hash, nullID(p.OrgID))
	if err != nil {
		return boxoffice.Performer{}, false, wrap("create performer", err)
	}
	if tag.RowsAffected() == 1 {
		return p, true, nil
	}
	stored, storedHash, err := performerQ(ctx, db.pool, p.ID)
	if err != nil {
		return boxoffice.Performer{}, false, err
	}
	if !bytes.Equal(hash, storedHash) || stored.OrgID != p.OrgID {
		return boxoffice.Performer{}, false, idReused("performer", p.ID)
	}
	return stored, false, nil
}

// Performer returns a performer, or a not_found error.
func (db *DB) Performer(ctx context.Context, id uuid.UUID) (boxoffice.Performer, error) {
	p, _, err := performerQ(ctx, db.pool, id)
	return p, err
}

func performerQ(ctx context.Context, q querier, id uuid.UUID) (boxoffice.Performer, []byte, error) {
	p := boxoffice.Performer{ID: id}
	var hash []byte
	err := q.QueryRow(ctx, `SELECT name, biography, body_hash, org_id FROM performers WHERE id = $1`, id).
		Scan(&p.Name, &p.Biography, &hash, (*orgID)(&p.OrgID))
	if isNoRows(err) {
		return boxoffice.Performer{}, nil, notFound("performer", id)
	}
	if err != nil {
		return boxoffice.Performer{}, nil, wrap("read performer", err)
	}
	return p, hash, nil
}

// UpsertUser records the user a token describes, so bookings can be
// joined with a name and email. The latest token wins; an email that
// belongs to another user ID is invalid_argument on field "email".
func (db *DB) UpsertUser(ctx context.Context, u boxoffice.User) error {
	if u.ID == uuid.Nil {
		return boxoffice.InvalidField("id", "user id is required")
	}
	var email *string
	if e := strings.TrimSpace(u.Email); e != "" {
		email = &e
	}
	// Two first sign-ins of one new user race: ON CONFLICT arbitrates on
	// the id only, so the loser can trip over the winner's email instead.
	// A second attempt then takes the update path; a violation that
	// survives it is a real clash with another user's email.
	var err error
	for range 2 {
		_, err = db.pool.Exec(ctx, `
			INSERT INTO users (id, email, name) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name
			WHERE users.email IS DISTINCT FROM EXCLUDED.email OR users.name <> EXCLUDED.name`,
			u.ID, email, u.Name)
		if pgCode(err) != codeUniqueViolation {
			return wrap("upsert user", err)
		}
	}
	return boxoffice.InvalidField("email", "email %s belongs to another user", u.Email)
}

// idReused is the answer to a creation that reuses an ID with a different
// body; API.md makes client-chosen IDs retry tokens, not update handles.
func idReused(kind string, id uuid.UUID) error {
	return boxoffice.InvalidField("id", "%s id %s is already used with a different body", kind, id)
}
