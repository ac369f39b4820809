package persistence

import (
	"context"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const listingSelect = `
	SELECT e.id, e.name, e.type, e.starts_at, e.venue_id, v.name, v.city, v.lat, v.lon,
		e.performer_id, p.name, e.prices, e.currency, v.capacity, e.revision,
		COALESCE(e.sale_starts_at, e.created_at), LEAST(COALESCE(e.sale_ends_at, e.starts_at), e.starts_at),
		e.cancelled_at IS NOT NULL
	FROM events e
	JOIN venues v ON v.id = e.venue_id
	JOIN performers p ON p.id = e.performer_id`

// Listings returns up to limit listings with event IDs greater than after,
// in ID order: keyset pages for rebuilding a search index from scratch
// (start with uuid.Nil, continue with the last ID of each page).
func (db *DB) Listings(ctx context.Context, after uuid.UUID, limit int) ([]boxoffice.Listing, error) {
	if limit <= 0 {
		return nil, boxoffice.InvalidField("limit", "limit must be positive")
	}
	rows, err := db.pool.Query(ctx, listingSelect+` WHERE e.id > $1 ORDER BY e.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrap("read listings", err)
	}
	out, err := pgx.CollectRows(rows, scanListing)
	if err != nil {
		return nil, wrap("read listings", err)
	}
	return out, nil
}

func scanListing(row pgx.CollectableRow) (boxoffice.Listing, error) {
	var l boxoffice.Listing
	var prices map[string]boxoffice.Money
	err := row.Scan(&l.EventID, &l.Name, &l.Type, &l.StartsAt, &l.VenueID, &l.VenueName, &l.City,
		&l.Location.Lat, &l.Location.Lon, &l.PerformerID, &l.PerformerName, &prices, &l.Currency,
		&l.Capacity, &l.Revision, &l.SaleStartsAt, &l.SaleEndsAt, &l.Cancelled)
	l.StartsAt, l.SaleStartsAt, l.SaleEndsAt = l.StartsAt.UTC(), l.SaleStartsAt.UTC(), l.SaleEndsAt.UTC()
	l.MinPrice = minPrice(prices)
	return l, err
}

// queueListing writes the event's current listing to the outbox inside the
// caller's transaction, so the change and its announcement commit together.
func queueListing(ctx context.Context, tx pgx.Tx, eventID uuid.UUID) error {
	rows, err := tx.Query(ctx, listingSelect+` WHERE e.id = $1`, eventID)
	if err != nil {
		return wrap("outbox: read listing", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanListing)
	if err != nil {
		return wrap("outbox: read listing", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (topic, payload) VALUES ($1, $2)`, TopicListing, l); err != nil {
		return wrap("outbox: insert", err)
	}
	return nil
}

// Availability returns the available seats of every event with a seat held
// or sold, from the booking rows: capacity minus sold seats minus seats in
// holds that have not run out. A node's search starts from it, because an
// idle event's grain reports its counts only when they change; events that
// are missing have all their seats available.
func (db *DB) Availability(ctx context.Context) (map[uuid.UUID]int, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT e.id, v.capacity - coalesce(s.n, 0) - coalesce(h.n, 0)
		FROM events e
		JOIN venues v ON v.id = e.venue_id
		LEFT JOIN (SELECT event_id, count(*) AS n FROM sold_seats GROUP BY event_id) s ON s.event_id = e.id
		LEFT JOIN (SELECT event_id, sum(cardinality(ticket_ids)) AS n FROM bookings
		           WHERE status = 'in-progress' AND expires_at > now() GROUP BY event_id) h ON h.event_id = e.id
		WHERE s.n IS NOT NULL OR h.n IS NOT NULL`)
	if err != nil {
		return nil, wrap("read availability", err)
	}
	out := map[uuid.UUID]int{}
	var id uuid.UUID
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		out[id] = n
		return nil
	})
	if err != nil {
		return nil, wrap("read availability", err)
	}
	return out, nil
}
