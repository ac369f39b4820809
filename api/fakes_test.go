package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// In-memory stand-ins for the platform behind the API. They keep the
// contracts the real packages document (idempotent creates by ID,
// all-or-nothing holds, one delta per version in order) so that the API's
// behaviour, not the fakes', is what the tests check. The real engine,
// store and bus are wired in cmd's end-to-end suite.

var errDown = boxoffice.Errorf(boxoffice.EUnavailable, "the store cannot be reached; retry")

// memCatalog is a map-backed api.Catalog.
type memCatalog struct {
	mu         sync.Mutex
	down       bool
	venues     map[uuid.UUID]boxoffice.Venue
	performers map[uuid.UUID]boxoffice.Performer
	events     map[uuid.UUID]boxoffice.Event
	tickets    map[uuid.UUID][]boxoffice.Ticket
	eventReads int
}

func newMemCatalog() *memCatalog {
	return &memCatalog{
		venues: map[uuid.UUID]boxoffice.Venue{}, performers: map[uuid.UUID]boxoffice.Performer{},
		events: map[uuid.UUID]boxoffice.Event{}, tickets: map[uuid.UUID][]boxoffice.Ticket{},
	}
}

var _ api.Catalog = (*memCatalog)(nil)

func (c *memCatalog) setDown(down bool) { c.mu.Lock(); c.down = down; c.mu.Unlock() }

