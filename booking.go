package boxoffice

import (
	"time"

	"github.com/google/uuid"
)

// SeatStatus is a seat's state in the seat engine; it fits in a byte so a
// 50,000-seat event's statuses fit in 50 KB.
type SeatStatus uint8

// Seat statuses as API.md names them.
const (
	SeatAvailable SeatStatus = iota
	SeatReserved
	SeatBooked
)

// String returns the API name of the status.
func (s SeatStatus) String() string {
	switch s {
	case SeatAvailable:
		return "available"
	case SeatReserved:
		return "reserved"
	case SeatBooked:
		return "booked"
	}
	return "unknown"
}

// BookingStatus is where a booking is in its life: a hold is in-progress
// until it is confirmed, cancelled by its owner, expired, or failed.
type BookingStatus string

// Booking statuses as API.md names them.
const (
	BookingInProgress BookingStatus = "in-progress"
	BookingConfirmed  BookingStatus = "confirmed"
	BookingCancelled  BookingStatus = "cancelled"
	BookingExpired    BookingStatus = "expired"
	BookingFailed     BookingStatus = "failed"
	// BookingPaymentPending is a confirm's answer while the payment waits
	// for the buyer's action (3-D Secure); the stored booking stays
	// in-progress, its hold pinned, until the provider settles it.
	BookingPaymentPending BookingStatus = "payment-pending"
	// BookingRefunded is a confirmed booking whose money went back: its
	// seats are on sale again and its tickets are revoked.
	BookingRefunded BookingStatus = "refunded"
)

// Final reports whether no further transition is possible.
func (s BookingStatus) Final() bool { return s != BookingInProgress && s != BookingPaymentPending }

// Booking is one user's hold on a set of seats of one event, and later
// its sale.
type Booking struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	EventID     uuid.UUID
	TicketIDs   []uuid.UUID
	Status      BookingStatus
	Total       Money
	Currency    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	ConfirmedAt time.Time
	UpdatedAt   time.Time
	// NextAction is what the buyer must do for a payment-pending booking
	// (a confirm's answer only; never stored).
	NextAction *PaymentActionRequired
	// Pricing (h19price): each ticket's type (parallel to TicketIDs; nil
	// when the event has no types), the lines Total adds up (nil for an
	// event without pricing: one line of tickets), and the promo code the
	// hold used ("" none).
	TicketTypes []string
	PriceLines  []PriceLine
	PromoCode   string
}

// User is the caller of the booking API, as its token describes it.
type User struct {
	ID    uuid.UUID
	Email string
	Name  string
	Roles []string
	// EventIDs are the events a scanner is assigned to (the token's
	// event_ids claim; API.md Roles).
	EventIDs []uuid.UUID
	// OrgID is an organiser's organisation (the token's org_id claim).
	OrgID uuid.UUID
}

// IsAdmin reports whether the user may call /admin/api/*.
func (u User) IsAdmin() bool {
	for _, r := range u.Roles {
		if r == "admin" {
			return true
		}
	}
	return false
}
