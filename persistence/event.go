package persistence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TopicListing is the outbox topic of catalog changes; each payload is one
// boxoffice.Listing as JSON.
const TopicListing = "listing"

// querier is what both the pool and a transaction offer, so that reads can
// run inside or outside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// EventPatch is a partial update of an event; nil fields stay as they are.
type EventPatch struct {
	Name        *string
	Description *string
	StartsAt    *time.Time
	WaitingRoom *boxoffice.WaitingRoom
	// The sale rules (API.md): a limit of 0 means no limit.
	MaxTicketsPerUser *int
	SaleStartsAt      *time.Time
	SaleEndsAt        *time.Time
	RefundUntil       *time.Time
	// Pricing replaces the event's ticket types, fees and promo codes
	// (h19price); types may only be appended (Pricing.Validate).
	Pricing *boxoffice.Pricing
}

// CreateEvent stores an event and one ticket per seat of its venue, laid
// out by boxoffice.Event.Tickets and written with COPY, and queues its
// listing in the outbox, all in one transaction. It returns the event, the
// number of tickets, and whether it was created: like CreateVenue it is
// idempotent by ID (same body: the stored event and false; another body:
// invalid_argument on "id"). An unknown venue or performer is not_found,
// prices that do not cover the venue's sections are invalid_argument.
func (db *DB) CreateEvent(ctx context.Context, e boxoffice.Event) (boxoffice.Event, int, bool, error) {
	if err := e.Validate(); err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	e.StartsAt = dbTime(e.StartsAt)
	e.SaleStartsAt, e.SaleEndsAt, e.RefundUntil = dbTimeOrZero(e.SaleStartsAt), dbTimeOrZero(e.SaleEndsAt), dbTimeOrZero(e.RefundUntil)
	hash := eventHash(e)
	limit := e.TicketLimit()
	e.MaxTicketsPerUser = &limit
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return boxoffice.Event{}, 0, false, wrap("create event: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	n, created, err := createEventTx(ctx, tx, &e, hash)
	if err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	if !created {
		_ = tx.Rollback(ctx)
		return db.existingEvent(ctx, e.ID, e.OrgID, hash)
	}
	if err := tx.Commit(ctx); err != nil {
		return boxoffice.Event{}, 0, false, wrap("create event: commit", err)
	}
	return e, n, true, nil
}

// createEventTx inserts the event, its tickets and its outbox row; created
// is false when the ID already exists (nothing is written then).
func createEventTx(ctx context.Context, tx pgx.Tx, e *boxoffice.Event, hash []byte) (int, bool, error) {
	venue, _, err := venueQ(ctx, tx, e.VenueID)
	if err != nil {
		return 0, false, err
	}
	if _, _, err := performerQ(ctx, tx, e.PerformerID); err != nil {
		return 0, false, err
	}
	if err := e.PricesCover(venue.SeatMap); err != nil {
		return 0, false, err
	}
	if err := e.Pricing.Validate(sectionNames(venue.SeatMap), nil); err != nil {
		return 0, false, err
	}
	if err := ensureOrg(ctx, tx, e.OrgID); err != nil {
		return 0, false, err
	}
	var created time.Time
	err = tx.QueryRow(ctx, `
		INSERT INTO events (id, name, type, description, starts_at, venue_id, performer_id, currency,
			prices, waiting_room_enabled, waiting_room_rate, body_hash,
			max_tickets_per_user, sale_starts_at, sale_ends_at, refund_until, org_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (id) DO NOTHING
		RETURNING created_at`,
		e.ID, e.Name, e.Type, e.Description, e.StartsAt, e.VenueID, e.PerformerID, e.Currency,
		e.Prices, e.WaitingRoom.Enabled, e.WaitingRoom.RatePerSecond, hash,
		e.TicketLimit(), pgTime(e.SaleStartsAt), pgTime(e.SaleEndsAt), pgTime(e.RefundUntil), nullID(e.OrgID)).Scan(&created)
	if isNoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("create event", err)
	}
	e.CreatedAt, e.Revision = created.UTC(), 1
	if err := savePricing(ctx, tx, e.ID, e.Pricing); err != nil {
		return 0, false, err
	}
	n, err := copyTickets(ctx, tx, e.Tickets(venue.SeatMap))
	if err != nil {
		return 0, false, err
	}
	if err := queueListing(ctx, tx, e.ID); err != nil {
		return 0, false, err
	}
	return n, true, nil
}