func (c *memCatalog) CreateVenue(_ context.Context, v boxoffice.Venue) (boxoffice.Venue, bool, error) {
	if err := v.Validate(); err != nil {
		return boxoffice.Venue{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v.ID = orNew(v.ID)
	return createByID(c.down, c.venues, v.ID, v)
}

func (c *memCatalog) CreatePerformer(_ context.Context, p boxoffice.Performer) (boxoffice.Performer, bool, error) {
	if err := p.Validate(); err != nil {
		return boxoffice.Performer{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p.ID = orNew(p.ID)
	return createByID(c.down, c.performers, p.ID, p)
}

// createByID stores v under id, idempotently: the
// same ID and body return the stored value, another body is invalid.
func createByID[T any](down bool, m map[uuid.UUID]T, id uuid.UUID, v T) (T, bool, error) {
	var zero T
	if down {
		return zero, false, errDown
	}
	if old, ok := m[id]; ok {
		if !reflect.DeepEqual(old, v) {
			return zero, false, boxoffice.InvalidField("id", "id %s is taken by another body", id)
		}
		return old, false, nil
	}
	m[id] = v
	return v, true, nil
}

func (c *memCatalog) CreateEvent(_ context.Context, e boxoffice.Event) (boxoffice.Event, int, bool, error) {
	if err := e.Validate(); err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	e.StartsAt = e.StartsAt.UTC()
	// A fixed creation time keeps a retried creation equal to the first.
	e.CreatedAt, e.Revision = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.venues[e.VenueID]
	if !ok {
		return boxoffice.Event{}, 0, false, boxoffice.Errorf(boxoffice.ENotFound, "venue %s not found", e.VenueID)
	}
	if _, ok := c.performers[e.PerformerID]; !ok {
		return boxoffice.Event{}, 0, false, boxoffice.Errorf(boxoffice.ENotFound, "performer %s not found", e.PerformerID)
	}
	if err := e.PricesCover(v.SeatMap); err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	e.ID = orNew(e.ID)
	e, created, err := createByID(c.down, c.events, e.ID, e)
	if err != nil {
		return boxoffice.Event{}, 0, false, err
	}
	if created {
		c.tickets[e.ID] = e.Tickets(v.SeatMap)
	}
	return e, len(c.tickets[e.ID]), created, nil
}

func (c *memCatalog) UpdateEvent(_ context.Context, id uuid.UUID, p api.EventPatch) (boxoffice.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return boxoffice.Event{}, errDown
	}
	e, ok := c.events[id]
	if !ok {
		return boxoffice.Event{}, boxoffice.Errorf(boxoffice.ENotFound, "event %s not found", id)
	}
	if p.Name != nil {
		e.Name = *p.Name
	}
	if p.Description != nil {
		e.Description = *p.Description
	}
	if p.StartsAt != nil {
		e.StartsAt = *p.StartsAt
	}
	if p.WaitingRoom != nil {
		e.WaitingRoom = *p.WaitingRoom
	}
	if p.MaxTicketsPerUser != nil {
		e.MaxTicketsPerUser = p.MaxTicketsPerUser
	}
	for _, f := range []struct{ to, from *time.Time }{{&e.SaleStartsAt, p.SaleStartsAt}, {&e.SaleEndsAt, p.SaleEndsAt}, {&e.RefundUntil, p.RefundUntil}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	e.Revision++
	c.events[id] = e
	return e, nil
}

func (c *memCatalog) Event(_ context.Context, id uuid.UUID) (boxoffice.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eventReads++
	return lookup(c.down, c.events, id, "event")
}

func (c *memCatalog) Venue(_ context.Context, id uuid.UUID) (boxoffice.Venue, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lookup(c.down, c.venues, id, "venue")
}

func (c *memCatalog) Performer(_ context.Context, id uuid.UUID) (boxoffice.Performer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lookup(c.down, c.performers, id, "performer")
}

func (c *memCatalog) Tickets(_ context.Context, id uuid.UUID) ([]boxoffice.Ticket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lookup(c.down, c.tickets, id, "event")
}

func lookup[T any](down bool, m map[uuid.UUID]T, id uuid.UUID, kind string) (T, error) {
	var zero T
	if down {
		return zero, errDown
	}
	v, ok := m[id]
	if !ok {
		return zero, boxoffice.Errorf(boxoffice.ENotFound, "%s %s not found", kind, id)
	}
	return v, nil
}

// memBookings is the committed bookings table, written by memEngine.
type memBookings struct {
	mu   sync.Mutex
	down bool
	m    map[uuid.UUID]boxoffice.Booking
}

var _ api.Bookings = (*memBookings)(nil)

func (b *memBookings) put(bk boxoffice.Booking) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk.TicketIDs = slices.Clone(bk.TicketIDs)
	b.m[bk.ID] = bk
}

func (b *memBookings) Booking(_ context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return lookup(b.down, b.m, id, "booking")
}

func (b *memBookings) UserBookings(_ context.Context, user uuid.UUID, limit int) ([]boxoffice.Booking, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return nil, errDown
	}
	var out []boxoffice.Booking
	for _, bk := range b.m {
		if bk.UserID == user {
			out = append(out, bk)
		}
	}
	slices.SortFunc(out, func(a, b boxoffice.Booking) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(limit, len(out))], nil
}

// UserBookingsPage orders as the store does: (CreatedAt, ID) descending.
func (b *memBookings) UserBookingsPage(_ context.Context, user uuid.UUID, afterAt time.Time, afterID uuid.UUID, limit int) ([]boxoffice.Booking, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return nil, errDown
	}
	newerFirst := func(a, b boxoffice.Booking) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(b.ID[:], a.ID[:])
	}
	after := boxoffice.Booking{CreatedAt: afterAt, ID: afterID}
	var out []boxoffice.Booking
	for _, bk := range b.m {
		if bk.UserID == user && (afterAt.IsZero() || newerFirst(after, bk) < 0) {
			out = append(out, bk)
		}
	}
	slices.SortFunc(out, newerFirst)
	return out[:min(limit, len(out))], nil
}

// memFeed is a synchronous api.SeatFeed: publish calls every subscriber
// of the event in order.
type memFeed struct {
	mu     sync.Mutex
	subs   map[uuid.UUID]map[int]func([]byte)
	nextID int
	total  int // SubscribeSeats calls, for the one-subscription-per-event check
	fail   error
}

var _ api.SeatFeed = (*memFeed)(nil)

func newMemFeed() *memFeed { return &memFeed{subs: map[uuid.UUID]map[int]func([]byte){}} }

func (f *memFeed) SubscribeSeats(event uuid.UUID, fn func([]byte)) (func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.total++
	f.nextID++
	id := f.nextID
	if f.subs[event] == nil {
		f.subs[event] = map[int]func([]byte){}
	}
	f.subs[event][id] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs[event], id)
	}, nil
}

