package persistence

import (
	"context"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Querier is what the audit reads through: a pool when `boxoffice check`
// runs, a transaction in tests that plant violations and roll them back.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Audit reads the evidence `boxoffice check` judges the invariants by
// (DESIGN.md "Invariants"). Each method returns the rows that break one
// rule, so a healthy database answers with nothing; the judging stays with
// the caller. The SQL lives here so that the schema has one owner.
type Audit struct {
	q Querier
}

// NewAudit reads through q.
func NewAudit(q Querier) Audit { return Audit{q: q} }

// BookingStatuses returns the status of each of ids that is in bookings
// (I2: an acknowledged hold or sale must be there). It asks in chunks, so
// a long history does not make one huge statement.
func (a Audit) BookingStatuses(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	status := make(map[uuid.UUID]string, len(ids))
	const chunk = 10000
	for i := 0; i < len(ids); i += chunk {
		rows, err := a.q.Query(ctx, `SELECT id, status FROM bookings WHERE id = ANY($1)`, ids[i:min(i+chunk, len(ids))])
		if err != nil {
			return nil, err
		}
		var id uuid.UUID
		var st string
		if _, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error { status[id] = st; return nil }); err != nil {
			return nil, err
		}
	}
	return status, nil
}

// SharedTicket is a ticket in more than one live booking (I1).
type SharedTicket struct {
	EventID, TicketID uuid.UUID
	Bookings          int
}

