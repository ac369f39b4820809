package persistence_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

// Bookings are written by journal commits: inserted on hold, updated on
// confirm, and read back exactly.
func TestBookingsFromCommits(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, 0)
	ctx := ctxT(t)
	event, user := uuid.New(), uuid.New()
	epoch := acquire(t, db, event, "node-a")
	space := boxoffice.NewTicketSpace(event)

	b1 := hold(event, user, space.ID(1), space.ID(2))
	b1.CreatedAt = b1.CreatedAt.Add(-time.Minute)
	b2 := hold(event, user, space.ID(3))
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 2), Bookings: []boxoffice.Booking{b1, b2}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Booking(ctx, b1.ID)
	if err != nil || !reflect.DeepEqual(got, b1) {
		t.Fatalf("Booking = %+v, %v;\nwant %+v", got, err, b1)
	}

	confirmed := b1
	confirmed.Status = boxoffice.BookingConfirmed
	confirmed.ConfirmedAt = time.Now().UTC().Round(time.Microsecond)
	confirmed.UpdatedAt = confirmed.ConfirmedAt
	cancelled := b2
	cancelled.Status = boxoffice.BookingInProgress
	cancelled2 := b2
	cancelled2.Status = boxoffice.BookingCancelled
	err = submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(3, 1),
		Bookings: []boxoffice.Booking{confirmed, cancelled, cancelled2}, // b2 twice: the last state wins
		Sales:    []boxoffice.Sale{{BookingID: b1.ID, TicketIDs: b1.TicketIDs}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Booking(ctx, b1.ID); !reflect.DeepEqual(got, confirmed) {
		t.Fatalf("after confirm: %+v,\nwant %+v", got, confirmed)
	}
	list, err := db.UserBookings(ctx, user, 10)
	if err != nil || len(list) != 2 || list[0].ID != b2.ID || list[1].ID != b1.ID || list[0].Status != boxoffice.BookingCancelled {
		t.Fatalf("UserBookings = %+v, %v; want b2 (cancelled) then b1", list, err)
	}
	if list, _ := db.UserBookings(ctx, user, 1); len(list) != 1 {
		t.Fatalf("limit 1 gave %d", len(list))
	}
	_, err = db.Booking(ctx, uuid.New())
	wantCode(t, err, boxoffice.ENotFound)
}