func copyTickets(ctx context.Context, tx pgx.Tx, ts []boxoffice.Ticket) (int, error) {
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"tickets"},
		[]string{"event_id", "idx", "ticket_id", "section", "row", "seat", "price_minor", "currency"},
		pgx.CopyFromSlice(len(ts), func(i int) ([]any, error) {
			t := &ts[i]
			return []any{t.EventID, int32(t.Index), t.ID, t.Section, t.Row, int32(t.Seat), int64(t.Price), t.Currency}, nil
		}))
	if err != nil {
		return 0, wrap("create event: copy tickets", err)
	}
	return int(n), nil
}

// existingEvent answers a creation whose ID is taken.
func (db *DB) existingEvent(ctx context.Context, id, org uuid.UUID, hash []byte) (boxoffice.Event, int, bool, error) {
	stored, storedHash, err := eventQ(ctx, db.pool, id, "")
	if err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	if !bytes.Equal(hash, storedHash) || stored.OrgID != org {
		return boxoffice.Event{}, 0, false, idReused("event", id)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE event_id = $1`, id).Scan(&n); err != nil {
		return boxoffice.Event{}, 0, false, wrap("count tickets", err)
	}
	return stored, n, false, nil
}

// UpdateEvent applies patch, bumps the event's revision and queues the new
// listing in the outbox, in one transaction. The creation body hash is
// kept, so a late retry of the original creation still returns 201 with
// the current event. Errors: not_found, invalid_argument, unavailable.
func (db *DB) UpdateEvent(ctx context.Context, id uuid.UUID, patch EventPatch) (boxoffice.Event, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return boxoffice.Event{}, wrap("update event: begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	e, _, err := eventQ(ctx, tx, id, "FOR UPDATE")
	if err != nil {
		return boxoffice.Event{}, err
	}
	oldTypes := e.Pricing.TicketTypes
	patch.apply(&e)
	if err := e.Validate(); err != nil {
		return boxoffice.Event{}, err
	}
	if patch.Pricing != nil {
		venue, _, err := venueQ(ctx, tx, e.VenueID)
		if err != nil {
			return boxoffice.Event{}, err
		}
		if err := e.Pricing.Validate(sectionNames(venue.SeatMap), oldTypes); err != nil {
			return boxoffice.Event{}, err
		}
		if err := savePricing(ctx, tx, id, e.Pricing); err != nil {
			return boxoffice.Event{}, err
		}
	}
	e.Revision++
	_, err = tx.Exec(ctx, `
		UPDATE events SET name = $2, description = $3, starts_at = $4, waiting_room_enabled = $5,
			waiting_room_rate = $6, waiting_room_period = $7, max_tickets_per_user = $8, sale_starts_at = $9,
			sale_ends_at = $10, refund_until = $11, revision = $12, updated_at = now()
		WHERE id = $1`,
		id, e.Name, e.Description, e.StartsAt, e.WaitingRoom.Enabled, e.WaitingRoom.RatePerSecond, e.WaitingRoom.Period,
		e.TicketLimit(), pgTime(e.SaleStartsAt), pgTime(e.SaleEndsAt), pgTime(e.RefundUntil), e.Revision)
	if err != nil {
		return boxoffice.Event{}, wrap("update event", err)
	}
	if err := queueListing(ctx, tx, id); err != nil {
		return boxoffice.Event{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return boxoffice.Event{}, wrap("update event: commit", err)
	}
	return e, nil
}

func (p EventPatch) apply(e *boxoffice.Event) {
	if p.Name != nil {
		e.Name = *p.Name
	}
	if p.Description != nil {
		e.Description = *p.Description
	}
	if p.StartsAt != nil {
		e.StartsAt = dbTime(*p.StartsAt)
	}
	if p.WaitingRoom != nil {
		// Switching the room on starts a new period (the row is locked, so
		// two PATCHes cannot both start the same one); the patch's own
		// Period is ignored.
		was := e.WaitingRoom
		e.WaitingRoom = *p.WaitingRoom
		e.WaitingRoom.Period = was.Period
		if e.WaitingRoom.Enabled && !was.Enabled {
			e.WaitingRoom.Period++
		}
	}
	if p.MaxTicketsPerUser != nil {
		n := *p.MaxTicketsPerUser
		e.MaxTicketsPerUser = &n
	}
	if p.Pricing != nil {
		e.Pricing = *p.Pricing
	}
	for _, f := range []struct {
		to   *time.Time
		from *time.Time
	}{{&e.SaleStartsAt, p.SaleStartsAt}, {&e.SaleEndsAt, p.SaleEndsAt}, {&e.RefundUntil, p.RefundUntil}} {
		if f.from != nil {
			*f.to = dbTime(*f.from)
		}
	}
}

// Event returns an event, or a not_found error.
func (db *DB) Event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error) {
	e, _, err := eventQ(ctx, db.pool, id, "")
	return e, err
}

// eventQ reads an event and its creation hash; lock is "" or a locking
// clause such as "FOR UPDATE".
func eventQ(ctx context.Context, q querier, id uuid.UUID, lock string) (boxoffice.Event, []byte, error) {
	return scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1 `+lock, id), id)
}

