package persistence_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/google/uuid"
)

func TestCreateVenueIdempotentByID(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	v := newVenue(seatMap(2, 3, 10))
	got, created, err := db.CreateVenue(ctx, v)
	if err != nil || !created {
		t.Fatalf("first create: created=%v err=%v", created, err)
	}
	again, created, err := db.CreateVenue(ctx, v)
	if err != nil || created {
		t.Fatalf("retry: created=%v err=%v, want stored venue and created=false", created, err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("retry returned %+v, want %+v", again, got)
	}
	read, err := db.Venue(ctx, v.ID)
	if err != nil || !reflect.DeepEqual(read, v) {
		t.Fatalf("Venue = %+v, %v; want %+v", read, err, v)
	}
	other := v
	other.Name = "Another hall"
	_, _, err = db.CreateVenue(ctx, other)
	wantCode(t, err, boxoffice.EInvalid)
	if f := err.(*boxoffice.Error).Details["field"]; f != "id" {
		t.Fatalf("conflicting body: field %v, want id", f)
	}
}

func TestCreatePerformerIdempotentByID(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	p := boxoffice.Performer{ID: uuid.New(), Name: "Quartet", Biography: "Strings."}
	if _, created, err := db.CreatePerformer(ctx, p); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if got, created, err := db.CreatePerformer(ctx, p); err != nil || created || got != p {
		t.Fatalf("retry: %+v %v %v", got, created, err)
	}
	p.Biography = "Brass."
	_, _, err := db.CreatePerformer(ctx, p)
	wantCode(t, err, boxoffice.EInvalid)
	_, err = db.Performer(ctx, uuid.New())
	wantCode(t, err, boxoffice.ENotFound)
}

func TestCreateEvent(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	v, _, err := db.CreateVenue(ctx, newVenue(seatMap(3, 4, 5)))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "Band"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEvent(v, p)
	e.StartsAt = time.Date(2026, 9, 1, 20, 0, 0, 123456789, time.FixedZone("CEST", 7200))

	got, n, created, err := db.CreateEvent(ctx, e)
	if err != nil || !created || n != 60 {
		t.Fatalf("create: tickets=%d created=%v err=%v, want 60 tickets", n, created, err)
	}
	read, err := db.Event(ctx, e.ID)
	if err != nil || !reflect.DeepEqual(read, got) {
		t.Fatalf("Event = %+v, %v;\nwant %+v", read, err, got)
	}
	if !read.StartsAt.Equal(e.StartsAt.Round(time.Microsecond)) {
		t.Fatalf("starts_at %v, want %v", read.StartsAt, e.StartsAt)
	}

	tickets, err := db.Tickets(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := got.Tickets(v.SeatMap); !reflect.DeepEqual(tickets, want) {
		t.Fatalf("Tickets differ from Event.Tickets layout: got %d, first %+v; want first %+v", len(tickets), tickets[0], want[0])
	}

	cases := []struct {
		name    string
		mutate  func(*boxoffice.Event)
		code    string
		created bool
	}{
		{"same body retry", func(*boxoffice.Event) {}, "", false},
		{"same ID other body", func(e *boxoffice.Event) { e.Name = "Other" }, boxoffice.EInvalid, false},
		{"unknown venue", func(e *boxoffice.Event) { e.ID, e.VenueID = uuid.New(), uuid.New() }, boxoffice.ENotFound, false},
		{"unknown performer", func(e *boxoffice.Event) { e.ID, e.PerformerID = uuid.New(), uuid.New() }, boxoffice.ENotFound, false},
		{"price missing", func(e *boxoffice.Event) { e.ID = uuid.New(); e.Prices = map[string]boxoffice.Money{"A": 1} }, boxoffice.EInvalid, false},
		{"invalid currency", func(e *boxoffice.Event) { e.ID, e.Currency = uuid.New(), "euro" }, boxoffice.EInvalid, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e2 := e
			tc.mutate(&e2)
			got2, n2, created, err := db.CreateEvent(ctx, e2)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if _, err := db.Event(ctx, e2.ID); e2.ID != e.ID && boxoffice.ErrorCode(err) != boxoffice.ENotFound {
					t.Fatalf("a refused event was stored: %v", err)
				}
				return
			}
			if err != nil || created != tc.created || n2 != n || !reflect.DeepEqual(got2, got) {
				t.Fatalf("got %+v, %d, %v, %v", got2, n2, created, err)
			}
		})
	}
	var tickets2 int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&tickets2); err != nil || tickets2 != 60 {
		t.Fatalf("%d tickets in the table, want 60 (%v)", tickets2, err)
	}
}

