package boxoffice

import (
	"context"

	"github.com/google/uuid"
)

// ProjectedBooking is a booking row the write-behind projection writes, with
// the journal version of the record it reflects: a row is only ever
// replaced by one of a later version, so a lagging writer (an old owner's
// projector, a catch-up after a crash) never turns a newer state back.
type ProjectedBooking struct {
	Booking
	Version uint64
}

// ProjectionMark says that an event's journal up to Version is reflected in
// the bookings table: a catch-up after a crash replays the journal after it.
type ProjectionMark struct {
	EventID uuid.UUID
	Version uint64
}

// BookingProjection is where the seat engine writes the bookings of holds
// behind the journal (holds, releases, expiries), coalesced and with a
// bounded lag, instead of in the transaction every hold's reply waits for.
// Sales, refunds and the confirmed bookings stay in the journal's commit
// (I1, I2).
type BookingProjection interface {
	// ProjectBookings upserts rows (each only over an in-progress row of an
	// older version) and advances the marks, in one transaction.
	ProjectBookings(ctx context.Context, rows []ProjectedBooking, marks []ProjectionMark) error
	// ProjectionWatermark is the event's mark; ok is false when the event
	// has none (nothing was projected yet: catch up from the start).
	ProjectionWatermark(ctx context.Context, eventID uuid.UUID) (version uint64, ok bool, err error)
	// EventsByFingerprint lists the events whose BookingFingerprint is fp
	// (usually one): where a booking whose ID carries fp may live, for a
	// node that must find a hold the projection has not written yet.
	EventsByFingerprint(ctx context.Context, fp int64) ([]uuid.UUID, error)
}