// eventColumns are the columns scanEvent reads, in its order (the batched
// activation reads events with them too, persistence/activation.go).
const eventColumns = `name, type, description, starts_at, venue_id, performer_id, currency, prices,
			waiting_room_enabled, waiting_room_rate, waiting_room_period, body_hash,
			max_tickets_per_user, sale_starts_at, sale_ends_at, refund_until, cancelled_at, created_at, revision,
			org_id, pricing`

// scanEvent scans one row of eventColumns into event id.
func scanEvent(row pgx.Row, id uuid.UUID) (boxoffice.Event, []byte, error) {
	e := boxoffice.Event{ID: id}
	var hash []byte
	var limit int
	var saleStarts, saleEnds, refund, cancelled *time.Time
	var pricing []byte
	err := row.Scan(&e.Name, &e.Type, &e.Description, &e.StartsAt, &e.VenueID, &e.PerformerID, &e.Currency,
		&e.Prices, &e.WaitingRoom.Enabled, &e.WaitingRoom.RatePerSecond, &e.WaitingRoom.Period, &hash,
		&limit, &saleStarts, &saleEnds, &refund, &cancelled, &e.CreatedAt, &e.Revision,
		(*orgID)(&e.OrgID), &pricing)
	if err == nil && pricing != nil {
		if jerr := json.Unmarshal(pricing, &e.Pricing); jerr != nil {
			err = fmt.Errorf("event pricing: %w", jerr)
		}
	}
	e.MaxTicketsPerUser = &limit
	e.SaleStartsAt, e.SaleEndsAt = fromNullTime(saleStarts), fromNullTime(saleEnds)
	e.RefundUntil, e.CancelledAt = fromNullTime(refund), fromNullTime(cancelled)
	e.CreatedAt = e.CreatedAt.UTC()
	if isNoRows(err) {
		return boxoffice.Event{}, nil, notFound("event", id)
	}
	if err != nil {
		return boxoffice.Event{}, nil, wrap("read event", err)
	}
	e.StartsAt = e.StartsAt.UTC()
	return e, hash, nil
}

// Tickets returns an event's tickets in flat-index order, or not_found for
// an unknown event.
func (db *DB) Tickets(ctx context.Context, eventID uuid.UUID) ([]boxoffice.Ticket, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT idx, ticket_id, section, "row", seat, price_minor, currency
		FROM tickets WHERE event_id = $1 ORDER BY idx`, eventID)
	if err != nil {
		return nil, wrap("read tickets", err)
	}
	var out []boxoffice.Ticket
	for rows.Next() {
		t := boxoffice.Ticket{EventID: eventID}
		var price int64
		if err := rows.Scan(&t.Index, &t.ID, &t.Section, &t.Row, &t.Seat, &price, &t.Currency); err != nil {
			rows.Close()
			return nil, wrap("read tickets", err)
		}
		t.Price = boxoffice.Money(price)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read tickets", err)
	}
	if len(out) == 0 {
		if _, _, err := eventQ(ctx, db.pool, eventID, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// savePricing stores an event's pricing (NULL for none; h19price).
func savePricing(ctx context.Context, tx pgx.Tx, id uuid.UUID, p boxoffice.Pricing) error {
	var j *string
	if p.Typed() {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("event pricing: %w", err)
		}
		s := string(b)
		j = &s
	}
	if _, err := tx.Exec(ctx, `UPDATE events SET pricing = $2::jsonb WHERE id = $1`, id, j); err != nil {
		return wrap("save event pricing", err)
	}
	return nil
}

// sectionNames lists a seat map's section names.
func sectionNames(m boxoffice.SeatMap) []string {
	out := make([]string, len(m.Sections))
	for k, s := range m.Sections {
		out[k] = s.Name
	}
	return out
}
