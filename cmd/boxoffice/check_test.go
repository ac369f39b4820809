package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence"
)

// checkRun is a real loadgen run against a real node, stopped, whose
// history and PostgreSQL state check audits.
type checkRun struct {
	db      *pgxpool.Pool
	history []sample
	sold    sample // an acknowledged sale (its confirm reply)
	hold    sample // the hold of sold (its reserve reply)
	event   uuid.UUID
}

// newCheckRun drives a second of load (holds, sales, releases) through a
// node with one-second holds, lets the remaining holds expire, and stops
// the node so that PostgreSQL holds the final state.
func newCheckRun(t *testing.T) *checkRun {
	t.Helper()
	return newCheckRunWith(t, func(*Config) {})
}

// newCheckRunWith is newCheckRun with the node's config changed by opt.
func newCheckRunWith(t *testing.T, opt func(*Config)) *checkRun {
	t.Helper()
	n := startTestNode(t, func(c *Config) { c.HoldTTL = time.Second; opt(c) })
	event := createCheckEvent(t, n)
	ctx := context.Background()
	// The load runs in one-second rounds until it has acknowledged enough
	// to audit: on a loaded machine one second may give only a few holds.
	r := &checkRun{event: uuid.MustParse(event)}
	holds := map[string]sample{}
	dir := t.TempDir()
	for round := 0; r.sold.BookingID == "" || len(holds) < 10; round++ {
		if round == 30 {
			t.Fatalf("30 load rounds acknowledged %d holds and no sale; check has nothing to audit", len(holds))
		}
		path := filepath.Join(dir, fmt.Sprintf("history-%d.jsonl", round))
		if _, err := runLoad(ctx, loadConfig{URLs: []string{n.URL}, Event: event, Users: 4, Duration: time.Second,
			Seats: 2, Confirm: 0.5, Release: 0.2, History: path, Mode: "reserve"}, &bytes.Buffer{}); err != nil {
			t.Fatalf("loadgen: %v", err)
		}
		samples, err := readHistory(path)
		if err != nil {
			t.Fatal(err)
		}
		r.history = append(r.history, samples...)
		for _, s := range samples {
			switch {
			case s.Op == "reserve" && s.Status == 201:
				holds[s.BookingID] = s
			case s.Op == "confirm" && s.Status == 200 && r.sold.BookingID == "":
				r.sold, r.hold = s, holds[s.BookingID]
			}
		}
	}
	// The unconfirmed holds expire through the node's own timers: wait
	// until its event actor holds none and has journalled everything.
	admin := n.token(t, "admin@example.com", "admin")
	require.Eventually(t, func() bool {
		var st struct {
			Counts struct {
				Reserved int `json:"reserved"`
			} `json:"counts"`
			Holds      int `json:"holds"`
			JournalLag int `json:"journal_lag"`
		}
		code := n.call(t, http.MethodGet, "/admin/api/events/"+event, admin, nil, &st)
		return code == http.StatusOK && st.Counts.Reserved == 0 && st.Holds == 0 && st.JournalLag == 0
	}, 30*time.Second, 25*time.Millisecond, "the holds expired and journalled")
	n.Close()
	var err error
	if r.db, err = pgxpool.New(ctx, n.DB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.db.Close)
	return r
}

// createCheckEvent creates a 400-seat event (the demo catalog takes
// seconds to seed; this takes milliseconds).
func createCheckEvent(t *testing.T, n *testNode) string {
	t.Helper()
	admin := n.token(t, "admin@example.com", "admin")
	rows := make([]any, 8)
	for i := range rows {
		rows[i] = map[string]any{"name": strconv.Itoa(i + 1), "seats": 50}
	}
	return createEventThrough(t, n, admin, map[string]any{
		"name": "Sala Check", "city": "Madrid", "address": "Calle 1", "location": map[string]float64{"lat": 40.4, "lon": -3.7},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A", "rows": rows}}},
	}, map[string]any{"name": "Auditors", "biography": "b"}, map[string]any{"name": "Audit Night", "type": "concert"})
}

