package api_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// memEngine is a map-backed boxoffice.SeatEngine with the real engine's
// rules: all-or-nothing holds, owner checks, expiry, an idempotent
// confirm, and one delta frame per version published in order. It stands
// in until actors/seatmap is wired in cmd's end-to-end tests.
type memEngine struct {
	catalog  *memCatalog
	bookings *memBookings
	feed     *memFeed
	ttl      time.Duration

	mu     sync.Mutex
	now    time.Time
	down   error
	events map[uuid.UUID]*memEvent
	seats  int      // Seats calls
	keys   []string // idempotency keys of confirms
}

type memEvent struct {
	statuses []boxoffice.SeatStatus
	version  uint64
	prices   []boxoffice.Money
	currency string
}

var _ boxoffice.SeatEngine = (*memEngine)(nil)

func (e *memEngine) setDown(err error) { e.mu.Lock(); e.down = err; e.mu.Unlock() }

func (e *memEngine) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
	for id := range e.events {
		e.expireLocked(id)
	}
}

// event loads an event's seats from the catalog on first use, as the real
// grain activates from the store.
func (e *memEngine) eventLocked(id uuid.UUID) (*memEvent, error) {
	if e.down != nil {
		return nil, e.down
	}
	if ev, ok := e.events[id]; ok {
		return ev, nil
	}
	ts, err := e.catalog.Tickets(context.Background(), id)
	if err != nil {
		return nil, err
	}
	ev := &memEvent{statuses: make([]boxoffice.SeatStatus, len(ts)), prices: make([]boxoffice.Money, len(ts))}
	for i, t := range ts {
		ev.prices[i], ev.currency = t.Price, t.Currency
	}
	e.events[id] = ev
	return ev, nil
}

// changeLocked applies status changes as one version and publishes its delta.
func (e *memEngine) changeLocked(id uuid.UUID, ev *memEvent, idx []int, st boxoffice.SeatStatus) {
	changes := map[int]boxoffice.SeatStatus{}
	for _, i := range idx {
		ev.statuses[i] = st
		changes[i] = st
	}
	ev.version++
	e.feed.publish(id, deltaFrame(id, ev.version, changes))
}

func (e *memEngine) indexes(id uuid.UUID, ev *memEvent, tickets []uuid.UUID) ([]int, error) {
	space := boxoffice.NewTicketSpace(id)
	out := make([]int, 0, len(tickets))
	for _, t := range tickets {
		i, ok := space.Index(t)
		if !ok || i >= len(ev.statuses) {
			return nil, boxoffice.Errorf(boxoffice.ENotFound, "ticket %s is not a seat of event %s", t, id)
		}
		out = append(out, i)
	}
	return out, nil
}

func (e *memEngine) Reserve(_ context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, err := e.eventLocked(req.EventID)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	e.expireLocked(req.EventID)
	idx, err := e.indexes(req.EventID, ev, req.TicketIDs)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	var taken []string
	var total boxoffice.Money
	for n, i := range idx {
		if ev.statuses[i] != boxoffice.SeatAvailable {
			taken = append(taken, req.TicketIDs[n].String())
		}
		total += ev.prices[i]
	}
	if len(taken) > 0 {
		return boxoffice.Booking{}, boxoffice.SeatsUnavailable(taken)
	}
	e.changeLocked(req.EventID, ev, idx, boxoffice.SeatReserved)
	b := boxoffice.Booking{
		ID: req.BookingID, UserID: req.UserID, EventID: req.EventID, TicketIDs: req.TicketIDs,
		Status: boxoffice.BookingInProgress, Total: total, Currency: ev.currency,
		CreatedAt: e.now, ExpiresAt: e.now.Add(e.ttl), UpdatedAt: e.now,
	}
	e.bookings.put(b)
	return b, nil
}

