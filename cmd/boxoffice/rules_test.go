package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rulesVenue creates a venue of seats seats (rows of 30) and an event on it
// with the extra fields of event; it returns the event ID and its tickets.
func rulesEvent(t *testing.T, n *testNode, admin string, seats int, event map[string]any) (string, []string) {
	t.Helper()
	var rows []any
	for r := 0; r*30 < seats; r++ {
		rows = append(rows, map[string]any{"name": fmt.Sprint(r + 1), "seats": min(30, seats-r*30)})
	}
	var venue struct {
		VenueID string `json:"venue_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/venues", admin, map[string]any{
		"name": "Hoard Hall", "city": "Lisbon", "location": map[string]float64{"lat": 38.7, "lon": -9.1},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A", "rows": rows}}},
	}, &venue); code != http.StatusCreated {
		t.Fatalf("create venue: %d", code)
	}
	var perf struct {
		PerformerID string `json:"performer_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/performers", admin, map[string]any{"name": "The Hoarders"}, &perf); code != http.StatusCreated {
		t.Fatalf("create performer: %d", code)
	}
	body := map[string]any{"name": "On Sale Night", "type": "concert",
		"starts_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
		"venue_id":  venue.VenueID, "performer_id": perf.PerformerID, "currency": "EUR", "prices": map[string]string{"A": "30.00"}}
	for k, v := range event {
		body[k] = v
	}
	var ev struct {
		Event struct {
			EventID string `json:"event_id"`
		} `json:"event"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/events", admin, body, &ev); code != http.StatusCreated {
		t.Fatalf("create event: %d", code)
	}
	var view eventView
	if code := n.call(t, http.MethodGet, "/events/"+ev.Event.EventID, "", nil, &view); code != http.StatusOK {
		t.Fatalf("event view: %d", code)
	}
	ids := make([]string, len(view.Tickets))
	for i, tk := range view.Tickets {
		ids[i] = tk.TicketID
	}
	return ev.Event.EventID, ids
}

// errorReply is an API error body.
type errorReply struct {
	Error struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// reserveAs sends a reserve and returns the status and error body.
func reserveAs(t testing.TB, n *testNode, tok, ev string, ids []string) (int, errorReply) {
	t.Helper()
	var out errorReply
	code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": ids}, &out)
	return code, out
}

func wantRefusal(t *testing.T, what string, code int, r errorReply, status int, errCode string) {
	t.Helper()
	if code != status || r.Error.Code != errCode {
		t.Fatalf("%s: %d %q, want %d %q", what, code, r.Error.Code, status, errCode)
	}
}

// TestHoarderIsCapped is issue 13's abuse, over HTTP against a real node:
// one account tries to hold every seat of an event, sequentially and with
// concurrent reserves. It gets max_tickets_per_user (default 10) and no
// more, also after buying them and after the node restarts, while
// another buyer still gets seats.
func TestHoarderIsCapped(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	ev, tickets := rulesEvent(t, n, admin, 120, nil)
	hoarder := n.token(t, "hoarder@example.com")

	var mu sync.Mutex
	var wg sync.WaitGroup
	held, statuses := 0, map[string]int{}
	for i := range len(tickets) / 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, r := reserveAs(inGoroutine(t), n, hoarder, ev, tickets[i*10:i*10+10])
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusCreated {
				held += 10
				return
			}
			statuses[fmt.Sprint(code, " ", r.Error.Code)]++
		}()
	}
	wg.Wait()
	if held != 10 || statuses["409 limit_reached"] != len(tickets)/10-1 {
		t.Fatalf("the hoarder held %d seats; refusals %v", held, statuses)
	}

	// Sequentially, one seat at a time: still no.
	for _, id := range tickets {
		code, r := reserveAs(t, n, hoarder, ev, []string{id})
		if code == http.StatusCreated {
			t.Fatalf("the hoarder held seat %s past the limit", id)
		}
		if r.Error.Code == "limit_reached" && (r.Error.Details["limit"] != 10.0 || r.Error.Details["current"] != 10.0) {
			t.Fatalf("limit_reached details %v, want limit 10 current 10", r.Error.Details)
		}
	}
	var mine struct {
		Bookings []struct {
			BookingID string `json:"booking_id"`
		} `json:"bookings"`
	}
	// My bookings lags the holds by the bookings projection's bound
	// (BOXOFFICE_BOOKINGS_WINDOW plus one write).
	require.Eventually(t, func() bool {
		n.call(t, http.MethodGet, "/user/bookings", hoarder, nil, &mine)
		return len(mine.Bookings) >= 1
	}, 10*time.Second, 10*time.Millisecond, "My bookings lists the hoarder's hold")
	if len(mine.Bookings) != 1 {
		t.Fatalf("the hoarder has %d bookings, want 1", len(mine.Bookings))
	}
	if code := n.call(t, http.MethodPost, "/booking/confirm", hoarder, map[string]any{"booking_id": mine.Bookings[0].BookingID,
		"payment": map[string]string{"method": "card", "token": "tok_visa"}}, nil); code != http.StatusOK {
		t.Fatalf("confirm: %d", code)
	}
	free := freeTickets(t, n, ev)
	code, r := reserveAs(t, n, hoarder, ev, free[:1])
	wantRefusal(t, "after buying", code, r, http.StatusConflict, "limit_reached")
	if code, _ := reserveAs(t, n, n.token(t, "fan@example.com"), ev, free[:2]); code != http.StatusCreated {
		t.Fatalf("another buyer: %d", code)
	}

	// The count is durable: a restarted node rebuilds it.
	db, dataDir := n.DB, n.cfg.DataDir
	n.Close()
	n = startTestNodeOn(t, db, func(c *Config) { c.DataDir = dataDir })
	hoarder = n.token(t, "hoarder@example.com")
	code, r = reserveAs(t, n, hoarder, ev, freeTickets(t, n, ev)[:1])
	wantRefusal(t, "after a restart", code, r, http.StatusConflict, "limit_reached")
}

// freeTickets lists the event's available tickets.
func freeTickets(t *testing.T, n *testNode, ev string) []string {
	t.Helper()
	var view eventView
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	var out []string
	for _, tk := range view.Tickets {
		if tk.Status == "available" {
			out = append(out, tk.TicketID)
		}
	}
	return out
}

// saleView is the sale part of GET /events/{id}'s event.
type saleView struct {
	Event struct {
		MaxTicketsPerUser int    `json:"max_tickets_per_user"`
		SaleStartsAt      string `json:"sale_starts_at"`
		SaleEndsAt        string `json:"sale_ends_at"`
		RefundUntil       string `json:"refund_until"`
		StartsAt          string `json:"starts_at"`
		Status            string `json:"status"`
	} `json:"event"`
}

// TestSaleRulesOverHTTP: the sale window, the waiting room and the limit
// decide reserves in API.md's order (not_on_sale, queue_required,
// limit_reached, seat_unavailable), PATCHes reach the event's grain at
// once, and the event view and search show the status.
func TestSaleRulesOverHTTP(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	opens := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	ev, tickets := rulesEvent(t, n, admin, 60, map[string]any{
		"sale_starts_at": opens.Format(time.RFC3339),
		"waiting_room":   map[string]any{"enabled": true, "rate_per_second": 1},
	})
	fan := n.token(t, "fan@example.com")
	patch := func(body map[string]any) {
		t.Helper()
		if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin, body, nil); code != http.StatusOK {
			t.Fatalf("PATCH %v: %d", body, code)
		}
	}
	view := func() saleView {
		t.Helper()
		var v saleView
		n.call(t, http.MethodGet, "/events/"+ev, "", nil, &v)
		return v
	}

	// Not on sale yet and the room is on: not_on_sale comes first.
	code, r := reserveAs(t, n, fan, ev, tickets[:1])
	wantRefusal(t, "before the sale, room on", code, r, http.StatusConflict, "not_on_sale")
	v := view()
	starts, _ := time.Parse(time.RFC3339, v.Event.StartsAt)
	if v.Event.Status != "scheduled" || v.Event.SaleStartsAt != opens.Format(time.RFC3339) ||
		v.Event.SaleEndsAt != v.Event.StartsAt || v.Event.RefundUntil != starts.Add(-24*time.Hour).Format(time.RFC3339) ||
		v.Event.MaxTicketsPerUser != 10 {
		t.Fatalf("event view before the sale: %+v", v.Event)
	}

	// On sale, room on, no token: queue_required.
	patch(map[string]any{"sale_starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
	code, r = reserveAs(t, n, fan, ev, tickets[:1])
	wantRefusal(t, "on sale, room on", code, r, http.StatusForbidden, "queue_required")

	// Room off: the limit, then a PATCHed limit, then seat_unavailable.
	patch(map[string]any{"waiting_room": map[string]any{"enabled": false, "rate_per_second": 0}})
	if code, _ := reserveAs(t, n, fan, ev, tickets[:10]); code != http.StatusCreated {
		t.Fatalf("reserve 10: %d", code)
	}
	code, r = reserveAs(t, n, fan, ev, tickets[10:12])
	wantRefusal(t, "over the default limit", code, r, http.StatusConflict, "limit_reached")
	patch(map[string]any{"max_tickets_per_user": 12})
	if code, _ := reserveAs(t, n, fan, ev, tickets[10:12]); code != http.StatusCreated {
		t.Fatalf("reserve under the PATCHed limit: %d", code)
	}
	code, r = reserveAs(t, n, fan, ev, tickets[0:1]) // taken and over the limit
	wantRefusal(t, "over the PATCHed limit", code, r, http.StatusConflict, "limit_reached")
	if r.Error.Details["limit"] != 12.0 || r.Error.Details["current"] != 12.0 {
		t.Fatalf("limit_reached details %v", r.Error.Details)
	}
	other := n.token(t, "other@example.com")
	code, r = reserveAs(t, n, other, ev, tickets[0:1])
	wantRefusal(t, "a taken seat", code, r, http.StatusConflict, "seat_unavailable")
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin, map[string]any{"max_tickets_per_user": 1001}, &r); code != http.StatusBadRequest || r.Error.Details["field"] != "max_tickets_per_user" {
		t.Fatalf("PATCH max_tickets_per_user 1001: %d %v", code, r.Error)
	}

	// The event started: not on sale, whatever sale_ends_at says.
	patch(map[string]any{"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
	code, r = reserveAs(t, n, other, ev, tickets[30:31])
	wantRefusal(t, "after the start", code, r, http.StatusConflict, "not_on_sale")
	if v := view(); v.Event.Status != "sale-ended" {
		t.Fatalf("status after the start: %q", v.Event.Status)
	}
	require.Eventually(t, func() bool {
		var res struct {
			Results []struct {
				EventID    string `json:"event_id"`
				Status     string `json:"status"`
				SaleEndsAt string `json:"sale_ends_at"`
			} `json:"results"`
		}
		n.call(t, http.MethodGet, "/search?q=hoarders", "", nil, &res)
		for _, h := range res.Results {
			if h.EventID == ev {
				return h.Status == "sale-ended"
			}
		}
		return false
	}, 5*time.Second, 25*time.Millisecond, "search shows the sale ended")
}

// TestLoadgenBuyersStayWithinLimit: one loadgen user that buys every hold
// becomes a new buyer each max_tickets_per_user seats, so it keeps getting
// seats long past the limit of one account (without it, it would stop at
// 10 seats with limit_reached).
func TestLoadgenBuyersStayWithinLimit(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	ev, tickets := rulesEvent(t, n, admin, 120, nil)
	ctx := t.Context()
	client := &http.Client{Timeout: 10 * time.Second}
	tok, err := devToken(ctx, client, n.URL, "loadgen-0@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u := &loadUser{base: n.URL, token: tok, email: "loadgen-0@example.com", r: rand.New(rand.NewPCG(1, 2))}
	c := loadConfig{URLs: []string{n.URL}, Event: ev, Users: 1, Seats: 2, Confirm: 1, PerBuyer: 10}
	held := 0
	for range 200 {
		if s := u.step(ctx, client, c, tickets, func(sample) {}); s.Status == http.StatusCreated {
			held += 2
		}
		if held >= 24 {
			break
		}
	}
	if held < 24 || u.gen < 2 {
		t.Fatalf("loadgen held %d seats as %d buyers; want 24 seats over 3 buyers", held, u.gen+1)
	}
}
