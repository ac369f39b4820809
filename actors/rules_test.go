package actors_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// Set moves the clock (hooks_test.go's clock) to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newRuledEnv is newEnv with an event whose sale rules edit sets.
func newRuledEnv(t *testing.T, cfg actors.Config, edit func(*boxoffice.Event)) *env {
	t.Helper()
	url := pgtest.NewDB(t)
	db := dbtest.OpenDB(t, url)
	ctx := context.Background()
	sm := venue200()
	v, _, err := db.CreateVenue(ctx, boxoffice.Venue{ID: uuid.New(), Name: "Rules Arena", City: "Madrid",
		Location: boxoffice.Location{Lat: 40.4, Lon: -3.7}, SeatMap: sm})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Rulers"})
	if err != nil {
		t.Fatal(err)
	}
	ev := boxoffice.Event{ID: uuid.New(), Name: "Rules Night", Type: "concert",
		StartsAt: time.Now().Add(24 * time.Hour), VenueID: v.ID, PerformerID: p.ID, Currency: "EUR",
		Prices: map[string]boxoffice.Money{"A": 10000, "B": 5000}}
	if edit != nil {
		edit(&ev)
	}
	if ev, _, _, err = db.CreateEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	e := &env{url: url, db: db, eventID: ev.ID, space: boxoffice.NewTicketSpace(ev.ID), seats: sm.Capacity()}
	e.node = startNode(t, db, cfg)
	return e
}

// wantCode checks err's API code.
func wantCode(t *testing.T, err error, code string) *boxoffice.Error {
	t.Helper()
	if got := codeOf(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	var e *boxoffice.Error
	errors.As(err, &e)
	return e
}

func wantLimit(t *testing.T, err error, limit, current int) {
	t.Helper()
	e := wantCode(t, err, boxoffice.ELimitReached)
	if e.Details["limit"] != limit || e.Details["current"] != current {
		t.Fatalf("limit_reached details %v, want limit %d current %d", e.Details, limit, current)
	}
}

// TestLimitSurvivesRestart: the default max_tickets_per_user (10) counts a
// user's live holds and bought seats over all bookings, and the counts are
// rebuilt when the event activates again, from the passivation snapshot or
// from the journal alone.
func TestLimitSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name          string
		dropSnapshots bool
		legacy        bool // rewrite the snapshot as BXS1, without buyers
	}{{"snapshot", false, false}, {"journal", true, false}, {"legacy snapshot", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRuledEnv(t, actors.Config{}, nil)
			ctx := context.Background()
			alice, bob := uuid.New(), uuid.New()
			sold := e.mustReserve(t, alice, 0, 1, 2, 3, 4, 5)
			if _, err := e.confirm(t, sold, alice, "tok_visa"); err != nil {
				t.Fatal(err)
			}
			held := e.mustReserve(t, alice, 6, 7, 8, 9)
			_, err := e.reserve(t, alice, 10)
			wantLimit(t, err, 10, 10)

			e.node.stop()
			if tc.dropSnapshots {
				conn, err := pgx.Connect(ctx, e.url)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Exec(ctx, `DELETE FROM snapshots WHERE event_id = $1`, e.eventID); err != nil {
					t.Fatal(err)
				}
				conn.Close(ctx)
			}
			if tc.legacy {
				legacySnapshot(t, e)
			}
			e.node = startNode(t, e.db, actors.Config{})

			_, err = e.reserve(t, alice, 10)
			wantLimit(t, err, 10, 10)
			e.mustReserve(t, bob, 10, 11)
			if _, err := e.node.eng.Release(ctx, e.eventID, held.ID, alice); err != nil {
				t.Fatal(err)
			}
			e.mustReserve(t, alice, 12, 13, 14, 15)
			_, err = e.reserve(t, alice, 16)
			wantLimit(t, err, 10, 10)
		})
	}
}

// TestSaleWindow moves the grain's clock through an event's sale: before
// sale_starts_at, after sale_ends_at, once started and once cancelled a
// reserve is not_on_sale and holds nothing; inside the window it holds.
func TestSaleWindow(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
	clk := &clock{t: t0}
	e := newRuledEnv(t, actors.Config{Now: clk.Now}, func(ev *boxoffice.Event) {
		ev.SaleStartsAt, ev.SaleEndsAt, ev.StartsAt = t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	})
	ctx := context.Background()
	user := uuid.New()
	steps := []struct {
		name string
		at   time.Time
		code string // "" holds
	}{
		{"before the sale", t0, boxoffice.ENotOnSale},
		{"a second before", t0.Add(time.Hour - time.Second), boxoffice.ENotOnSale},
		{"at the opening", t0.Add(time.Hour), ""},
		{"inside", t0.Add(90 * time.Minute), ""},
		{"at the close", t0.Add(2 * time.Hour), boxoffice.ENotOnSale},
		{"after the start", t0.Add(4 * time.Hour), boxoffice.ENotOnSale},
	}
	for i, st := range steps {
		clk.Set(st.at)
		_, err := e.reserve(t, user, i)
		if st.code == "" {
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			continue
		}
		wantCode(t, err, st.code)
		if s := e.statuses(t); s.Statuses[i] != boxoffice.SeatAvailable {
			t.Fatalf("%s: a refused reserve held seat %d", st.name, i)
		}
	}

	// A PATCH that ends the sale later cannot sell past the start.
	later := t0.Add(5 * time.Hour)
	ev, err := e.db.UpdateEvent(ctx, e.eventID, persistence.EventPatch{SaleEndsAt: &later})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.node.eng.UpdateRules(ctx, ev); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(150 * time.Minute))
	e.mustReserve(t, user, 20)
	clk.Set(t0.Add(3 * time.Hour))
	_, err = e.reserve(t, user, 21)
	wantCode(t, err, boxoffice.ENotOnSale)

	// Cancelled (the flag is data for now): not on sale even in the window.
	clk.Set(t0.Add(150 * time.Minute))
	ev.CancelledAt, ev.Revision = t0, ev.Revision+1
	if err := e.node.eng.UpdateRules(ctx, ev); err != nil {
		t.Fatal(err)
	}
	_, err = e.reserve(t, user, 22)
	wantCode(t, err, boxoffice.ENotOnSale)
}

