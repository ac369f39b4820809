package api_test

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/api"
)

// memEngine is a boxoffice.SeatEngine on the real seat state machine
// (actors/seatmap) without the actor, the journal or the cluster: one
// mutex serialises what the grain's mailbox would, every record's delta is
// published on the feed in version order, and bookings are written to
// memBookings as the journal writer would. The real grain is wired in
// cmd's end-to-end tests.
type memEngine struct {
	catalog  *memCatalog
	bookings *memBookings
	feed     *memFeed
	ttl      time.Duration

	mu     sync.Mutex
	now    time.Time
	down   error
	events map[uuid.UUID]*memEvent
	keys   []string // idempotency keys of confirms
	// carried records, per confirm, whether the request carried the
	// booking row its caller read.
	carried []bool
}

type memEvent struct {
	seats    *seatmap.Map
	prices   []boxoffice.Money
	currency string
}

var _ boxoffice.SeatEngine = (*memEngine)(nil)

func (e *memEngine) setDown(err error) { e.mu.Lock(); e.down = err; e.mu.Unlock() }

// advance moves the clock and expires what is due, as the grain's ticker
// would.
func (e *memEngine) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
	for id, ev := range e.events {
		e.expireLocked(id, ev)
	}
}

// eventLocked activates an event from the catalog on first use.
func (e *memEngine) eventLocked(id uuid.UUID) (*memEvent, error) {
	if e.down != nil {
		return nil, e.down
	}
	if ev, ok := e.events[id]; ok {
		e.expireLocked(id, ev)
		return ev, nil
	}
	ts, err := e.catalog.Tickets(context.Background(), id)
	if err != nil {
		return nil, err
	}
	ev := &memEvent{seats: seatmap.New(id, len(ts)), prices: make([]boxoffice.Money, len(ts))}
	for i, t := range ts {
		ev.prices[i], ev.currency = t.Price, t.Currency
	}
	e.events[id] = ev
	return ev, nil
}

// publishLocked sends a record's delta; pin and unpin records are
// versions too, with no changes.
func (e *memEngine) publishLocked(id uuid.UUID, r seatmap.Record) {
	space := boxoffice.NewTicketSpace(id)
	d := boxoffice.SeatDelta{EventID: id, Version: r.Version}
	for _, c := range r.Changes() {
		d.Changes = append(d.Changes, boxoffice.SeatChange{TicketID: space.ID(int(c.Index)), Status: c.Status})
	}
	e.feed.publish(id, api.DeltaFrame(d))
}

func (e *memEngine) expireLocked(id uuid.UUID, ev *memEvent) {
	for _, r := range ev.seats.ExpireDue(e.now) {
		e.publishLocked(id, r)
		if b, err := e.bookings.Booking(context.Background(), r.Booking); err == nil {
			b.Status, b.UpdatedAt = boxoffice.BookingExpired, e.now
			e.bookings.put(b)
		}
	}
}

func (e *memEngine) Reserve(_ context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, err := e.eventLocked(req.EventID)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	r, err := ev.seats.Hold(req.UserID, req.BookingID, req.TicketIDs, e.now, e.ttl)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	e.publishLocked(req.EventID, r)
	var total boxoffice.Money
	for _, s := range r.Seats {
		total += ev.prices[s]
	}
	b := boxoffice.Booking{
		ID: req.BookingID, UserID: req.UserID, EventID: req.EventID, TicketIDs: req.TicketIDs,
		Status: boxoffice.BookingInProgress, Total: total, Currency: ev.currency,
		CreatedAt: e.now, ExpiresAt: time.Unix(0, r.ExpiresAt).UTC(), UpdatedAt: e.now,
	}
	e.bookings.put(b)
	return b, nil
}

// bookingLocked returns the stored booking after the owner and final-state
// checks every call shares.
func (e *memEngine) bookingLocked(eventID, bookingID, user uuid.UUID) (boxoffice.Booking, *memEvent, error) {
	ev, err := e.eventLocked(eventID)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	b, err := e.bookings.Booking(context.Background(), bookingID)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	if b.UserID != user {
		return boxoffice.Booking{}, nil, boxoffice.Errorf(boxoffice.EForbidden, "the booking belongs to another user")
	}
	return b, ev, nil
}

func finalError(b boxoffice.Booking) error {
	if b.Status == boxoffice.BookingExpired {
		return boxoffice.Errorf(boxoffice.EHoldExpired, "the hold ran out")
	}
	return boxoffice.Errorf(boxoffice.EBookingState, "the booking is %s", b.Status)
}

func (e *memEngine) Release(_ context.Context, eventID, bookingID, user uuid.UUID) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ev, err := e.bookingLocked(eventID, bookingID, user)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if b.Status != boxoffice.BookingInProgress {
		return boxoffice.Booking{}, finalError(b)
	}
	r, err := ev.seats.Release(bookingID, user)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	e.publishLocked(eventID, r)
	b.Status, b.UpdatedAt = boxoffice.BookingCancelled, e.now
	e.bookings.put(b)
	return b, nil
}

// Confirm pins the hold, charges (tok_visa succeeds, anything else is
// declined), then sells or unpins, as the grain's payment step does.
func (e *memEngine) Confirm(_ context.Context, req boxoffice.ConfirmRequest) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, req.IdempotencyKey)
	e.carried = append(e.carried, req.Booking != nil && req.Booking.ID == req.BookingID && req.Booking.UserID == req.UserID)
	b, ev, err := e.bookingLocked(req.EventID, req.BookingID, req.UserID)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	switch b.Status {
	case boxoffice.BookingConfirmed:
		return b, nil // never charged twice
	case boxoffice.BookingInProgress:
	default:
		return boxoffice.Booking{}, finalError(b)
	}
	r, err := ev.seats.PinForPayment(req.BookingID, req.UserID, e.now)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	e.publishLocked(req.EventID, r)
	if req.Token != "tok_visa" {
		r, err := ev.seats.Unpin(req.BookingID)
		if err != nil {
			return boxoffice.Booking{}, err
		}
		e.publishLocked(req.EventID, r)
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EPaymentFailed, "the card was declined")
	}
	if r, err = ev.seats.Sell(req.BookingID); err != nil {
		return boxoffice.Booking{}, err
	}
	e.publishLocked(req.EventID, r)
	b.Status, b.ConfirmedAt, b.UpdatedAt = boxoffice.BookingConfirmed, e.now, e.now
	e.bookings.put(b)
	return b, nil
}

func (e *memEngine) Seats(_ context.Context, id uuid.UUID) (boxoffice.SeatsView, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, err := e.eventLocked(id)
	if err != nil {
		return boxoffice.SeatsView{}, err
	}
	return boxoffice.SeatsView{EventID: id, Version: ev.seats.Version(), Statuses: ev.seats.Statuses(nil)}, nil
}

func (e *memEngine) Stats(_ context.Context, id uuid.UUID) (boxoffice.EventStats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, err := e.eventLocked(id)
	if err != nil {
		return boxoffice.EventStats{}, err
	}
	return boxoffice.EventStats{EventID: id, NodeID: "n1", Version: ev.seats.Version(),
		Counts: ev.seats.Counts(), Holds: ev.seats.Holds()}, nil
}
