package persistence_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openDB returns a migrated DB on a fresh database, closed when tb ends.
func openDB(tb testing.TB) *persistence.DB {
	tb.Helper()
	db := openRaw(tb)
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// openRaw is openDB without the schema.
func openRaw(tb testing.TB) *persistence.DB {
	tb.Helper()
	cfg := persistence.DefaultConfig()
	cfg.URL = pgtest.NewDB(tb)
	cfg.MaxConns = 32
	db, err := persistence.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// seatMap is sections of rows×seats each, named A, B, ...
func seatMap(sections, rows, seats int) boxoffice.SeatMap {
	var m boxoffice.SeatMap
	for s := 0; s < sections; s++ {
		sec := boxoffice.Section{Name: string(rune('A' + s))}
		for r := 0; r < rows; r++ {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: string(rune('a'+r%26)) + string(rune('a'+r/26)), Seats: seats})
		}
		m.Sections = append(m.Sections, sec)
	}
	return m
}

func newVenue(m boxoffice.SeatMap) boxoffice.Venue {
	return boxoffice.Venue{
		ID: uuid.New(), Name: "Olympiahalle", City: "Munich", Address: "Spiridon-Louis-Ring 21",
		Location: boxoffice.Location{Lat: 48.1755, Lon: 11.5518}, SeatMap: m,
	}
}

func newEvent(v boxoffice.Venue, p boxoffice.Performer) boxoffice.Event {
	prices := map[string]boxoffice.Money{}
	for i, s := range v.SeatMap.Sections {
		prices[s.Name] = boxoffice.Money(9900 - 1000*i)
	}
	return boxoffice.Event{
		ID: uuid.New(), Name: "Tour 2026", Type: boxoffice.TypeConcert, Description: "Live",
		StartsAt: time.Date(2026, 9, 1, 20, 0, 0, 0, time.UTC), VenueID: v.ID, PerformerID: p.ID,
		Currency: "EUR", Prices: prices,
	}
}

// mustEvent creates a venue (sections×rows×seats), a performer and an event.
func mustEvent(tb testing.TB, db *persistence.DB, sections, rows, seats int) (boxoffice.Event, boxoffice.Venue) {
	tb.Helper()
	ctx := ctxT(tb)
	v, _, err := db.CreateVenue(ctx, newVenue(seatMap(sections, rows, seats)))
	if err != nil {
		tb.Fatalf("create venue: %v", err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Band", Biography: "Loud."})
	if err != nil {
		tb.Fatalf("create performer: %v", err)
	}
	e, _, _, err := db.CreateEvent(ctx, newEvent(v, p))
	if err != nil {
		tb.Fatalf("create event: %v", err)
	}
	return e, v
}

// wantCode fails unless err carries the boxoffice code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := boxoffice.ErrorCode(err); got != code {
		tb.Fatalf("error %v has code %s, want %s", err, got, code)
	}
}

func wantIs(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error %v, want one wrapping %v", err, target)
	}
}
