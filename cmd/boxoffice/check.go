package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// violation is one broken invariant that check found.
type violation struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Violation kinds, one per invariant check audits (DESIGN.md "Invariants").
const (
	kindDoubleSale    = "double_sale"    // a seat sold to two bookings (I1)
	kindDoubleBooking = "double_booking" // a seat in two live bookings at once (I1)
	kindLostAck       = "lost_ack"       // an acknowledged hold or sale missing from PostgreSQL (I2)
	kindLostSale      = "lost_sale"      // a confirmed booking whose seats are not all in sold_seats (I1, I2)
	kindVersionGap    = "version_gap"    // an event's journal versions are not 1, 2, 3, ... (I5)
	kindLateExpiry    = "late_expiry"    // a hold outlived its expiry by more than a second (I3)
	kindBadHistory    = "bad_history"    // the history itself is malformed
	kindBadRecord     = "bad_record"     // a journal record does not decode
)

// expiryGrace is how long past its expiry a hold may still be honoured:
// expiry runs on a timer tick, not at the exact nanosecond.
const expiryGrace = time.Second

// querier is what check reads PostgreSQL through: a pool in the command, a
// transaction in the tests (which plant violations and roll them back).
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// cmdCheck audits a loadgen history against PostgreSQL's final state and
// reports every double sale, lost acknowledgement, version gap, late
// expiry, sale without its own charge and charge paying for two bookings.
// It exits non-zero when it finds any.
func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var history string
	url, err := dbFlags("check", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&history, "history", "", "the JSON-lines history written by `boxoffice loadgen -history`")
	})
	if err != nil {
		return err
	}
	samples, err := readHistory(history)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	vs, err := check(ctx, pool, samples)
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Fprintf(stdout, "VIOLATION %s: %s\n", v.Kind, v.Detail)
	}
	fmt.Fprintf(stdout, "checked %d replies: %d violation(s)\n", len(samples), len(vs))
	if len(vs) > 0 {
		return fmt.Errorf("%d invariant violation(s)", len(vs))
	}
	return nil
}

