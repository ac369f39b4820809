package persistence

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// PromoOverLimit is a promo code with more live uses (bookings in
// progress, payment-pending or confirmed with it) than its limit.
type PromoOverLimit struct {
	EventID uuid.UUID
	Code    string
	Limit   int
	Uses    int
}

// PromoOverLimit returns every promo code used by more live bookings than
// its limit allows (h19price; the event grain must never let that happen).
func (a Audit) PromoOverLimit(ctx context.Context) ([]PromoOverLimit, error) {
	rows, err := a.q.Query(ctx, `
		WITH codes AS (
			SELECT e.id AS event_id, p->>'code' AS code, (p->>'limit')::int AS lim
			FROM events e, jsonb_array_elements(e.pricing->'promo_codes') p
			WHERE e.pricing IS NOT NULL AND coalesce((p->>'limit')::int, 0) > 0
		)
		SELECT c.event_id, c.code, c.lim, count(*) FROM codes c
		JOIN bookings b ON b.event_id = c.event_id AND b.promo_code = c.code
		WHERE b.status IN ('in-progress', 'payment-pending', 'confirmed')
		GROUP BY 1, 2, 3 HAVING count(*) > c.lim`)
	if err != nil {
		return nil, err
	}
	var out []PromoOverLimit
	var o PromoOverLimit
	var uses int64
	_, err = pgx.ForEachRow(rows, []any{&o.EventID, &o.Code, &o.Limit, &uses}, func() error {
		o.Uses = int(uses)
		out = append(out, o)
		return nil
	})
	return out, err
}

// PriceMismatch is a booking whose price lines do not add up to its
// total.
type PriceMismatch struct {
	BookingID   uuid.UUID
	Total, Sum  int64
	PromoCode   string
	TicketTypes int
	Tickets     int
}

// PriceMismatches returns every booking whose price_lines do not add up
// to total_minor, or whose ticket_types are not one per ticket.
func (a Audit) PriceMismatches(ctx context.Context) ([]PriceMismatch, error) {
	rows, err := a.q.Query(ctx, `
		SELECT id, total_minor, coalesce(s.sum, 0), coalesce(promo_code, ''),
			coalesce(cardinality(ticket_types), 0), cardinality(ticket_ids)
		FROM bookings b
		LEFT JOIN LATERAL (SELECT sum((l->>'amount_minor')::bigint) AS sum
			FROM jsonb_array_elements(b.price_lines) l) s ON true
		WHERE (b.price_lines IS NOT NULL AND s.sum IS DISTINCT FROM b.total_minor)
			OR (b.ticket_types IS NOT NULL AND cardinality(b.ticket_types) <> cardinality(b.ticket_ids))`)
	if err != nil {
		return nil, err
	}
	var out []PriceMismatch
	var o PriceMismatch
	_, err = pgx.ForEachRow(rows, []any{&o.BookingID, &o.Total, &o.Sum, &o.PromoCode, &o.TicketTypes, &o.Tickets}, func() error {
		out = append(out, o)
		return nil
	})
	return out, err
}
