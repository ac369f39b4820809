package persistence_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

// Paging a user's bookings by (created_at, id): each booking exactly once,
// in the one-query order, with ties on created_at broken by id, and new
// bookings committed between pages never shifting the pages after them.
func TestBookingsUserPage(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, 0)
	ctx := ctxT(t)
	event, user, other := uuid.New(), uuid.New(), uuid.New()
	epoch := acquire(t, db, event, "node-a")
	space := boxoffice.NewTicketSpace(event)
	start := time.Now().UTC().Round(time.Microsecond).Add(-time.Hour)
	version := uint64(1)
	commit := func(bs ...boxoffice.Booking) {
		t.Helper()
		if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(version, 1), Bookings: bs}); err != nil {
			t.Fatal(err)
		}
		version++
	}
	var want []boxoffice.Booking
	var batch []boxoffice.Booking
	for i := range 40 {
		b := hold(event, user, space.ID(i))
		b.CreatedAt = start.Add(time.Duration(i/4) * time.Second) // four to a timestamp
		want = append(want, b)
		batch = append(batch, b)
		o := hold(event, other, space.ID(1000+i))
		o.CreatedAt = b.CreatedAt
		batch = append(batch, o)
	}
	commit(batch...)
	slices.SortFunc(want, func(a, b boxoffice.Booking) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(b.ID[:], a.ID[:])
	})

	var got []uuid.UUID
	var at time.Time
	var id uuid.UUID
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatal("the pages do not advance")
		}
		page, err := db.UserBookingsPage(ctx, user, at, id, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			got = append(got, b.ID)
		}
		// A new booking between pages is the newest: before every page.
		nb := hold(event, user, space.ID(2000+pages))
		commit(nb)
		if len(page) < 3 {
			break
		}
		at, id = page[len(page)-1].CreatedAt, page[len(page)-1].ID
	}
	wantIDs := make([]uuid.UUID, len(want))
	for i, b := range want {
		wantIDs[i] = b.ID
	}
	if !slices.Equal(got, wantIDs) {
		t.Fatalf("paged %d bookings, want each of %d once in order:\n got %v\nwant %v", len(got), len(wantIDs), got, wantIDs)
	}
	if _, err := db.UserBookingsPage(ctx, user, time.Time{}, uuid.Nil, 0); err == nil {
		t.Error("limit 0 accepted")
	}
}
