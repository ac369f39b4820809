package persistence_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestProjectBookings: a projected row replaces only an in-progress row of
// an older version (a late or repeated write never turns a sale or a newer
// state back), the watermark only rises, and an event whose projection has
// stood behind its journal for a minute is woken by the sweeper.
func TestProjectBookings(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := newWriter(t, db, 0)
	event, user := uuid.New(), uuid.New()
	epoch := acquire(t, db, event, "n1")
	sold, live := hold(event, user, uuid.New()), hold(event, user, uuid.New())
	sold.Status = boxoffice.BookingConfirmed
	// The sale commits synchronously at version 2.
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 2), Bookings: []boxoffice.Booking{sold}}); err != nil {
		t.Fatal(err)
	}
	proj := func(b boxoffice.Booking, st boxoffice.BookingStatus, v uint64, mark uint64) {
		t.Helper()
		b.Status = st
		if err := db.ProjectBookings(ctx, []boxoffice.ProjectedBooking{{Booking: b, Version: v}},
			[]boxoffice.ProjectionMark{{EventID: event, Version: mark}}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name     string
		b        boxoffice.Booking
		status   boxoffice.BookingStatus
		version  uint64
		mark     uint64
		want     boxoffice.BookingStatus
		wantMark uint64
	}{
		{"the hold of a sale, written late, leaves the sale", sold, boxoffice.BookingInProgress, 1, 2, boxoffice.BookingConfirmed, 2},
		{"a new hold is inserted", live, boxoffice.BookingInProgress, 3, 3, boxoffice.BookingInProgress, 3},
		{"its release replaces it", live, boxoffice.BookingCancelled, 4, 4, boxoffice.BookingCancelled, 4},
		{"an old owner's late write of the hold changes nothing", live, boxoffice.BookingInProgress, 3, 3, boxoffice.BookingCancelled, 4},
	}
	for _, s := range steps {
		proj(s.b, s.status, s.version, s.mark)
		got, err := db.Booking(ctx, s.b.ID)
		if err != nil || got.Status != s.want {
			t.Errorf("%s: status = %q, %v; want %q", s.name, got.Status, err, s.want)
		}
		if v, ok, err := db.ProjectionWatermark(ctx, event); err != nil || !ok || v != s.wantMark {
			t.Errorf("%s: watermark = %d, %v, %v; want %d", s.name, v, ok, err, s.wantMark)
		}
	}

	// The journal moves on (version 5), the projection stays at 4.
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(5, 1)}); err != nil {
		t.Fatal(err)
	}
	if ids, err := db.OverdueHoldEvents(ctx, 10); err != nil || slices.Contains(ids, event) {
		t.Fatalf("overdue = %v, %v; a projection behind by moments is not stuck", ids, err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE booking_projection SET updated_at = now() - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	if ids, err := db.OverdueHoldEvents(ctx, 10); err != nil || !slices.Contains(ids, event) {
		t.Fatalf("overdue = %v, %v; want the event whose projection is stuck", ids, err)
	}
}

// TestEventsByFingerprint: PostgreSQL computes each event's booking
// fingerprint (events.booking_fp, migration 0640) exactly as
// boxoffice.BookingFingerprint does, so a booking ID made by
// boxoffice.NewBookingID leads back to its event.
func TestEventsByFingerprint(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	var events []uuid.UUID
	for range 3 {
		ev, _ := mustEvent(t, db, 1, 1, 2)
		events = append(events, ev.ID)
	}
	for _, ev := range events {
		fp, ok := boxoffice.EventFingerprintOf(boxoffice.NewBookingID(ev))
		if !ok {
			t.Fatal("a new booking ID carries no fingerprint")
		}
		got, err := db.EventsByFingerprint(ctx, fp)
		if err != nil || !slices.Equal(got, []uuid.UUID{ev}) {
			t.Errorf("events of fingerprint %x = %v, %v; want [%s]", fp, got, err, ev)
		}
	}
	if got, err := db.EventsByFingerprint(ctx, boxoffice.BookingFingerprint(uuid.New())); err != nil || len(got) != 0 {
		t.Errorf("events of an unknown fingerprint = %v, %v; want none", got, err)
	}
}
