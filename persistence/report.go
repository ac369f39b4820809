package persistence

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

// Reports (API.md Roles): an event's figures from its booking rows. A sale
// is a booking confirmed, or refunded since; the partial index
// bookings_event_sales (migration 0620) finds them among the event's
// ended holds. Each figure is read by its own function, so a new column
// (a ticket's type, a fee line, a promo code) changes one query.

// saleStatuses is the SQL list of the statuses of a sale.
const saleStatuses = `('confirmed', 'refunded')`

// EventReport reads the event's figures; CheckIns is left zero (the seat
// engine owns admissions). The event must exist (not_found).
func (db *DB) EventReport(ctx context.Context, eventID uuid.UUID, bucket boxoffice.ReportBucket) (boxoffice.EventReport, error) {
	r := boxoffice.EventReport{EventID: eventID, Bucket: bucket}
	if err := db.pool.QueryRow(ctx, `SELECT currency FROM events WHERE id = $1`, eventID).Scan(&r.Currency); err != nil {
		if isNoRows(err) {
			return r, notFound("event", eventID)
		}
		return r, wrap("report: event", err)
	}
	var err error
	if r.Sections, err = reportSections(ctx, db.pool, eventID); err != nil {
		return r, err
	}
	if r.Buckets, err = reportBuckets(ctx, db.pool, eventID, bucket); err != nil {
		return r, err
	}
	for _, b := range r.Buckets {
		addFigure(&r.Sold, b.Sold)
		addFigure(&r.Refunded, b.Refunded)
	}
	r.Revenue = r.Sold.Amount - r.Refunded.Amount
	if r.Types, err = reportTypes(ctx, db.pool, eventID); err != nil {
		return r, err
	}
	if r.Fees, err = reportFees(ctx, db.pool, eventID); err != nil {
		return r, err
	}
	if r.PromoUses, err = reportPromoUses(ctx, db.pool, eventID); err != nil {
		return r, err
	}
	return r, nil
}

func addFigure(to *boxoffice.SalesFigure, f boxoffice.SalesFigure) {
	to.Bookings += f.Bookings
	to.Tickets += f.Tickets
	to.Amount += f.Amount
}