func readHistory(path string) ([]sample, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("history line %d: %w", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// audit collects violations; each check method guards one invariant.
type audit struct {
	vs []violation
	// holds and sales are the acknowledged ones of the history: a reserve
	// answered 201 and a confirm answered 200, by booking.
	holds map[uuid.UUID]sample
	sales map[uuid.UUID]sample
}

func (a *audit) add(kind, format string, args ...any) {
	a.vs = append(a.vs, violation{kind, fmt.Sprintf(format, args...)})
}

// check runs every audit against the history and PostgreSQL's final state.
func check(ctx context.Context, db querier, samples []sample) ([]violation, error) {
	a := &audit{holds: map[uuid.UUID]sample{}, sales: map[uuid.UUID]sample{}}
	a.indexHistory(samples)
	a.historySales()
	steps := []func(context.Context, querier) error{
		a.ackedInBookings, a.liveBookingsDisjoint, a.salesInSoldSeats, a.journal, a.expiries,
		a.payments,
	}
	for _, step := range steps {
		if err := step(ctx, db); err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
	}
	return a.vs, nil
}

// indexHistory keeps the acknowledged holds and sales of the history.
func (a *audit) indexHistory(samples []sample) {
	for _, s := range samples {
		acked := s.Op == "reserve" && s.Status == 201 || s.Op == "confirm" && s.Status == 200
		if !acked {
			continue
		}
		id, err := uuid.Parse(s.BookingID)
		if err != nil {
			a.add(kindBadHistory, "%s acknowledged at %s with booking id %q", s.Op, s.At.Format(time.RFC3339Nano), s.BookingID)
			continue
		}
		if s.Op == "reserve" {
			a.holds[id] = s
		} else if prev, ok := a.sales[id]; !ok || s.At.Before(prev.At) {
			// The first acknowledged confirm: a retry after the sale is
			// answered 200 too, and may come after the hold's expiry.
			a.sales[id] = s
		}
	}
}

// historySales checks the sales the clients were told about: no seat sold
// to two bookings (I1), and no sale of a hold whose expiry had passed when
// the confirm was sent (I3).
func (a *audit) historySales() {
	soldTo := map[string]uuid.UUID{} // event/ticket -> booking
	for id, sale := range a.sales {
		hold, ok := a.holds[id]
		if !ok {
			continue // the hold's reply was not recorded; PostgreSQL still tells
		}
		for _, t := range hold.TicketIDs {
			key := hold.EventID + "/" + t
			if other, taken := soldTo[key]; taken && other != id {
				a.add(kindDoubleSale, "event %s ticket %s was acknowledged as sold to bookings %s and %s", hold.EventID, t, other, id)
			}
			soldTo[key] = id
		}
		if exp, err := time.Parse(time.RFC3339Nano, hold.ExpiresAt); err == nil && sale.At.After(exp.Add(expiryGrace)) {
			a.add(kindLateExpiry, "booking %s was sold on a confirm sent at %s, after its hold expired at %s",
				id, sale.At.Format(time.RFC3339Nano), hold.ExpiresAt)
		}
	}
}

// ackedInBookings: every acknowledged hold and sale is in PostgreSQL's
// bookings, a sale as confirmed (I2).
func (a *audit) ackedInBookings(ctx context.Context, db querier) error {
	ids := make([]uuid.UUID, 0, len(a.holds)+len(a.sales))
	for id := range a.holds {
		ids = append(ids, id)
	}
	for id := range a.sales {
		if _, dup := a.holds[id]; !dup {
			ids = append(ids, id)
		}
	}
	status := make(map[uuid.UUID]string, len(ids))
	const chunk = 10000
	for i := 0; i < len(ids); i += chunk {
		rows, err := db.Query(ctx, `SELECT id, status FROM bookings WHERE id = ANY($1)`, ids[i:min(i+chunk, len(ids))])
		if err != nil {
			return err
		}
		var id uuid.UUID
		var st string
		if _, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error { status[id] = st; return nil }); err != nil {
			return err
		}
	}
	for id, s := range a.holds {
		if _, ok := status[id]; !ok {
			a.add(kindLostAck, "hold %s was acknowledged at %s but the booking is not in PostgreSQL", id, s.At.Format(time.RFC3339Nano))
		}
	}
	for id, s := range a.sales {
		switch st, ok := status[id]; {
		case !ok:
			a.add(kindLostAck, "sale of booking %s was acknowledged at %s but the booking is not in PostgreSQL", id, s.At.Format(time.RFC3339Nano))
		case st != "confirmed":
			a.add(kindLostAck, "sale of booking %s was acknowledged at %s but the booking is %s", id, s.At.Format(time.RFC3339Nano), st)
		}
	}
	return nil
}

// liveBookingsDisjoint: no ticket is in two live bookings (I1).
func (a *audit) liveBookingsDisjoint(ctx context.Context, db querier) error {
	rows, err := db.Query(ctx, `SELECT event_id, t, count(*) FROM bookings, unnest(ticket_ids) t
		WHERE status IN ('in-progress', 'confirmed') GROUP BY event_id, t HAVING count(*) > 1`)
	if err != nil {
		return err
	}
	var ev, t uuid.UUID
	var n int
	_, err = pgx.ForEachRow(rows, []any{&ev, &t, &n}, func() error {
		a.add(kindDoubleBooking, "event %s ticket %s is in %d live bookings", ev, t, n)
		return nil
	})
	return err
}

// salesInSoldSeats: every seat of a confirmed booking is in sold_seats,
// sold to that booking (I1's last line of defence, I2 for the sale).
func (a *audit) salesInSoldSeats(ctx context.Context, db querier) error {
	rows, err := db.Query(ctx, `SELECT b.id, b.event_id, t, s.booking_id FROM bookings b
		CROSS JOIN LATERAL unnest(b.ticket_ids) t
		LEFT JOIN sold_seats s ON s.event_id = b.event_id AND s.ticket_id = t
		WHERE b.status = 'confirmed' AND s.booking_id IS DISTINCT FROM b.id`)
	if err != nil {
		return err
	}
	var id, ev, t uuid.UUID
	var other *uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&id, &ev, &t, &other}, func() error {
		if other == nil {
			a.add(kindLostSale, "booking %s is confirmed but event %s ticket %s is not in sold_seats", id, ev, t)
		} else {
			a.add(kindDoubleSale, "booking %s is confirmed but event %s ticket %s is sold to booking %s", id, ev, t, *other)
		}
		return nil
	})
	return err
}

// expiries: no hold outlived its expiry by more than a second (I3), as
// PostgreSQL saw it: released late, or still held. The second counts from
// the expiry, or from the event's last acquisition before the release when
// that came later: while an event moves between nodes it has no owner to
// release anything, and its new owner releases overdue holds as it starts
// (ownership_history records every acquisition). With a history, only
// the run's own holds count: a database reused across runs keeps holds
// that expired while no node was running and were released at the next
// start, which says nothing about this run.
func (a *audit) expiries(ctx context.Context, db querier) error {
	rows, err := db.Query(ctx, `SELECT b.id, b.status, b.expires_at, b.updated_at,
			GREATEST(b.expires_at, (SELECT max(h.acquired_at) FROM ownership_history h
				WHERE h.event_id = b.event_id
				  AND h.acquired_at <= CASE WHEN b.status = 'expired' THEN b.updated_at ELSE now() END)) AS due
		FROM bookings b
		WHERE (b.status = 'expired' AND b.updated_at > b.expires_at + $1::interval)
		   OR (b.status = 'in-progress' AND b.expires_at < now() - $1::interval)`, expiryGrace.String())
	if err != nil {
		return err
	}
	var id uuid.UUID
	var st string
	var exp, upd, due time.Time
	now := time.Now()
	_, err = pgx.ForEachRow(rows, []any{&id, &st, &exp, &upd, &due}, func() error {
		if _, ours := a.holds[id]; len(a.holds) > 0 && !ours {
			return nil
		}
		switch {
		case st == "expired" && upd.After(due.Add(expiryGrace)):
			a.add(kindLateExpiry, "booking %s expired at %s but was released at %s", id, exp.Format(time.RFC3339Nano), upd.Format(time.RFC3339Nano))
		case st != "expired" && now.After(due.Add(expiryGrace)):
			a.add(kindLateExpiry, "booking %s expired at %s and is still held", id, exp.Format(time.RFC3339Nano))
		}
		return nil
	})
	return err
}
