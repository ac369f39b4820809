// Package dbtest makes the PostgreSQL fixtures other packages' tests share:
// a migrated database and catalog events. It is for tests outside
// persistence (persistence's own tests must not import it: it imports
// persistence).
package dbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// OpenDB opens and migrates the database at url (pgtest.NewDB makes one);
// it closes with the test.
func OpenDB(tb testing.TB, url string) *persistence.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := persistence.Open(ctx, persistence.Config{URL: url, MaxConns: 16})
	if err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// SmallHall is one section "A" of one row of 10 seats.
func SmallHall() boxoffice.SeatMap {
	return boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 10}}}}}
}

// CreateEvent stores a venue with seat map sm, a performer and an event
// there a month ahead with waiting room room, and returns the event. Its
// sections are priced 100.00, 50.00, 33.33, ... EUR in order.
func CreateEvent(tb testing.TB, db *persistence.DB, sm boxoffice.SeatMap, room boxoffice.WaitingRoom) boxoffice.Event {
	tb.Helper()
	ctx := context.Background()
	v, _, err := db.CreateVenue(ctx, boxoffice.Venue{ID: uuid.New(), Name: "Test Arena", City: "Madrid",
		Location: boxoffice.Location{Lat: 40.4, Lon: -3.7}, SeatMap: sm})
	if err != nil {
		tb.Fatalf("create venue: %v", err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Testers"})
	if err != nil {
		tb.Fatalf("create performer: %v", err)
	}
	prices := map[string]boxoffice.Money{}
	for i, s := range sm.Sections {
		prices[s.Name] = boxoffice.Money(10000 / (i + 1))
	}
	ev, _, _, err := db.CreateEvent(ctx, boxoffice.Event{ID: uuid.New(), Name: "Test Night", Type: "concert",
		StartsAt: time.Now().Add(30 * 24 * time.Hour), VenueID: v.ID, PerformerID: p.ID, Currency: "EUR",
		Prices: prices, WaitingRoom: room})
	if err != nil {
		tb.Fatalf("create event: %v", err)
	}
	return ev
}

// SetWaitingRoom changes an event's waiting room in the events table, as
// the admin PATCH does before it tells the room.
func SetWaitingRoom(tb testing.TB, db *persistence.DB, eventID uuid.UUID, room boxoffice.WaitingRoom) {
	tb.Helper()
	if _, err := db.UpdateEvent(context.Background(), eventID, persistence.EventPatch{WaitingRoom: &room}); err != nil {
		tb.Fatalf("update event: %v", fmt.Errorf("waiting room of %s: %w", eventID, err))
	}
}
