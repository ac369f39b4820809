package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice"
)

// standingLeft is the "standing" list of the event view and availability.
type standingLeft []struct {
	Section  string `json:"section"`
	First    int    `json:"first"`
	Capacity int    `json:"capacity"`
	Left     int    `json:"left"`
}

// createStandingEvent creates an event at a venue with a standing Floor of
// capacity places and a seated section A of 4 seats.
func createStandingEvent(t *testing.T, n *testNode, capacity int) string {
	t.Helper()
	admin := n.token(t, "admin@example.com", "admin")
	return createEventThrough(t, n, admin, map[string]any{
		"name": "Club Floor", "city": "Berlin", "address": "Str. 1", "location": map[string]float64{"lat": 52.5, "lon": 13.4},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "Floor", "standing": capacity},
			map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 4}}},
		}},
	}, map[string]any{"name": "Floor Band", "biography": "b"},
		map[string]any{"name": "Floor Night", "type": "concert", "prices": map[string]string{"Floor": "20.00", "A": "45.00"}})
}

// TestStandingOverHTTP sells a standing section through a real node: the
// views show its places left, concurrent reserves of one place each never
// take more than its capacity, seats and places go all or nothing in one
// reserve, a sale gives each place its own ticket, and `boxoffice check`
// passes the result and finds a planted overbooking.
func TestStandingOverHTTP(t *testing.T) {
	// Bookings written at once (window 0): the planted overbookings at
	// the end copy booking rows, which the write-behind projection would
	// write later (TestCheckPassesWithProjectedBookings checks that mode).
	n := startTestNode(t, func(c *Config) { c.BookingsWindow = 0 })
	const capacity = 5
	ev := createStandingEvent(t, n, capacity)
	var view struct {
		Venue struct {
			Capacity int `json:"capacity"`
		} `json:"venue"`
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Section  string `json:"section"`
			Row      string `json:"row"`
			Status   string `json:"status"`
		} `json:"tickets"`
		Standing standingLeft `json:"standing"`
	}
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	if view.Venue.Capacity != capacity+4 || len(view.Tickets) != capacity+4 || len(view.Standing) != 1 ||
		view.Standing[0].Section != "Floor" || view.Standing[0].Left != capacity || view.Standing[0].Capacity != capacity {
		t.Fatalf("event view: capacity %d, %d tickets, standing %+v", view.Venue.Capacity, len(view.Tickets), view.Standing)
	}
	seatA1 := view.Tickets[capacity].TicketID
	if view.Tickets[0].Section != "Floor" || view.Tickets[0].Row != "" || view.Tickets[capacity].Section != "A" {
		t.Fatalf("tickets in layout order: %+v", view.Tickets[:capacity+1])
	}

	// 12 buyers at once, one place each: exactly capacity get one.
	var mu sync.Mutex
	var held []string // booking IDs
	got := map[string]string{}
	var wg sync.WaitGroup
	for c := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := inGoroutine(t)
			tok := n.token(t, fmt.Sprintf("floor-%d@example.com", c))
			var b struct {
				BookingID string   `json:"booking_id"`
				TicketIDs []string `json:"ticket_ids"`
				Error     struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			code := n.call(t, http.MethodPost, "/booking/reserve", tok,
				map[string]any{"event_id": ev, "standing": []any{map[string]any{"section": "Floor", "quantity": 1}}}, &b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == http.StatusCreated && len(b.TicketIDs) == 1:
				if prev, ok := got[b.TicketIDs[0]]; ok {
					t.Errorf("place %s held by %s and %s", b.TicketIDs[0], prev, b.BookingID)
				}
				got[b.TicketIDs[0]] = b.BookingID
				held = append(held, b.BookingID+" "+tok)
			case code == http.StatusConflict && b.Error.Code == boxoffice.ESeatUnavailable:
			default:
				t.Errorf("reserve: %d %+v", code, b)
			}
		}()
	}
	wg.Wait()
	if len(held) != capacity {
		t.Fatalf("%d of 12 reserves of one place got one, capacity %d", len(held), capacity)
	}

	// Floor is full: a seat with a place is refused, and the seat stays free.
	tok := n.token(t, "late@example.com")
	var refused struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": []string{seatA1},
		"standing": []any{map[string]any{"section": "Floor", "quantity": 1}}}, &refused); code != http.StatusConflict ||
		refused.Error.Code != boxoffice.ESeatUnavailable || refused.Error.Details["section"] != "Floor" {
		t.Fatalf("reserve on a full floor: %d %+v", code, refused)
	}
	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"seated section", map[string]any{"event_id": ev, "standing": []any{map[string]any{"section": "A", "quantity": 1}}}},
		{"quantity 0", map[string]any{"event_id": ev, "standing": []any{map[string]any{"section": "Floor", "quantity": 0}}}},
		{"eleven", map[string]any{"event_id": ev, "ticket_ids": []string{seatA1}, "standing": []any{map[string]any{"section": "Floor", "quantity": 10}}}},
	} {
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if code := n.call(t, http.MethodPost, "/booking/reserve", tok, c.body, &e); code != http.StatusBadRequest ||
			e.Error.Code != boxoffice.EInvalid || e.Error.Details["field"] != "standing" {
			t.Errorf("%s: %d %+v", c.name, code, e)
		}
	}

	// One holder pays; release another: one place comes back.
	first := held[0]
	bookingID, buyer := first[:36], first[37:]
	var paid struct {
		Status string `json:"status"`
	}
	if code := n.call(t, http.MethodPost, "/booking/confirm", buyer, map[string]any{"booking_id": bookingID,
		"payment": map[string]string{"method": "card", "token": "tok_visa"}}, &paid); code != 200 || paid.Status != "confirmed" {
		t.Fatalf("confirm: %d %+v", code, paid)
	}
	var tickets struct {
		Tickets []struct {
			Section string `json:"section"`
			Row     string `json:"row"`
			Seat    int    `json:"seat"`
			Code    string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+bookingID+"/tickets", buyer, nil, &tickets); code != 200 ||
		len(tickets.Tickets) != 1 || tickets.Tickets[0].Section != "Floor" || tickets.Tickets[0].Code == "" {
		t.Fatalf("tickets of a standing place: %d %+v", code, tickets)
	}
	second := held[1]
	if code := n.call(t, http.MethodDelete, "/booking/"+second[:36], second[37:], nil, nil); code != 200 {
		t.Fatalf("release: %d", code)
	}
	var avail struct {
		Seats    int          `json:"seats"`
		Standing standingLeft `json:"standing"`
	}
	n.call(t, http.MethodGet, "/events/"+ev+"/availability", "", nil, &avail)
	if avail.Seats != capacity+4 || len(avail.Standing) != 1 || avail.Standing[0].Left != 1 {
		t.Fatalf("availability: %+v", avail)
	}
	var layout struct {
		Sections []struct {
			Name     string `json:"name"`
			Standing *struct {
				First    int `json:"first"`
				Capacity int `json:"capacity"`
			} `json:"standing"`
		} `json:"sections"`
	}
	n.call(t, http.MethodGet, "/events/"+ev+"/layout", "", nil, &layout)
	if len(layout.Sections) != 2 || layout.Sections[0].Standing == nil || layout.Sections[0].Standing.Capacity != capacity ||
		layout.Sections[1].Standing != nil {
		t.Fatalf("layout sections: %+v", layout.Sections)
	}

	// check: clean, then an overbooking planted in a rolled-back transaction.
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, n.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if vs, err := check(ctx, pool, nil); err != nil || slices.ContainsFunc(vs, func(v violation) bool { return v.Kind == kindOverCapacity }) {
		t.Fatalf("check of a clean run: %v %+v", err, vs)
	}
	for _, c := range []struct {
		name, sql string
	}{
		{"the live places again on a floor of five", `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
			SELECT $1, user_id, event_id, (SELECT array_agg(t) FROM bookings o, unnest(o.ticket_ids) t
				WHERE o.event_id = b.event_id AND o.status IN ('in-progress', 'confirmed')),
				'in-progress', total_minor, currency, now(), now() + interval '10 minutes', now()
			FROM bookings b WHERE id = $2`},
		{"a place past the venue", `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency, created_at, expires_at, updated_at)
			SELECT $1, user_id, event_id, ARRAY[gen_random_uuid()], 'in-progress', total_minor, currency, now(), now() + interval '10 minutes', now()
			FROM bookings WHERE id = $2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			plantSQL(t, tx, c.sql, uuid.New(), uuid.MustParse(bookingID))
			vs, err := check(ctx, tx, nil)
			if err != nil || !slices.ContainsFunc(vs, func(v violation) bool { return v.Kind == kindOverCapacity }) {
				t.Fatalf("check did not find the overbooking: %v %+v", err, vs)
			}
		})
	}
}