// soldSeat returns the seat index of the journal's first SeatsSold record.
func (r *checkRun) soldSeat(t *testing.T, tx pgx.Tx) (int32, int64) {
	t.Helper()
	var seat int32 = -1
	err := persistence.NewAudit(tx).Journal(context.Background(), func(ev uuid.UUID, _ int64, data []byte) error {
		if rec, err := seatmap.UnmarshalRecord(data); ev == r.event && err == nil && rec.Kind == seatmap.KindSold && seat < 0 {
			seat = rec.Seats[0]
		}
		return nil
	})
	if err != nil || seat < 0 {
		t.Fatalf("no SeatsSold record in the journal (%v)", err)
	}
	return seat, r.maxVersion(t, tx)
}

func (r *checkRun) maxVersion(t *testing.T, tx pgx.Tx) int64 {
	t.Helper()
	var v int64
	if err := tx.QueryRow(context.Background(), `SELECT max(last_version) FROM journal WHERE event_id = $1`, r.event).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// appendRecord writes a journal record as the journal writer would: a
// commit of one record.
func (r *checkRun) appendRecord(t *testing.T, tx pgx.Tx, rec seatmap.Record) {
	t.Helper()
	data, err := rec.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `INSERT INTO journal (event_id, first_version, last_version, epoch, records)
		VALUES ($1, $2, $2, 1, int4send(octet_length($3::bytea)) || $3::bytea)`,
		r.event, int64(rec.Version), data); err != nil {
		t.Fatal(err)
	}
}

// writeHistory writes samples as loadgen -history does.
func writeHistory(t *testing.T, path string, samples []sample) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func plantSQL(t *testing.T, tx pgx.Tx, sql string, args ...any) {
	t.Helper()
	tag, err := tx.Exec(context.Background(), sql, args...)
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("plant %q: %v (%d rows)", sql, err, tag.RowsAffected())
	}
}