// reportSections sums the tickets of the event's sales by section, in the
// seat map's order; a ticket's amount is its price.
func reportSections(ctx context.Context, q querier, eventID uuid.UUID) ([]boxoffice.SectionSales, error) {
	rows, err := q.Query(ctx, `WITH s AS (
			SELECT b.id, b.status, u.tid FROM bookings b, unnest(b.ticket_ids) AS u(tid)
			WHERE b.event_id = $1 AND b.status IN `+saleStatuses+`)
		SELECT t.section,
			count(DISTINCT s.id), count(*), coalesce(sum(t.price_minor), 0),
			count(DISTINCT s.id) FILTER (WHERE s.status = 'refunded'),
			count(*) FILTER (WHERE s.status = 'refunded'),
			coalesce(sum(t.price_minor) FILTER (WHERE s.status = 'refunded'), 0)
		FROM s JOIN tickets t ON t.event_id = $1 AND t.ticket_id = s.tid
		GROUP BY t.section ORDER BY min(t.idx)`, eventID)
	if err != nil {
		return nil, wrap("report: sections", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (boxoffice.SectionSales, error) {
		var s boxoffice.SectionSales
		err := row.Scan(&s.Section, &s.Sold.Bookings, &s.Sold.Tickets, &s.Sold.Amount,
			&s.Refunded.Bookings, &s.Refunded.Tickets, &s.Refunded.Amount)
		return s, err
	})
	return out, wrap("report: sections", err)
}

// reportBuckets counts the event's sales by when they were confirmed and
// its refunds by when they were done, in buckets of the given width (UTC),
// oldest first; a booking's amount is its total.
func reportBuckets(ctx context.Context, q querier, eventID uuid.UUID, bucket boxoffice.ReportBucket) ([]boxoffice.ReportBucketFigures, error) {
	rows, err := q.Query(ctx, `SELECT date_trunc($2, at, 'UTC') AS start, refund, count(*),
			coalesce(sum(tickets), 0), coalesce(sum(total), 0)
		FROM (
			SELECT coalesce(b.confirmed_at, b.created_at) AS at, false AS refund,
				cardinality(b.ticket_ids) AS tickets, b.total_minor AS total
			FROM bookings b WHERE b.event_id = $1 AND b.status IN `+saleStatuses+`
			UNION ALL
			SELECT coalesce(r.refunded_at, b.updated_at), true, cardinality(b.ticket_ids), b.total_minor
			FROM bookings b LEFT JOIN refunds r ON r.booking_id = b.id
			WHERE b.event_id = $1 AND b.status = 'refunded'
		) AS f
		GROUP BY start, refund ORDER BY start, refund`, eventID, string(bucket))
	if err != nil {
		return nil, wrap("report: buckets", err)
	}
	defer rows.Close()
	var out []boxoffice.ReportBucketFigures
	for rows.Next() {
		var (
			start  time.Time
			refund bool
			f      boxoffice.SalesFigure
		)
		if err := rows.Scan(&start, &refund, &f.Bookings, &f.Tickets, &f.Amount); err != nil {
			return nil, wrap("report: buckets", err)
		}
		start = start.UTC()
		if n := len(out); n == 0 || !out[n-1].Start.Equal(start) {
			out = append(out, boxoffice.ReportBucketFigures{Start: start})
		}
		if b := &out[len(out)-1]; refund {
			b.Refunded = f
		} else {
			b.Sold = f
		}
	}
	return out, wrap("report: buckets", rows.Err())
}

// reportTypes is the sales by ticket type, in the order types first sold:
// a booking's tickets by their type (bookings.ticket_types; an event
// without types sells one, ImplicitTicketType), each type's amount its
// "tickets" price line (before discount, fees and tax), or the booking's
// total for a booking without price lines.
func reportTypes(ctx context.Context, q querier, eventID uuid.UUID) ([]boxoffice.TypeSales, error) {
	rows, err := q.Query(ctx, `WITH s AS (
			SELECT id, status, total_minor, ticket_ids, ticket_types, price_lines, confirmed_at FROM bookings
			WHERE event_id = $1 AND status IN `+saleStatuses+`),
		c AS (
			SELECT s.id, s.status, s.total_minor, s.ticket_types, s.price_lines, s.confirmed_at, u.type, count(*) AS n
			FROM s, LATERAL unnest(coalesce(s.ticket_types, array_fill($2::text, ARRAY[cardinality(s.ticket_ids)]))) AS u(type)
			GROUP BY s.id, s.status, s.total_minor, s.ticket_types, s.price_lines, s.confirmed_at, u.type),
		t AS (
			SELECT c.id, c.status, c.type, c.n, c.confirmed_at AS first,
				CASE WHEN c.price_lines IS NULL THEN c.total_minor ELSE coalesce((
					SELECT sum((l->>'amount_minor')::bigint) FROM jsonb_array_elements(c.price_lines) l
					WHERE l->>'kind' = 'tickets'
						AND (c.ticket_types IS NULL OR l->>'label' = c.type || ' × ' || c.n::text)), 0) END AS amount
			FROM c)
		SELECT type, count(*), sum(n), sum(amount),
			count(*) FILTER (WHERE status = 'refunded'), coalesce(sum(n) FILTER (WHERE status = 'refunded'), 0),
			coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0)
		FROM t GROUP BY type ORDER BY min(first), type`, eventID, boxoffice.ImplicitTicketType)
	if err != nil {
		return nil, wrap("report: types", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (boxoffice.TypeSales, error) {
		var s boxoffice.TypeSales
		err := row.Scan(&s.Type, &s.Sold.Bookings, &s.Sold.Tickets, &s.Sold.Amount,
			&s.Refunded.Bookings, &s.Refunded.Tickets, &s.Refunded.Amount)
		return s, err
	})
	if out == nil {
		out = []boxoffice.TypeSales{}
	}
	return out, wrap("report: types", err)
}

// reportFees sums the fee lines of the event's sales that stand (not
// refunded): what the organiser's fees brought in.
func reportFees(ctx context.Context, q querier, eventID uuid.UUID) (boxoffice.Money, error) {
	var fees int64
	err := q.QueryRow(ctx, `SELECT coalesce(sum((l->>'amount_minor')::bigint), 0)
		FROM bookings b, jsonb_array_elements(b.price_lines) l
		WHERE b.event_id = $1 AND b.status = 'confirmed' AND b.price_lines IS NOT NULL AND l->>'kind' = 'fee'`,
		eventID).Scan(&fees)
	return boxoffice.Money(fees), wrap("report: fees", err)
}

// reportPromoUses counts the promo codes used by the event's sales that
// stand (one use a booking) and the discount each gave.
func reportPromoUses(ctx context.Context, q querier, eventID uuid.UUID) ([]boxoffice.PromoUse, error) {
	rows, err := q.Query(ctx, `SELECT b.promo_code, count(*), coalesce(sum((
			SELECT -sum((l->>'amount_minor')::bigint) FROM jsonb_array_elements(b.price_lines) l
			WHERE l->>'kind' = 'discount')), 0)
		FROM bookings b
		WHERE b.event_id = $1 AND b.status = 'confirmed' AND b.promo_code IS NOT NULL
		GROUP BY b.promo_code ORDER BY b.promo_code`, eventID)
	if err != nil {
		return nil, wrap("report: promo uses", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (boxoffice.PromoUse, error) {
		var u boxoffice.PromoUse
		err := row.Scan(&u.Code, &u.Uses, &u.Discount)
		return u, err
	})
	if out == nil {
		out = []boxoffice.PromoUse{}
	}
	return out, wrap("report: promo uses", err)
}

// EachSale streams the tickets of the event's sales to fn, ordered by
// confirmation, booking and the booking's ticket order, one row at a time
// from the open query (pgx reads the result as fn consumes it), so a
// 50,000-seat event is never held in memory. A slow fn holds a pool
// connection for as long as it takes; ctx bounds it.
func (db *DB) EachSale(ctx context.Context, eventID uuid.UUID, fn func(boxoffice.SaleRow) error) error {
	rows, err := db.pool.Query(ctx, `SELECT b.id, b.user_id, b.status, coalesce(b.confirmed_at, b.created_at),
			r.refunded_at, t.ticket_id, t.section, t."row", t.seat, t.price_minor, t.currency, b.total_minor
		FROM bookings b
		CROSS JOIN LATERAL unnest(b.ticket_ids) WITH ORDINALITY AS u(tid, n)
		JOIN tickets t ON t.event_id = b.event_id AND t.ticket_id = u.tid
		LEFT JOIN refunds r ON r.booking_id = b.id AND b.status = 'refunded'
		WHERE b.event_id = $1 AND b.status IN `+saleStatuses+`
		ORDER BY 4, b.id, u.n`, eventID)
	if err != nil {
		return wrap("export sales", err)
	}
	defer rows.Close()
	var (
		s        boxoffice.SaleRow
		status   string
		refunded *time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&s.BookingID, &s.UserID, &status, &s.ConfirmedAt, &refunded, &s.TicketID,
			&s.Section, &s.Row, &s.Seat, &s.Price, &s.Currency, &s.BookingTotal); err != nil {
			return wrap("export sales", err)
		}
		s.Status = boxoffice.BookingStatus(status)
		s.ConfirmedAt = s.ConfirmedAt.UTC()
		s.RefundedAt = time.Time{}
		if refunded != nil {
			s.RefundedAt = refunded.UTC()
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return wrap("export sales", rows.Err())
}

var _ boxoffice.ReportStore = (*DB)(nil)
