package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ActivationLoad is everything an event actor reads from storage when it
// activates, taken for many events at once by an ActivationLoader.
type ActivationLoad struct {
	Event Event
	Venue Venue
	// Epoch is the ownership epoch taken for the caller's node, fencing
	// off every earlier owner (I4).
	Epoch int64
	// Snapshot is the newest snapshot (HasSnapshot false: none), and
	// Journal every record after it (after version 0 without one), in
	// ascending version order, read after the epoch was taken.
	SnapshotVersion uint64
	Snapshot        []byte
	HasSnapshot     bool
	Journal         []Entry
	// Claims are the event's Idempotency-Key claims made after the
	// loader's since whose booking exists (EventStore.ClaimedHolds).
	Claims []ReserveClaim
	// Watermark is the bookings projection's watermark of the event;
	// Projected is false when it has none (BookingProjection).
	Watermark uint64
	Projected bool
	// Pending are the event's pending payments (EventStore.PendingPayments)
	// and OwedRefunds its owed refunds (RefundStore.OwedRefunds), which a
	// new activation reconciles and resumes.
	Pending     []Payment
	OwedRefunds []uuid.UUID
}

// ActivationLoader is implemented by stores that can activate many events
// in one round trip. When the survivors of a failover re-activate a dead
// node's thousands of events, the per-event reads and claims (event,
// venue, epoch, snapshot, journal tail, claims, pending payments, owed
// refunds: eight round trips each)
// make PostgreSQL the bottleneck; batched, each statement serves them all.
type ActivationLoader interface {
	// LoadActivations takes a new epoch for node on each event of ids that
	// exists and reads its activation load after taking it. Events that do
	// not exist are missing from the result. An error means nothing was
	// claimed or read (the caller may fall back on per-event reads).
	LoadActivations(ctx context.Context, ids []uuid.UUID, node string, claimsSince time.Time) (map[uuid.UUID]*ActivationLoad, error)
}

// ActivePoller reads for all of a node's active events at once (part of
// EventStore). Each active event's grain re-reading its sale rules and
// listing its pending payments on its own timer makes thousands of queries
// wait for a pool connection on a node with thousands of events (issue
// 22); the engine polls for all of them in one query each.
type ActivePoller interface {
	// ChangedEvents returns the events of ids whose revision is above
	// revisions[i] (the caller's copy of ids[i]); events that do not
	// exist are missing.
	ChangedEvents(ctx context.Context, ids []uuid.UUID, revisions []int64) ([]Event, error)
	// PendingPaymentsFor is EventStore.PendingPayments of every event of
	// eventIDs, by event; events without pending payments may be absent.
	PendingPaymentsFor(ctx context.Context, eventIDs []uuid.UUID) (map[uuid.UUID][]Payment, error)
}