// TestCheckFindsPlantedViolations audits a clean run (no violation), then
// plants one broken invariant at a time, in the history or in PostgreSQL
// inside a transaction that is rolled back, and expects check to report
// exactly the kinds the plant breaks.
func TestCheckFindsPlantedViolations(t *testing.T) {
	// The plants are judged against bookings written in the journal's
	// commit (BOXOFFICE_BOOKINGS_WINDOW=0: no watermark, so a hold missing
	// from bookings is lost_ack); the projection's cases plant their own
	// watermark. TestCheckPassesWithProjectedBookings audits the default.
	r := newCheckRunWith(t, func(c *Config) { c.BookingsWindow = 0 })
	ctx := context.Background()

	var out, errOut bytes.Buffer
	path := filepath.Join(t.TempDir(), "history.jsonl")
	writeHistory(t, path, r.history)
	if err := run(ctx, []string{"check", "-database-url", r.db.Config().ConnString(), "-history", path},
		func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("boxoffice check on a clean run: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), " 0 violation(s)") {
		t.Fatalf("boxoffice check on a clean run printed:\n%s", out.String())
	}

	fresh := uuid.New()
	cases := []struct {
		name  string
		plant func(t *testing.T, tx pgx.Tx) []sample // returns the history to audit
		want  []string                               // exactly these kinds, each at least once
		i3    *i3Figures                             // if set, exactly these I3 figures
	}{
		{"clean run", func(*testing.T, pgx.Tx) []sample { return r.history }, nil, &i3Figures{}},
		{"a seat acknowledged as sold to two bookings", func(*testing.T, pgx.Tx) []sample {
			hold := r.hold
			hold.BookingID, hold.TicketIDs = fresh.String(), hold.TicketIDs[:1]
			sale := r.sold
			sale.BookingID = fresh.String()
			return append(slices.Clone(r.history), hold, sale)
		}, []string{kindDoubleSale, kindLostAck}, nil},
		{"a second confirmed booking of a sold seat in PostgreSQL", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
				SELECT $1, user_id, event_id, ticket_ids, 'confirmed', total_minor, currency, created_at, expires_at, updated_at
				FROM bookings WHERE id = $2`, fresh, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindDoubleBooking, kindDoubleSale, kindUnpaidSale}, nil},
		{"a seat sold twice in the journal", func(t *testing.T, tx pgx.Tx) []sample {
			seat, v := r.soldSeat(t, tx)
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 1), Kind: seatmap.KindHeld, Booking: fresh, Owner: fresh, Seats: []int32{seat}})
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 2), Kind: seatmap.KindSold, Booking: fresh, Owner: fresh, Seats: []int32{seat}})
			return r.history
		}, []string{kindDoubleBooking, kindDoubleSale}, nil},
		{"an acknowledged hold that PostgreSQL never saw", func(*testing.T, pgx.Tx) []sample {
			hold := r.hold
			hold.BookingID = fresh.String()
			return append(slices.Clone(r.history), hold)
		}, []string{kindLostAck}, nil},
		{"an acknowledged hold missing from bookings", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `DELETE FROM bookings WHERE id = (SELECT id FROM bookings WHERE status = 'expired' LIMIT 1)`)
			return r.history
		}, []string{kindLostAck}, nil},
		{"an acknowledged hold the bookings projection has not written yet", func(t *testing.T, tx pgx.Tx) []sample {
			v := r.maxVersion(t, tx)
			// A seat free at the end, held as acknowledged (changed_ack).
			var seat int32
			var ticket uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT idx, ticket_id FROM tickets t WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM bookings b
				WHERE b.event_id = t.event_id AND b.status IN ('in-progress', 'confirmed') AND t.ticket_id = ANY(b.ticket_ids))
				ORDER BY idx LIMIT 1`, r.event).Scan(&seat, &ticket); err != nil {
				t.Fatal(err)
			}
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 1), Kind: seatmap.KindHeld, Booking: fresh, Owner: fresh, Seats: []int32{seat}})
			plantSQL(t, tx, `INSERT INTO booking_projection (event_id, version) VALUES ($1, $2)`, r.event, v)
			hold := r.hold
			hold.BookingID, hold.TicketIDs = fresh.String(), []string{ticket.String()}
			return append(slices.Clone(r.history), hold)
		}, nil, nil},
		{"a live hold under the projection's watermark missing from bookings", func(t *testing.T, tx pgx.Tx) []sample {
			v := r.maxVersion(t, tx)
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 1), Kind: seatmap.KindHeld, Booking: fresh, Owner: fresh, Seats: []int32{1 << 29}})
			plantSQL(t, tx, `INSERT INTO booking_projection (event_id, version) VALUES ($1, $2)`, r.event, v+1)
			return r.history
		}, []string{kindProjectionLost}, nil},
		{"an acknowledged sale missing from sold_seats", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `DELETE FROM sold_seats WHERE booking_id = $1`, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindLostSale}, nil},
		{"an acknowledged sale whose booking is not confirmed", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE bookings SET status = 'failed' WHERE id = $1`, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindLostAck, kindPaidUnsold}, nil}, // its charge is kept for no seats
		{"a version gap in the journal", func(t *testing.T, tx pgx.Tx) []sample {
			v := r.maxVersion(t, tx)
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 2), Kind: seatmap.KindHeld, Booking: fresh, Owner: fresh, Seats: []int32{1 << 30}})
			return r.history
		}, []string{kindVersionGap}, nil},
		{"a hold released more than a second after its expiry", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE bookings SET updated_at = expires_at + interval '1.5 s'
				WHERE id = (SELECT id FROM bookings WHERE status = 'expired' LIMIT 1)`)
			return r.history
		}, []string{kindLateExpiry}, &i3Figures{Late: 1, MaxLate: 1500 * time.Millisecond}},
		{"a hold released late because its event was moving is reported as a move", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `WITH b AS (SELECT id, event_id, expires_at FROM bookings WHERE status = 'expired' LIMIT 1),
				moved AS (INSERT INTO ownership_history (event_id, epoch, node, acquired_at)
					SELECT event_id, 1000000, 'interim', expires_at + interval '1.2 s' FROM b)
				UPDATE bookings SET updated_at = expires_at + interval '1.5 s' WHERE id = (SELECT id FROM b)`)
			return r.history
		}, nil, &i3Figures{Late: 1, MaxLate: 1500 * time.Millisecond, Moved: 1, MaxMove: 1200 * time.Millisecond, MaxAfter: 300 * time.Millisecond}},
		{"a hold whose event moved too long after its expiry is late, counted from the expiry", func(t *testing.T, tx pgx.Tx) []sample {
			// A new owner that took 20 s to wake the event (a slow
			// sweeper), then released the hold at once.
			plantSQL(t, tx, `WITH b AS (SELECT id, event_id, expires_at FROM bookings WHERE status = 'expired' LIMIT 1),
				moved AS (INSERT INTO ownership_history (event_id, epoch, node, acquired_at)
					SELECT event_id, 1000000, 'interim', expires_at + interval '20 s' FROM b)
				UPDATE bookings SET updated_at = expires_at + interval '20.2 s' WHERE id = (SELECT id FROM b)`)
			return r.history
		}, []string{kindLateMove}, &i3Figures{Late: 1, MaxLate: 20200 * time.Millisecond, Moved: 1, MaxMove: 20 * time.Second, MaxAfter: 200 * time.Millisecond}},
		{"a hold released late after its event moved and settled is late", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `WITH b AS (SELECT id, event_id, expires_at FROM bookings WHERE status = 'expired' LIMIT 1),
				moved AS (INSERT INTO ownership_history (event_id, epoch, node, acquired_at)
					SELECT event_id, 1000000, 'interim', expires_at + interval '1.2 s' FROM b)
				UPDATE bookings SET updated_at = expires_at + interval '2.5 s' WHERE id = (SELECT id FROM b)`)
			return r.history
		}, []string{kindLateExpiry}, &i3Figures{Late: 1, MaxLate: 2500 * time.Millisecond, Moved: 1, MaxMove: 1200 * time.Millisecond, MaxAfter: 1300 * time.Millisecond}},
		{"a late release of an earlier run's hold is not this run's", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
				SELECT $1, user_id, event_id, '{}', 'expired', total_minor, currency, created_at, expires_at, expires_at + interval '1 minute'
				FROM bookings WHERE id = $2`, fresh, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, nil, nil},
		{"a hold still held a second after its expiry", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE bookings SET status = 'in-progress'
				WHERE id = (SELECT id FROM bookings b WHERE status = 'expired' AND NOT EXISTS (
					SELECT 1 FROM bookings o WHERE o.status IN ('in-progress', 'confirmed') AND o.ticket_ids && b.ticket_ids) LIMIT 1)`)
			return r.history
		}, []string{kindLateExpiry}, nil},
		{"a sale confirmed after its hold had expired", func(*testing.T, pgx.Tx) []sample {
			h := slices.Clone(r.history)
			for i, s := range h {
				if s.Op == "reserve" && s.BookingID == r.sold.BookingID {
					h[i].ExpiresAt = r.sold.At.Add(-1100 * time.Millisecond).Format(time.RFC3339Nano)
				}
			}
			return h
		}, []string{kindLateExpiry}, nil},
		{"a sale paid for another amount", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE payments SET amount_minor = amount_minor + 1 WHERE booking_id = $1`, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindUnpaidSale}, nil},
		{"one charge paying for two bookings", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `INSERT INTO payments (booking_id, idempotency_key, amount_minor, currency, status, charge_id)
				SELECT $1, 'k', amount_minor, currency, status, charge_id FROM payments WHERE booking_id = $2`,
				fresh, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindSharedCharge, kindPaidUnsold}, nil}, // the second payment has no booking at all
		{"a refunded booking whose seats stay in sold_seats", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE bookings SET status = 'refunded' WHERE id = $1`, uuid.MustParse(r.sold.BookingID))
			return r.history
		}, []string{kindBadRefund}, nil},
		{"a refund in the journal of seats the booking did not buy", func(t *testing.T, tx pgx.Tx) []sample {
			seat, v := r.soldSeat(t, tx)
			r.appendRecord(t, tx, seatmap.Record{Version: uint64(v + 1), Kind: seatmap.KindRefunded, Booking: fresh, Owner: fresh, Seats: []int32{seat}})
			return r.history
		}, []string{kindBadRefund}, nil},
		{"an acknowledged refund of a booking still confirmed", func(*testing.T, pgx.Tx) []sample {
			refund := r.sold
			refund.Op = "refund"
			return append(slices.Clone(r.history), refund)
		}, []string{kindLostAck}, nil},
		{"a succeeded charge kept for a hold that expired", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `INSERT INTO payments (booking_id, idempotency_key, amount_minor, currency, status, charge_id)
				SELECT id, 'k', total_minor, currency, 'succeeded', 'ch_kept' FROM bookings WHERE status = 'expired' LIMIT 1
				ON CONFLICT (booking_id) DO UPDATE SET status = 'succeeded', charge_id = 'ch_kept'`)
			return r.history
		}, []string{kindPaidUnsold}, nil},
		{"a succeeded charge whose sale is still to commit is not judged", func(t *testing.T, tx pgx.Tx) []sample {
			// The grain recorded the charge and has not sold yet: the hold
			// is pinned and in progress, its expiry ahead.
			plantSQL(t, tx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
				SELECT $1, user_id, event_id, '{}', 'in-progress', total_minor, currency, now(), now() + interval '10 minutes', now()
				FROM bookings WHERE id = $2`, fresh, uuid.MustParse(r.sold.BookingID))
			plantSQL(t, tx, `INSERT INTO payments (booking_id, idempotency_key, amount_minor, currency, status, charge_id)
				SELECT id, 'k', total_minor, currency, 'succeeded', 'ch_in_flight' FROM bookings WHERE id = $1`, fresh)
			return r.history
		}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, err := r.db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			res, err := checkWith(ctx, tx, c.plant(t, tx), defaultMoveBudget)
			if err != nil {
				t.Fatal(err)
			}
			vs := res.violations
			if c.i3 != nil && res.i3 != *c.i3 {
				t.Errorf("I3 figures %+v, want %+v", res.i3, *c.i3)
			}
			var got []string
			for _, v := range vs {
				if !slices.Contains(got, v.Kind) {
					got = append(got, v.Kind)
				}
			}
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("kinds = %v, want %v; violations:\n%v", got, want, vs)
			}
		})
	}
}

// TestCheckPassesWithProjectedBookings: with the bookings of holds written
// behind the journal (confirms and releases of fresh holds answered through
// the engine, holds released within the window never written), a real
// load run still audits clean, and the watermark covers the journal.
func TestCheckPassesWithProjectedBookings(t *testing.T) {
	r := newCheckRun(t) // the default window (actors.DefaultBookingsWindow)
	res, err := checkWith(context.Background(), r.db, r.history, defaultMoveBudget)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.violations) > 0 {
		t.Fatalf("check found %d violation(s) with projected bookings: %+v", len(res.violations), res.violations)
	}
	marks, err := persistence.NewAudit(r.db).ProjectionWatermarks(context.Background())
	if err != nil || marks[r.event] == 0 {
		t.Fatalf("watermarks = %v, %v; want the event's", marks, err)
	}
}