// The largest events are created in one COPY; benchmarks time it
// (BenchmarkCreateEvent50k), this checks the rows.
func TestCreateEvent50000Seats(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	e, v := mustEvent(t, db, 10, 50, 100)
	var n, distinct, maxIdx int
	err := db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT ticket_id), max(idx) FROM tickets WHERE event_id = $1`, e.ID).
		Scan(&n, &distinct, &maxIdx)
	if err != nil || n != 50000 || distinct != 50000 || maxIdx != 49999 || v.SeatMap.Capacity() != 50000 {
		t.Fatalf("rows=%d distinct=%d max idx=%d err=%v; want 50000, 50000, 49999", n, distinct, maxIdx, err)
	}
	space := boxoffice.NewTicketSpace(e.ID)
	var id uuid.UUID
	if err := db.Pool().QueryRow(ctx, `SELECT ticket_id FROM tickets WHERE event_id = $1 AND idx = 31337`, e.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if idx, ok := space.Index(id); !ok || idx != 31337 {
		t.Fatalf("ticket 31337 has ID %s, index %d ok=%v", id, idx, ok)
	}
}

// Every catalog change queues its listing in the outbox in the same
// transaction: both rows carry the same xmin (transaction ID).
func TestEventOutboxSameTransaction(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	e, v := mustEvent(t, db, 2, 2, 5)
	rows, err := db.PendingOutbox(ctx, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox after create: %d rows, %v", len(rows), err)
	}
	var l boxoffice.Listing
	if err := json.Unmarshal(rows[0].Payload, &l); err != nil {
		t.Fatal(err)
	}
	want := boxoffice.Listing{
		EventID: e.ID, Name: e.Name, Type: e.Type, StartsAt: e.StartsAt, VenueID: v.ID, VenueName: v.Name,
		City: v.City, Location: v.Location, PerformerID: e.PerformerID, PerformerName: "The Band",
		MinPrice: 8900, Currency: "EUR", Capacity: 20, Revision: 1,
		SaleStartsAt: e.CreatedAt, SaleEndsAt: e.StartsAt, // the default window
	}
	if rows[0].Topic != persistence.TopicListing || !reflect.DeepEqual(l, want) {
		t.Fatalf("outbox %s %+v,\nwant listing %+v", rows[0].Topic, l, want)
	}
	sameTx(t, db, e.ID, rows[0].ID)

	name := "Tour 2026 (extra date)"
	wr := boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 50}
	updated, err := db.UpdateEvent(ctx, e.ID, persistence.EventPatch{Name: &name, WaitingRoom: &wr})
	wr.Period = 1 // switched on: its first on-period
	if err != nil || updated.Name != name || updated.WaitingRoom != wr || updated.Description != e.Description {
		t.Fatalf("update: %+v %v", updated, err)
	}
	rows, err = db.PendingOutbox(ctx, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("outbox after update: %d rows, %v", len(rows), err)
	}
	if err := json.Unmarshal(rows[1].Payload, &l); err != nil || l.Revision != 2 || l.Name != name {
		t.Fatalf("second listing %+v (%v), want revision 2 named %q", l, err, name)
	}
	sameTx(t, db, e.ID, rows[1].ID)
	if read, _ := db.Event(ctx, e.ID); !reflect.DeepEqual(read, updated) {
		t.Fatalf("read back %+v, want %+v", read, updated)
	}

	_, err = db.UpdateEvent(ctx, uuid.New(), persistence.EventPatch{Name: &name})
	wantCode(t, err, boxoffice.ENotFound)
	empty := ""
	_, err = db.UpdateEvent(ctx, e.ID, persistence.EventPatch{Name: &empty})
	wantCode(t, err, boxoffice.EInvalid)
	if rows, _ := db.PendingOutbox(ctx, 10); len(rows) != 2 {
		t.Fatalf("refused updates queued listings: %d rows", len(rows))
	}
}

func sameTx(t *testing.T, db *persistence.DB, event uuid.UUID, outboxID int64) {
	t.Helper()
	var same bool
	err := db.Pool().QueryRow(ctxT(t), `SELECT (SELECT xmin::text FROM events WHERE id = $1) = (SELECT xmin::text FROM outbox WHERE id = $2)`,
		event, outboxID).Scan(&same)
	if err != nil || !same {
		t.Fatalf("event row and outbox row %d were not written by the same transaction (%v)", outboxID, err)
	}
}

func TestListingsKeysetPages(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	want := map[uuid.UUID]bool{}
	for i := 0; i < 5; i++ {
		e, _ := mustEvent(t, db, 1, 1, 3)
		want[e.ID] = true
	}
	var after uuid.UUID
	pages := 0
	for {
		page, err := db.Listings(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		for _, l := range page {
			if !want[l.EventID] {
				t.Fatalf("unexpected or repeated listing %s", l.EventID)
			}
			delete(want, l.EventID)
			if l.Capacity != 3 || l.Revision != 1 {
				t.Fatalf("listing %+v", l)
			}
		}
		after = page[len(page)-1].EventID
	}
	if len(want) != 0 || pages != 3 {
		t.Fatalf("%d listings never returned, %d pages (want 3)", len(want), pages)
	}
}

func TestUpsertUser(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	u := boxoffice.User{ID: uuid.New(), Email: "ada@example.com", Name: "Ada"}
	if err := db.UpsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Name = "Ada L."
	if err := db.UpsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.Pool().QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, u.ID).Scan(&name); err != nil || name != "Ada L." {
		t.Fatalf("name %q, %v", name, err)
	}
	err := db.UpsertUser(ctx, boxoffice.User{ID: uuid.New(), Email: "ada@example.com"})
	wantCode(t, err, boxoffice.EInvalid)
	if err := db.UpsertUser(ctx, boxoffice.User{ID: uuid.New()}); err != nil {
		t.Fatalf("users without email: %v", err)
	}
	if err := db.UpsertUser(ctx, boxoffice.User{ID: uuid.New()}); err != nil {
		t.Fatalf("second user without email: %v", err)
	}
}

// TestUpsertUserRace: concurrent first sign-ins of one new user (a browser
// opening several tabs) all succeed; before the retry, the losers of the
// race tripped over the winner's email and got invalid_argument.
func TestUpsertUserRace(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	for round := range 20 {
		u := boxoffice.User{ID: uuid.New(), Email: fmt.Sprintf("race%d@example.com", round), Name: "Race"}
		errs := make(chan error, 8)
		start := make(chan struct{})
		for range cap(errs) {
			go func() {
				<-start
				errs <- db.UpsertUser(ctx, u)
			}()
		}
		close(start)
		for range cap(errs) {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent first sign-in: %v", round, err)
			}
		}
	}
}

// TestEventSaleRules: an event's sale rules are stored and read back, a
// retried creation with them is the same creation, sale_ends_at follows a
// PATCHed starts_at until it is set explicitly, the limit is checked, and
// the listing carries the effective window.
func TestEventSaleRules(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	v, _, err := db.CreateVenue(ctx, newVenue(seatMap(1, 1, 5)))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "Band"})
	if err != nil {
		t.Fatal(err)
	}
	starts := time.Date(2036, 9, 1, 20, 0, 0, 0, time.UTC)
	e := newEvent(v, p)
	four := 4
	e.StartsAt, e.MaxTicketsPerUser, e.SaleStartsAt = starts, &four, starts.Add(-30*24*time.Hour)
	got, _, created, err := db.CreateEvent(ctx, e)
	if err != nil || !created {
		t.Fatalf("create: %v", err)
	}
	if got.TicketLimit() != 4 || !got.SaleOpens().Equal(e.SaleStartsAt) || !got.SaleEnd().Equal(starts) ||
		!got.RefundDeadline().Equal(starts.Add(-24*time.Hour)) || got.CreatedAt.IsZero() {
		t.Fatalf("created %+v", got)
	}
	if again, _, created, err := db.CreateEvent(ctx, e); err != nil || created || !reflect.DeepEqual(again, got) {
		t.Fatalf("retry: created=%v err=%v\n%+v\nwant %+v", created, err, again, got)
	}

	later := starts.Add(time.Hour)
	up, err := db.UpdateEvent(ctx, e.ID, persistence.EventPatch{StartsAt: &later})
	if err != nil || !up.SaleEnd().Equal(later) || up.Revision != got.Revision+1 {
		t.Fatalf("sale end follows starts_at: %v %v rev %d", up.SaleEnd(), err, up.Revision)
	}
	ends := starts.Add(-time.Hour)
	if up, err = db.UpdateEvent(ctx, e.ID, persistence.EventPatch{SaleEndsAt: &ends}); err != nil {
		t.Fatal(err)
	}
	if up, err = db.UpdateEvent(ctx, e.ID, persistence.EventPatch{StartsAt: &starts}); err != nil || !up.SaleEnd().Equal(ends) {
		t.Fatalf("explicit sale end moved: %v %v", up.SaleEnd(), err)
	}
	for _, bad := range []int{-1, 1001} {
		if _, err := db.UpdateEvent(ctx, e.ID, persistence.EventPatch{MaxTicketsPerUser: &bad}); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
			t.Fatalf("limit %d: %v", bad, err)
		}
	}
	zero := 0
	if up, err = db.UpdateEvent(ctx, e.ID, persistence.EventPatch{MaxTicketsPerUser: &zero}); err != nil || up.TicketLimit() != 0 {
		t.Fatalf("limit 0: %v", err)
	}
	if read, err := db.Event(ctx, e.ID); err != nil || !reflect.DeepEqual(read, up) {
		t.Fatalf("read %+v, %v;\nwant %+v", read, err, up)
	}
	ls, err := db.Listings(ctx, uuid.Nil, 10)
	if err != nil || len(ls) != 1 || !ls[0].SaleStartsAt.Equal(e.SaleStartsAt) || !ls[0].SaleEndsAt.Equal(ends) {
		t.Fatalf("listing %+v, %v", ls, err)
	}
}
