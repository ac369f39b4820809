package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Entry is one journal record of an event at its version. Record is opaque
// to the store; the seat engine encodes and decodes it.
type Entry struct {
	Version uint64
	Record  []byte
}

// Sale is one booking's seats to insert into sold_seats, where PostgreSQL
// refuses a second sale of any seat (I1).
type Sale struct {
	BookingID uuid.UUID
	TicketIDs []uuid.UUID
}

// Commit is one event's group of records that must become durable
// together, with the booking rows and sales they imply.
type Commit struct {
	EventID uuid.UUID
	// Epoch is the ownership epoch the caller got from Acquire; the
	// commit is refused with ErrFenced unless it is still current.
	Epoch int64
	// Entries have consecutive versions.
	Entries []Entry
	// Bookings are upserted: inserted, or their status, confirmed_at and
	// updated_at updated.
	Bookings []Booking
	// Sales are inserted into sold_seats in the same transaction.
	Sales []Sale
	// Traces are the contexts of the traced requests whose records this
	// commit carries; the journal's commit span joins the first one's
	// trace and links to the others. Tracing only: nil changes nothing.
	Traces []context.Context
	// Notices go to the outbox in the same transaction, so a buyer is
	// mailed about a sale (or refund) exactly when it is durable.
	Notices []Notice
	// Refunds end sales: their bookings' sold_seats rows are deleted (before
	// Sales are inserted, so a seat refunded and sold again in one batch
	// works) and their payments are marked refunded, in the same
	// transaction as the refund records (I1: a refund ends a sale).
	Refunds []uuid.UUID
}

// Journal accepts a seat engine's commit groups and makes them durable,
// batching the groups of many events into one transaction (group commit).
// done is called exactly once: nil only when the group is durable,
// ErrFenced when the commit's epoch is stale, ErrSeatSold when a sale
// collides with an earlier one, ErrClosed after the journal was closed.
type Journal interface {
	Submit(c Commit, done func(error))
}

// JournalReader is what rebuilds an event's seat map: a snapshot and the
// journal after it.
type JournalReader interface {
	// SnapshotBefore returns the newest snapshot older than version
	// before; ok is false when there is none.
	SnapshotBefore(ctx context.Context, eventID uuid.UUID, before uint64) (version uint64, state []byte, ok bool, err error)
	// ReadJournal calls fn for every record after version after, in
	// ascending version order; an error from fn stops the read and is
	// returned as is.
	ReadJournal(ctx context.Context, eventID uuid.UUID, after uint64, fn func(Entry) error) error
}

// EventStore is what an event's seat engine needs from storage besides the
// Journal: ownership, snapshots, replay, the catalog rows that size the seat
// map, payment rows and Idempotency-Key claims. It is the engine's storage
// contract, kept here so the engine does not depend on the store that
// implements it. Writes that carry an epoch fail with ErrFenced once another
// activation owns the event.
type EventStore interface {
	JournalReader
	// Acquire makes node the owner of an event and returns its new epoch.
	Acquire(ctx context.Context, eventID uuid.UUID, node string) (int64, error)
	LatestSnapshot(ctx context.Context, eventID uuid.UUID) (version uint64, state []byte, ok bool, err error)
	SaveSnapshot(ctx context.Context, eventID uuid.UUID, epoch int64, version uint64, state []byte) error
	Event(ctx context.Context, id uuid.UUID) (Event, error)
	Venue(ctx context.Context, id uuid.UUID) (Venue, error)
	Booking(ctx context.Context, id uuid.UUID) (Booking, error)
	BeginPayment(ctx context.Context, p Payment) (Payment, error)
	RetryPayment(ctx context.Context, bookingID uuid.UUID, epoch int64, method, token string) (Payment, error)
	ClaimPayment(ctx context.Context, bookingID, eventID uuid.UUID, epoch int64) (Payment, error)
	FinishPayment(ctx context.Context, bookingID uuid.UUID, epoch int64, status PaymentStatus, chargeID string) error
	// PendingPayments lists the event's pending payment rows, for
	// reconciliation with the provider.
	PendingPayments(ctx context.Context, eventID uuid.UUID) ([]Payment, error)
	BindConfirmKey(ctx context.Context, userID uuid.UUID, key string, bookingID uuid.UUID) error
	// OverdueHoldEvents lists events with holds past their expiry, so a
	// node can wake them after a restart.
	OverdueHoldEvents(ctx context.Context, limit int) ([]uuid.UUID, error)
	// Idempotency-Key claims of reserve.
	ClaimReserve(ctx context.Context, c ReserveClaim, expired time.Time) (ReserveClaim, error)
	ReserveClaim(ctx context.Context, userID uuid.UUID, key string) (ReserveClaim, error)
	ClaimedHolds(ctx context.Context, eventID uuid.UUID, since time.Time) ([]ReserveClaim, error)
	PruneReserveClaims(ctx context.Context, before time.Time, limit int) (int, error)
	// The node-wide polls of the active events' rules and pending payments.
	ActivePoller
}
