package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ReserveRequest asks the seat engine to hold seats, all or none.
type ReserveRequest struct {
	EventID uuid.UUID
	UserID  uuid.UUID
	// BookingID names the hold; the API generates it so that a retried
	// request to the engine is recognised and answered with the same hold.
	BookingID uuid.UUID
	TicketIDs []uuid.UUID
	// Standing asks for places of standing sections by quantity, beside
	// or instead of TicketIDs (API.md "General admission"); the event
	// grain picks the places, all or nothing with the seats.
	Standing []StandingWant
	// IdempotencyKey, when set, is the client's Idempotency-Key: the same
	// user with the same key and the same Fingerprint within
	// IdempotencyWindow gets the first reply again (BookingID is then
	// replaced by the first request's), never a second hold.
	IdempotencyKey string
	// Fingerprint identifies the request's body (a hash of it as parsed
	// JSON); required with IdempotencyKey.
	Fingerprint []byte
	// TicketTypes names the ticket type of each of TicketIDs (nil or ""
	// entries: the event's first type) and PromoCode a promo code of the
	// event ("" none); the grain prices the hold (h19price).
	TicketTypes []string
	PromoCode   string
	// BestAvailable, instead of TicketIDs and Standing, asks the event
	// grain to pick the seats (h19access): inside the same serialised
	// reserve, so no other hold can take them between the pick and the hold.
	BestAvailable *BestAvailable
}

// BestAvailable asks for Quantity seats picked by the seat engine
// (h19access): in Section when it is set, else in any seated section;
// with Accessible, a wheelchair space and, for the rest of the party,
// the seats beside it (companion seats first).
type BestAvailable struct {
	Section    string
	Quantity   int
	Accessible bool
}

// StandingWant is Quantity places of the standing section Section.
type StandingWant struct {
	Section  string
	Quantity int
	// TicketType is the places' ticket type ("" the first; h19price).
	TicketType string
}

// ConfirmRequest asks the seat engine to charge and sell a held booking.
type ConfirmRequest struct {
	EventID   uuid.UUID
	BookingID uuid.UUID
	UserID    uuid.UUID
	// IdempotencyKey comes from the client's Idempotency-Key header. It
	// belongs to one user and one booking (reused for another booking:
	// idempotency_conflict) and is never sent to the payment provider,
	// whose key is derived from the booking and its attempt number; a
	// booking is charged at most once with or without it.
	IdempotencyKey string
	Method         string
	Token          string
	// Booking, when set, is the booking as the caller just read it from
	// storage and found to be UserID's. The engine then decides from it
	// rather than reading the row again, so a confirm reads its booking
	// once; nil makes the engine read it.
	Booking *Booking
}

// SeatsView is every seat's status at one version of the event; Statuses is
// indexed by flat seat index (see TicketSpace).
type SeatsView struct {
	EventID  uuid.UUID
	Version  uint64
	Statuses []SeatStatus
}

// SeatCounts is how many seats are in each status.
type SeatCounts struct {
	Available int
	Reserved  int
	Booked    int
}

// EventStats is the admin view of one live event actor.
type EventStats struct {
	EventID             uuid.UUID
	NodeID              string
	Version             uint64
	Counts              SeatCounts
	Holds               int
	JournalLag          int
	LastSnapshotVersion uint64
	// Admitted counts the seats checked in at the door.
	Admitted int
}

// SeatEngine is the booking side of the platform as the API sees it:
// every call is decided by the event's actor, wherever it lives.
//
// Reserve returns the in-progress booking once the hold is durable, or
// ErrSeatUnavailable (details.ticket_ids), ErrNotFound (unknown event or
// ticket), ErrInvalid, ErrUnavailable, and with an IdempotencyKey the
// first reply of the same request again or ErrIdempotencyConflict. Release returns the cancelled
// booking, or ErrHoldExpired, ErrBookingState, ErrForbidden, ErrNotFound.
// Confirm returns the confirmed booking once the sale is durable, or
// ErrPaymentFailed, ErrHoldExpired, ErrBookingState, ErrForbidden,
// ErrIdempotencyConflict (the key was used for another booking), or
// ErrUnavailable (also while a payment's outcome is not known yet: the seats
// stay held and a later confirm tells the outcome).
type SeatEngine interface {
	Reserve(ctx context.Context, req ReserveRequest) (Booking, error)
	Release(ctx context.Context, eventID, bookingID, userID uuid.UUID) (Booking, error)
	Confirm(ctx context.Context, req ConfirmRequest) (Booking, error)
	Seats(ctx context.Context, eventID uuid.UUID) (SeatsView, error)
	Stats(ctx context.Context, eventID uuid.UUID) (EventStats, error)
}

// Listing is the denormalised view of an event that search indexes and
// answers with (API.md's PartialEvent). It travels as JSON from the
// catalog outbox through the bus to every node's index, so it carries json
// tags and nothing that needs a join at query time.
type Listing struct {
	EventID       uuid.UUID `json:"event_id"`
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	StartsAt      time.Time `json:"starts_at"`
	VenueID       uuid.UUID `json:"venue_id"`
	VenueName     string    `json:"venue_name"`
	City          string    `json:"city"`
	Location      Location  `json:"location"`
	PerformerID   uuid.UUID `json:"performer_id"`
	PerformerName string    `json:"performer_name"`
	MinPrice      Money     `json:"min_price"`
	Currency      string    `json:"currency"`
	Capacity      int       `json:"capacity"`
	// SaleStartsAt and SaleEndsAt are the effective sale window
	// (Event.SaleOpens, Event.SaleEnd); Cancelled marks a cancelled event.
	// Search computes the status from them when it answers.
	SaleStartsAt time.Time `json:"sale_starts_at,omitzero"`
	SaleEndsAt   time.Time `json:"sale_ends_at,omitzero"`
	Cancelled    bool      `json:"cancelled,omitempty"`
	// Deleted removes the event from search.
	Deleted bool `json:"deleted,omitempty"`
	// Revision orders changes to one event; an indexer ignores a listing
	// older than the one it has, which makes redelivery harmless.
	Revision int64 `json:"revision"`
}

// StatusAt is the listing's event status at now with available seats
// (negative: unknown), as Event.StatusAt decides it.
func (l Listing) StatusAt(now time.Time, available int) EventStatus {
	e := Event{StartsAt: l.StartsAt, SaleStartsAt: l.SaleStartsAt, SaleEndsAt: l.SaleEndsAt}
	if l.Cancelled {
		e.CancelledAt = l.StartsAt
	}
	return e.StatusAt(now, available)
}

// SaleWindow returns the listing's effective sale window; a listing
// written before it carried one is on sale until the start.
func (l Listing) SaleWindow() (starts, ends time.Time) {
	ends = l.SaleEndsAt
	if ends.IsZero() {
		ends = l.StartsAt
	}
	return l.SaleStartsAt, ends
}

// IdempotencyWindow is how long a reserve's Idempotency-Key is remembered
// (API.md: 24 hours); after it the key is free again.
const IdempotencyWindow = 24 * time.Hour

// ReserveClaim binds one user's Idempotency-Key on reserve to one request
// (Fingerprint, a hash of the body as parsed JSON) and to the one booking ID
// that every repetition of that request uses. Fixing the booking ID before
// the event's actor is asked is what lets the actor recognise a repetition,
// on any node, at any later time within the window.
type ReserveClaim struct {
	UserID      uuid.UUID
	Key         string
	Fingerprint []byte
	EventID     uuid.UUID
	BookingID   uuid.UUID
	CreatedAt   time.Time
}