// heldLocked returns a booking the caller may act on.
func (e *memEngine) heldLocked(eventID, bookingID, user uuid.UUID) (boxoffice.Booking, *memEvent, error) {
	ev, err := e.eventLocked(eventID)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	e.expireLocked(eventID)
	b, err := e.bookings.Booking(context.Background(), bookingID)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	if b.UserID != user {
		return boxoffice.Booking{}, nil, boxoffice.ErrForbidden
	}
	return b, ev, nil
}

func (e *memEngine) Release(_ context.Context, eventID, bookingID, user uuid.UUID) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ev, err := e.heldLocked(eventID, bookingID, user)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	switch b.Status {
	case boxoffice.BookingInProgress:
	case boxoffice.BookingExpired:
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EHoldExpired, "the hold ran out")
	default:
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EBookingState, "booking is %s", b.Status)
	}
	idx, _ := e.indexes(eventID, ev, b.TicketIDs)
	e.changeLocked(eventID, ev, idx, boxoffice.SeatAvailable)
	b.Status, b.UpdatedAt = boxoffice.BookingCancelled, e.now
	e.bookings.put(b)
	return b, nil
}

func (e *memEngine) Confirm(_ context.Context, req boxoffice.ConfirmRequest) (boxoffice.Booking, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, req.IdempotencyKey)
	b, ev, err := e.heldLocked(req.EventID, req.BookingID, req.UserID)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	switch b.Status {
	case boxoffice.BookingConfirmed:
		return b, nil // never charged twice
	case boxoffice.BookingInProgress:
	case boxoffice.BookingExpired:
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EHoldExpired, "the hold ran out")
	default:
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EBookingState, "booking is %s", b.Status)
	}
	if req.Token != "tok_visa" {
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EPaymentFailed, "the card was declined")
	}
	idx, _ := e.indexes(req.EventID, ev, b.TicketIDs)
	e.changeLocked(req.EventID, ev, idx, boxoffice.SeatBooked)
	b.Status, b.ConfirmedAt, b.UpdatedAt = boxoffice.BookingConfirmed, e.now, e.now
	e.bookings.put(b)
	return b, nil
}

// expireLocked ends the event's holds whose time ran out, one version each.
func (e *memEngine) expireLocked(id uuid.UUID) {
	ev := e.events[id]
	if ev == nil {
		return
	}
	e.bookings.mu.Lock()
	var expired []boxoffice.Booking
	for _, b := range e.bookings.m {
		if b.EventID == id && b.Status == boxoffice.BookingInProgress && !e.now.Before(b.ExpiresAt) {
			expired = append(expired, b)
		}
	}
	e.bookings.mu.Unlock()
	slices.SortFunc(expired, func(a, b boxoffice.Booking) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, b := range expired {
		idx, _ := e.indexes(id, ev, b.TicketIDs)
		e.changeLocked(id, ev, idx, boxoffice.SeatAvailable)
		b.Status, b.UpdatedAt = boxoffice.BookingExpired, e.now
		e.bookings.put(b)
	}
}

func (e *memEngine) Seats(_ context.Context, id uuid.UUID) (boxoffice.SeatsView, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seats++
	ev, err := e.eventLocked(id)
	if err != nil {
		return boxoffice.SeatsView{}, err
	}
	return boxoffice.SeatsView{EventID: id, Version: ev.version, Statuses: slices.Clone(ev.statuses)}, nil
}

func (e *memEngine) Stats(_ context.Context, id uuid.UUID) (boxoffice.EventStats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, err := e.eventLocked(id)
	if err != nil {
		return boxoffice.EventStats{}, err
	}
	st := boxoffice.EventStats{EventID: id, NodeID: "n1", Version: ev.version}
	for _, s := range ev.statuses {
		switch s {
		case boxoffice.SeatAvailable:
			st.Counts.Available++
		case boxoffice.SeatReserved:
			st.Counts.Reserved++
		case boxoffice.SeatBooked:
			st.Counts.Booked++
		}
	}
	return st, nil
}