// TestRefusalOrder: when several refusals apply the grain gives the first
// of not_on_sale, limit_reached, seat_unavailable (API.md; queue_required
// sits between the first two and is decided before the grain).
func TestRefusalOrder(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: t0}
	two := 2
	e := newRuledEnv(t, actors.Config{Now: clk.Now}, func(ev *boxoffice.Event) {
		ev.MaxTicketsPerUser, ev.SaleEndsAt = &two, t0.Add(time.Hour)
	})
	alice, bob := uuid.New(), uuid.New()
	e.mustReserve(t, bob, 5)
	e.mustReserve(t, alice, 0, 1)
	_, err := e.reserve(t, alice, 5) // over the limit and a taken seat
	wantLimit(t, err, 2, 2)
	_, err = e.reserve(t, bob, 0) // a taken seat only
	wantCode(t, err, boxoffice.ESeatUnavailable)
	clk.Set(t0.Add(time.Hour))
	_, err = e.reserve(t, alice, 5) // all three
	wantCode(t, err, boxoffice.ENotOnSale)
}

// TestPatchedLimitReachesGrain: a PATCHed max_tickets_per_user binds the
// next reserve once pushed (Engine.UpdateRules, what the PATCH route does),
// an older revision never overwrites a newer one, and a grain that missed
// the push takes the new value at its periodic re-read.
func TestPatchedLimitReachesGrain(t *testing.T) {
	e := newRuledEnv(t, actors.Config{RulesRefresh: 50 * time.Millisecond}, nil)
	ctx := context.Background()
	user := uuid.New()
	e.mustReserve(t, user, 0, 1)

	two := 2
	ev, err := e.db.UpdateEvent(ctx, e.eventID, persistence.EventPatch{MaxTicketsPerUser: &two})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.node.eng.UpdateRules(ctx, ev); err != nil {
		t.Fatal(err)
	}
	_, err = e.reserve(t, user, 2)
	wantLimit(t, err, 2, 2)

	stale := ev
	ten := 10
	stale.MaxTicketsPerUser, stale.Revision = &ten, ev.Revision-1
	if err := e.node.eng.UpdateRules(ctx, stale); err != nil {
		t.Fatal(err)
	}
	_, err = e.reserve(t, user, 2)
	wantLimit(t, err, 2, 2)

	// No push: the grain's own re-read lifts the limit (0 = none).
	zero := 0
	if _, err := e.db.UpdateEvent(ctx, e.eventID, persistence.EventPatch{MaxTicketsPerUser: &zero}); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		_, err := e.reserve(t, user, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "the grain re-reads the lifted limit")
}

// legacySnapshot rewrites the event's latest snapshot as the BXS1 format
// wrote it (no buyer list, no admissions), as left by a node from before
// the limit.
func legacySnapshot(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	v, state, ok, err := e.db.LatestSnapshot(ctx, e.eventID)
	if err != nil || !ok {
		t.Fatalf("no snapshot to rewrite: %v", err)
	}
	m, err := seatmap.Decode(e.eventID, state)
	if err != nil {
		t.Fatal(err)
	}
	if m.Admitted() != 0 {
		t.Fatal("a BXS1 snapshot cannot carry admissions")
	}
	// The buyer list and, after it, BXS3's admission count (0: one byte).
	buyers := len(binary.AppendUvarint(nil, uint64(len(m.Buyers())))) + 1
	for _, n := range m.Buyers() {
		buyers += 16 + len(binary.AppendUvarint(nil, uint64(n)))
	}
	old := append([]byte("BXS1"), state[4:len(state)-buyers]...)
	if _, err := seatmap.Decode(e.eventID, old); !errors.Is(err, seatmap.ErrNoBuyers) {
		t.Fatalf("rewritten snapshot: %v, want ErrNoBuyers", err)
	}
	conn, err := pgx.Connect(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE snapshots SET state = $3 WHERE event_id = $1 AND version = $2`, e.eventID, int64(v), old); err != nil {
		t.Fatal(err)
	}
}

// unlimited lifts the event's max_tickets_per_user, for tests that hold
// many seats as one user on purpose.
func unlimited(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	zero := 0
	ev, err := e.db.UpdateEvent(ctx, e.eventID, persistence.EventPatch{MaxTicketsPerUser: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.node.eng.UpdateRules(ctx, ev); err != nil {
		t.Fatal(err)
	}
}