// SharedTickets returns every ticket in two or more live bookings.
func (a Audit) SharedTickets(ctx context.Context) ([]SharedTicket, error) {
	rows, err := a.q.Query(ctx, `SELECT event_id, t, count(*) FROM bookings, unnest(ticket_ids) t
		WHERE status IN ('in-progress', 'confirmed') GROUP BY event_id, t HAVING count(*) > 1`)
	if err != nil {
		return nil, err
	}
	var out []SharedTicket
	var s SharedTicket
	_, err = pgx.ForEachRow(rows, []any{&s.EventID, &s.TicketID, &s.Bookings}, func() error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// UnsoldSeat is a seat of a confirmed booking that sold_seats does not
// give to that booking: SoldTo is nil when the seat is not there at all.
type UnsoldSeat struct {
	BookingID, EventID, TicketID uuid.UUID
	SoldTo                       *uuid.UUID
}

// UnsoldSeats returns every seat of a confirmed booking missing from
// sold_seats or sold there to another booking (I1, I2).
func (a Audit) UnsoldSeats(ctx context.Context) ([]UnsoldSeat, error) {
	rows, err := a.q.Query(ctx, `SELECT b.id, b.event_id, t, s.booking_id FROM bookings b
		CROSS JOIN LATERAL unnest(b.ticket_ids) t
		LEFT JOIN sold_seats s ON s.event_id = b.event_id AND s.ticket_id = t
		WHERE b.status = 'confirmed' AND s.booking_id IS DISTINCT FROM b.id`)
	if err != nil {
		return nil, err
	}
	var out []UnsoldSeat
	var s UnsoldSeat
	_, err = pgx.ForEachRow(rows, []any{&s.BookingID, &s.EventID, &s.TicketID, &s.SoldTo}, func() error {
		out = append(out, s)
		s.SoldTo = nil
		return nil
	})
	return out, err
}

// Journal calls fn with every journal record, event by event in version
// order (as an event actor replays it on recovery), without holding them
// all in memory. Each row (one per commit) is split into its records; a
// row whose records do not match its version range is reported as an
// error. An error from fn stops the walk and is returned.
func (a Audit) Journal(ctx context.Context, fn func(eventID uuid.UUID, version int64, record []byte) error) error {
	rows, err := a.q.Query(ctx, `SELECT event_id, first_version, last_version, records FROM journal ORDER BY event_id, last_version`)
	if err != nil {
		return err
	}
	var (
		ev          uuid.UUID
		first, last int64
		data        []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&ev, &first, &last, &data}, func() error {
		return eachRecord(uint64(first), uint64(last), data, 0, func(e boxoffice.Entry) error {
			return fn(ev, int64(e.Version), e.Record)
		})
	})
	return err
}

// LateHold is a hold that ended more than the grace after its expiry, or
// is still held that long after it (I3).
type LateHold struct {
	BookingID uuid.UUID
	Status    string    // "expired", or "in-progress" while still held
	ExpiresAt time.Time // when the hold should have ended
	Ended     time.Time // when it was released; now while it is still held
	// Moved is the last time the event's ownership was acquired between
	// the expiry and the end (while an event moves nobody can release its
	// holds); nil when it did not move.
	Moved *time.Time
}

// LateHolds returns every hold released, or still held, more than grace
// after its expiry, as PostgreSQL saw it.
func (a Audit) LateHolds(ctx context.Context, grace time.Duration) ([]LateHold, error) {
	rows, err := a.q.Query(ctx, `SELECT b.id, b.status, b.expires_at,
			CASE WHEN b.status = 'expired' THEN b.updated_at ELSE now() END AS ended,
			(SELECT max(h.acquired_at) FROM ownership_history h
				WHERE h.event_id = b.event_id AND h.acquired_at > b.expires_at
				  AND h.acquired_at <= CASE WHEN b.status = 'expired' THEN b.updated_at ELSE now() END) AS moved
		FROM bookings b
		WHERE (b.status = 'expired' AND b.updated_at > b.expires_at + $1::interval)
		   OR (b.status = 'in-progress' AND b.expires_at < now() - $1::interval)`, grace.String())
	if err != nil {
		return nil, err
	}
	var out []LateHold
	var h LateHold
	_, err = pgx.ForEachRow(rows, []any{&h.BookingID, &h.Status, &h.ExpiresAt, &h.Ended, &h.Moved}, func() error {
		out = append(out, h)
		h.Moved = nil
		return nil
	})
	return out, err
}

// UnpaidSale is a confirmed booking without a succeeded charge of its own
// total (I7). Status is the payment's, "none" without a payment row.
type UnpaidSale struct {
	BookingID     uuid.UUID
	Total, Amount int64 // minor units: the booking's total, the payment's amount
	Status        string
}

// UnpaidSales returns every confirmed booking whose payment did not
// succeed, is of another amount, or has no charge id.
func (a Audit) UnpaidSales(ctx context.Context) ([]UnpaidSale, error) {
	rows, err := a.q.Query(ctx, `SELECT b.id, b.total_minor, coalesce(p.status, 'none'), coalesce(p.amount_minor, 0)
		FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id
		WHERE b.status = 'confirmed' AND (p.status IS DISTINCT FROM 'succeeded' OR p.amount_minor <> b.total_minor
			OR p.charge_id = '')`)
	if err != nil {
		return nil, err
	}
	var out []UnpaidSale
	var s UnpaidSale
	_, err = pgx.ForEachRow(rows, []any{&s.BookingID, &s.Total, &s.Status, &s.Amount}, func() error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// SharedCharge is one provider charge that paid for several bookings (I6).
type SharedCharge struct {
	ChargeID string
	Bookings int
}

// SharedCharges returns every succeeded charge id on two or more payments.
func (a Audit) SharedCharges(ctx context.Context) ([]SharedCharge, error) {
	rows, err := a.q.Query(ctx, `SELECT charge_id, count(*) FROM payments
		WHERE status = 'succeeded' AND charge_id <> '' GROUP BY charge_id HAVING count(*) > 1`)
	if err != nil {
		return nil, err
	}
	var out []SharedCharge
	var s SharedCharge
	_, err = pgx.ForEachRow(rows, []any{&s.ChargeID, &s.Bookings}, func() error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// UnfinishedRefund is a refunded booking whose refund did not finish in
// the same transaction as its status: Problem says what is left.
type UnfinishedRefund struct {
	BookingID uuid.UUID
	Problem   string
}

// UnfinishedRefunds returns every refunded booking that still has a seat in
// sold_seats (its sale did not end: I1 would let the seat be sold to two
// live bookings) or whose refund is not recorded as done.
func (a Audit) UnfinishedRefunds(ctx context.Context) ([]UnfinishedRefund, error) {
	rows, err := a.q.Query(ctx, `SELECT b.id, 'a seat is still in sold_seats' FROM bookings b
			WHERE b.status = 'refunded' AND EXISTS (SELECT 1 FROM sold_seats s WHERE s.booking_id = b.id)
		UNION ALL
		SELECT b.id, 'its refund is not recorded as done' FROM bookings b
			LEFT JOIN refunds r ON r.booking_id = b.id
			WHERE b.status = 'refunded' AND r.refunded_at IS NULL`)
	if err != nil {
		return nil, err
	}
	var out []UnfinishedRefund
	var r UnfinishedRefund
	_, err = pgx.ForEachRow(rows, []any{&r.BookingID, &r.Problem}, func() error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// PaidUnsold is a succeeded charge whose booking holds no sale and was not
// refunded (I7: money taken, no seats). Status is the booking's, "none"
// when the payment has no booking row.
type PaidUnsold struct {
	BookingID uuid.UUID
	ChargeID  string
	Amount    int64 // minor units
	Status    string
}

// PaidUnsolds returns every succeeded payment whose booking is neither
// confirmed nor refunded nor still in progress. A booking in progress with
// a succeeded payment is the legitimate moment between the charge's commit
// (FinishPayment) and the sale's: its hold stays pinned until the grain, or
// the next activation's settlement, sells it; a succeeded payment is never
// voided afterwards. So only a booking that ended without its sale
// (expired, failed, cancelled) or that does not exist is money taken for
// nothing, whenever the audit runs. A hold stuck in progress past its
// expiry is reported by LateHolds instead.
func (a Audit) PaidUnsolds(ctx context.Context) ([]PaidUnsold, error) {
	rows, err := a.q.Query(ctx, `SELECT p.booking_id, p.charge_id, p.amount_minor, coalesce(b.status, 'none')
		FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id
		WHERE p.status = 'succeeded' AND b.status IS DISTINCT FROM 'confirmed' AND b.status IS DISTINCT FROM 'refunded'
			AND b.status IS DISTINCT FROM 'in-progress'`)
	if err != nil {
		return nil, err
	}
	var out []PaidUnsold
	var p PaidUnsold
	_, err = pgx.ForEachRow(rows, []any{&p.BookingID, &p.ChargeID, &p.Amount, &p.Status}, func() error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// OverCapacity is a standing section with more places in live bookings
// than its capacity, or (Section empty) a live booking's ticket that is
// not one of its event's tickets (a place or seat past the venue).
type OverCapacity struct {
	EventID  uuid.UUID
	Section  string
	Capacity int
	Taken    int
	// BookingID and TicketID name the foreign ticket when Section is "".
	BookingID, TicketID uuid.UUID
}

// OverCapacity returns every standing section whose held and sold places
// (tickets of in-progress and confirmed bookings) exceed its capacity, and
// every live booking's ticket that its event does not have.
func (a Audit) OverCapacity(ctx context.Context) ([]OverCapacity, error) {
	rows, err := a.q.Query(ctx, `
		WITH areas AS (
			SELECT e.id AS event_id, s->>'name' AS section, (s->>'standing')::int AS capacity
			FROM events e JOIN venues v ON v.id = e.venue_id, jsonb_array_elements(v.seat_map->'sections') s
			WHERE coalesce((s->>'standing')::int, 0) > 0
		), taken AS (
			SELECT b.event_id, t.section, count(*) AS n
			FROM bookings b, unnest(b.ticket_ids) tid, tickets t
			WHERE b.status IN ('in-progress', 'confirmed') AND t.ticket_id = tid AND t.event_id = b.event_id
			AND b.event_id IN (SELECT event_id FROM areas)
			GROUP BY 1, 2
		)
		SELECT a.event_id, a.section, a.capacity, t.n FROM areas a JOIN taken t USING (event_id, section)
		WHERE t.n > a.capacity`)
	if err != nil {
		return nil, err
	}
	var out []OverCapacity
	var o OverCapacity
	var taken int64
	if _, err := pgx.ForEachRow(rows, []any{&o.EventID, &o.Section, &o.Capacity, &taken}, func() error {
		o.Taken = int(taken)
		out = append(out, o)
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err = a.q.Query(ctx, `SELECT b.event_id, b.id, tid FROM bookings b, unnest(b.ticket_ids) tid
		WHERE b.status IN ('in-progress', 'confirmed')
		AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.ticket_id = tid AND t.event_id = b.event_id)`)
	if err != nil {
		return nil, err
	}
	o = OverCapacity{}
	if _, err := pgx.ForEachRow(rows, []any{&o.EventID, &o.BookingID, &o.TicketID}, func() error {
		out = append(out, o)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}
