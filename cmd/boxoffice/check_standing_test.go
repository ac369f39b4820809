package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestCheckStandingPlaces drives `boxoffice loadgen -standing` against a
// real node with a small standing Floor (it sells out: holds, sales,
// releases and 409s), audits the history clean, then plants one broken
// invariant of standing places at a time, in the history or in PostgreSQL
// inside a transaction that is rolled back, and expects check to report
// exactly the kinds the plant breaks.
func TestCheckStandingPlaces(t *testing.T) {
	// Bookings written in the journal's commit (window 0), so that a hold
	// missing from bookings is lost_ack (as TestCheckFindsPlantedViolations).
	n := startTestNode(t, func(c *Config) { c.BookingsWindow = 0 })
	const capacity = 30
	ev := createStandingEvent(t, n, capacity)
	ctx := context.Background()

	// Rounds of load until it has acknowledged a sale and a release and
	// the floor is full (a fifth of the holds is neither confirmed nor
	// released, and holds last ten minutes: it sells out within a round or
	// two, after which every reserve is refused).
	var history []sample
	var sold, released sample
	holds := map[string]sample{}
	full := func() bool {
		var avail struct {
			Standing standingLeft `json:"standing"`
		}
		code := n.call(t, http.MethodGet, "/events/"+ev+"/availability", "", nil, &avail)
		return code == http.StatusOK && len(avail.Standing) == 1 && avail.Standing[0].Left == 0
	}
	dir := t.TempDir()
	for round := 0; sold.BookingID == "" || released.BookingID == "" || !full(); round++ {
		if round == 30 {
			t.Fatalf("30 load rounds: sale %q, release %q, floor full %t; check has too little to audit", sold.BookingID, released.BookingID, full())
		}
		path := filepath.Join(dir, fmt.Sprintf("history-%d.jsonl", round))
		if _, err := runLoad(ctx, loadConfig{URLs: []string{n.URL}, Event: ev, Users: 2, Duration: 300 * time.Millisecond,
			Seats: 3, Standing: "Floor", Confirm: 0.3, Release: 0.5, History: path, Mode: "reserve"}, &bytes.Buffer{}); err != nil {
			t.Fatalf("loadgen: %v", err)
		}
		samples, err := readHistory(path)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, samples...)
		for _, s := range samples {
			switch {
			case s.Op == "reserve" && s.Status == 201:
				if len(s.TicketIDs) < 1 || len(s.TicketIDs) > 3 {
					t.Fatalf("a standing hold of 1..3 places recorded %d tickets: %+v", len(s.TicketIDs), s)
				}
				holds[s.BookingID] = s
			case s.Op == "confirm" && s.Status == 200:
				sold = holds[s.BookingID]
			case s.Op == "release" && s.Status == 200:
				released = holds[s.BookingID]
			}
		}
	}

	pool, err := pgxpool.New(ctx, n.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// live is an acknowledged hold still held at the end: one the load
	// left alone (no follow-up recorded, not even one cut off by the end
	// of a round, which may still have ended it).
	followed := map[string]bool{}
	for _, s := range history {
		if s.Op != "reserve" {
			followed[s.BookingID] = true
		}
	}
	var live sample
	for _, s := range history {
		if s.Op == "reserve" && s.Status == 201 && !followed[s.BookingID] {
			live = s
			break
		}
	}
	if live.BookingID == "" {
		t.Fatal("every acknowledged hold was confirmed or released; none is left live")
	}
	fresh := uuid.New()
	// other is a ticket no acknowledged hold got: a seat of the venue's
	// seated row A (the load takes only Floor places, which end up all
	// taken by someone at some time).
	other := func(t *testing.T, tx pgx.Tx) string {
		t.Helper()
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT ticket_id FROM tickets WHERE event_id = $1 AND section = 'A' ORDER BY idx LIMIT 1`,
			uuid.MustParse(ev)).Scan(&id); err != nil {
			t.Fatalf("a seat of row A: %v", err)
		}
		return id.String()
	}
	withHold := func(h sample) []sample { // the history with h's reserve reply replaced by h
		out := slices.Clone(history)
		for i, s := range out {
			if s.Op == "reserve" && s.BookingID == h.BookingID {
				out[i] = h
			}
		}
		return out
	}
	cases := []struct {
		name  string
		plant func(t *testing.T, tx pgx.Tx) []sample // returns the history to audit
		want  []string                               // exactly these kinds, each at least once
	}{
		{"clean run", func(*testing.T, pgx.Tx) []sample { return history }, nil},
		{"a sold standing hold acknowledged with another ticket than the journal holds", func(t *testing.T, tx pgx.Tx) []sample {
			h := sold
			h.TicketIDs = append([]string{other(t, tx)}, h.TicketIDs[1:]...)
			return withHold(h)
		}, []string{kindChangedAck}},
		{"a live standing hold acknowledged with one ticket more than the journal holds", func(t *testing.T, tx pgx.Tx) []sample {
			h := live
			h.TicketIDs = append(slices.Clone(h.TicketIDs), other(t, tx))
			return withHold(h)
		}, []string{kindChangedAck}},
		{"an acknowledged standing hold missing from bookings", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `DELETE FROM bookings WHERE id = $1`, uuid.MustParse(released.BookingID))
			return history
		}, []string{kindLostAck}},
		{"an acknowledged standing hold the journal never saw", func(t *testing.T, tx pgx.Tx) []sample {
			h := live
			h.BookingID = fresh.String()
			return append(slices.Clone(history), h)
		}, []string{kindLostAck}},
		{"a standing place acknowledged as sold to two bookings", func(*testing.T, pgx.Tx) []sample {
			hold, sale := sold, sold
			hold.Op, hold.Status = "reserve", 201
			hold.BookingID, sale.BookingID = fresh.String(), fresh.String()
			sale.Op, sale.Status, sale.TicketIDs = "confirm", 200, nil
			return append(slices.Clone(history), hold, sale)
		}, []string{kindDoubleSale, kindLostAck}},
		{"a live standing place in a second live booking", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
				SELECT $1, user_id, event_id, ticket_ids, 'in-progress', total_minor, currency, now(), now() + interval '10 minutes', now()
				FROM bookings WHERE id = $2`, fresh, uuid.MustParse(live.BookingID))
			return history
		}, []string{kindDoubleBooking}},
		{"the Floor's capacity under its places held and sold", func(t *testing.T, tx pgx.Tx) []sample {
			plantSQL(t, tx, `UPDATE venues SET seat_map = jsonb_set(seat_map, '{sections,0,standing}', '1')
				WHERE id = (SELECT venue_id FROM events WHERE id = $1)`, uuid.MustParse(ev))
			return history
		}, []string{kindOverCapacity}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			vs, err := check(ctx, tx, c.plant(t, tx))
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(c.want)
			// The floor was full when the load stopped, but a release cut off
			// by the end of the last round may have freed places since: a
			// plant that adds places is over capacity when PostgreSQL says so.
			var taken int
			if err := tx.QueryRow(ctx, `SELECT coalesce(sum(cardinality(ticket_ids)), 0) FROM bookings
				WHERE event_id = $1 AND status IN ('in-progress', 'confirmed')`, uuid.MustParse(ev)).Scan(&taken); err != nil {
				t.Fatal(err)
			}
			if taken > capacity && !slices.Contains(want, kindOverCapacity) {
				want = append(want, kindOverCapacity)
			}
			var got []string
			for _, v := range vs {
				if !slices.Contains(got, v.Kind) {
					got = append(got, v.Kind)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("kinds = %v, want %v; violations:\n%v", got, want, vs)
			}
		})
	}
}