func (f *memFeed) publish(event uuid.UUID, frame []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fn := range f.subs[event] {
		fn(frame)
	}
}

func (f *memFeed) subscribers(event uuid.UUID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs[event])
}

func (f *memFeed) subscriptions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// memUsers records development-token users.
type memUsers struct {
	mu sync.Mutex
	m  map[uuid.UUID]boxoffice.User
}

func (u *memUsers) UpsertUser(_ context.Context, user boxoffice.User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[user.ID] = user
	return nil
}

// memSearch answers with one hit per event whose name contains q.
type memSearch struct{ catalog *memCatalog }

func (s memSearch) Search(_ context.Context, q url.Values) ([]byte, error) {
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, boxoffice.InvalidField("page", "page must be a positive integer")
		}
		page = n
	}
	type hit struct {
		EventID   uuid.UUID      `json:"event_id"`
		Name      string         `json:"name"`
		Type      string         `json:"type"`
		StartsAt  time.Time      `json:"starts_at"`
		Venue     map[string]any `json:"venue"`
		Performer map[string]any `json:"performer"`
		MinPrice  string         `json:"min_price"`
		Currency  string         `json:"currency"`
		Available int            `json:"available_seats"`
		Status    string         `json:"status"`
		SaleEnds  time.Time      `json:"sale_ends_at"`
	}
	s.catalog.mu.Lock()
	defer s.catalog.mu.Unlock()
	results := []hit{}
	for _, e := range s.catalog.events {
		v := s.catalog.venues[e.VenueID]
		p := s.catalog.performers[e.PerformerID]
		results = append(results, hit{
			EventID: e.ID, Name: e.Name, Type: e.Type, StartsAt: e.StartsAt,
			Venue:     map[string]any{"venue_id": v.ID, "name": v.Name, "city": v.City, "location": v.Location},
			Performer: map[string]any{"performer_id": p.ID, "name": p.Name},
			Status:    string(e.StatusAt(time.Now(), -1)), SaleEnds: e.SaleEnd(),
			MinPrice: "10.00", Currency: e.Currency, Available: len(s.catalog.tickets[e.ID]),
		})
	}
	return json.Marshal(map[string]any{"total": len(results), "page": page, "page_size": 20, "results": results})
}

// memQueue admits a caller whose X-Admission-Token is "ok-<user id>".
type memQueue struct{}

func (memQueue) Routes(mux *http.ServeMux, auth func(http.Handler) http.Handler) {
	mux.Handle("POST /events/{eventId}/queue", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := api.UserFromContext(r.Context())
		if !ok {
			api.WriteError(w, fmt.Errorf("no user in context"))
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{
			"queue_id": "q-" + u.ID.String(), "position": 0, "state": "admitted", "admission_token": "ok-" + u.ID.String(),
		})
	})))
	mux.HandleFunc("GET /events/{eventId}/queue/{queueId}", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]any{"queue_id": r.PathValue("queueId"), "position": 3, "state": "waiting"})
	})
}

func (memQueue) CheckAdmission(r *http.Request, user uuid.UUID, _ boxoffice.Event) error {
	if r.Header.Get("X-Admission-Token") == "ok-"+user.String() {
		return nil
	}
	return boxoffice.Errorf(boxoffice.EQueueRequired, "this event's waiting room is on; join the queue first")
}

// memCluster is a fixed two-node view.
type memCluster struct{ started time.Time }

func (c memCluster) Nodes(context.Context) ([]api.NodeInfo, error) {
	return []api.NodeInfo{
		{ID: "n1", Address: "10.0.0.1:7946", Status: "alive", StartedAt: c.started, Actors: 1},
		{ID: "n2", Address: "10.0.0.2:7946", Status: "suspect", StartedAt: c.started, Actors: 0},
	}, nil
}

func (c memCluster) Placements(context.Context) ([]api.Placement, error) {
	return []api.Placement{{EventID: uuid.MustParse("7d3c8e52-5d4e-4c4b-9d61-0a0a4b4b1c01"), NodeID: "n1"}}, nil
}

func orNew(id uuid.UUID) uuid.UUID {
	if id == uuid.Nil {
		return uuid.New()
	}
	return id
}
