package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// createAccessEvent creates an event at a venue with accessible seats:
// section A row 1 of 6 plain seats, row 2 of 6 with a wheelchair space at
// seat 1 and a companion seat at 2; section B one row of 4; section C two
// rows of 5.
func createAccessEvent(t *testing.T, n *testNode) string {
	t.Helper()
	admin := n.token(t, "admin@example.com", "admin")
	return createEventThrough(t, n, admin, map[string]any{
		"name": "Access Hall", "city": "Leeds", "address": "Row 1", "location": map[string]float64{"lat": 53.8, "lon": -1.5},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "A", "rows": []any{
				map[string]any{"name": "1", "seats": 6},
				map[string]any{"name": "2", "seats": 6, "wheelchair": []int{1}, "companion": []int{2}},
			}},
			map[string]any{"name": "B", "rows": []any{map[string]any{"name": "1", "seats": 4}}},
			map[string]any{"name": "C", "rows": []any{map[string]any{"name": "1", "seats": 5}, map[string]any{"name": "2", "seats": 5}}},
		}},
	}, map[string]any{"name": "Access Band", "biography": "b"},
		map[string]any{"name": "Access Night", "type": "concert", "prices": map[string]string{"A": "45.00", "B": "30.00", "C": "20.00"}})
}

type bestReply struct {
	BookingID string   `json:"booking_id"`
	TicketIDs []string `json:"ticket_ids"`
	Error     struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// TestBestAvailableOverHTTP is best available through POST
// /booking/reserve on a real node: the grain keeps a party together in one
// row, never gives a plain request a wheelchair space or companion seat,
// gives an accessible request the space and its companion, refuses bad
// input with details.field, answers 409 seat_unavailable when nothing
// fits, honours Idempotency-Key, and concurrent requests never get one seat
// twice. The venue's flags show in the event's seats and the layout.
func TestBestAvailableOverHTTP(t *testing.T) {
	n := startSeededNode(t)
	ev := createAccessEvent(t, n)
	var view struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Section  string `json:"section"`
			Row      string `json:"row"`
			Seat     int    `json:"seat"`
			Access   string `json:"access"`
		} `json:"tickets"`
	}
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	index := map[string]int{}
	for i, tk := range view.Tickets {
		index[tk.TicketID] = i
		want := ""
		switch i {
		case 6:
			want = boxoffice.AccessWheelchair
		case 7:
			want = boxoffice.AccessCompanion
		}
		if tk.Access != want {
			t.Fatalf("ticket %d (%s %s/%d): access %q, want %q", i, tk.Section, tk.Row, tk.Seat, tk.Access, want)
		}
	}
	var layout struct {
		Sections []struct {
			Rows []struct {
				Wheelchair []int `json:"wheelchair"`
				Companion  []int `json:"companion"`
			} `json:"rows"`
		} `json:"sections"`
	}
	n.call(t, http.MethodGet, "/events/"+ev+"/layout", "", nil, &layout)
	if r := layout.Sections[0].Rows[1]; !slices.Equal(r.Wheelchair, []int{1}) || !slices.Equal(r.Companion, []int{2}) {
		t.Fatalf("layout row A/2: %+v", r)
	}

	seats := func(b bestReply) []int {
		var out []int
		for _, id := range b.TicketIDs {
			out = append(out, index[id])
		}
		slices.Sort(out)
		return out
	}
	reserve := func(tok string, body map[string]any) (int, bestReply) {
		t.Helper()
		var b bestReply
		body["event_id"] = ev
		code := n.call(t, http.MethodPost, "/booking/reserve", tok, body, &b)
		return code, b
	}
	buyer := n.token(t, "best@example.com")
	// A party of 4: together in the first row, leaving no single seat.
	if code, b := reserve(buyer, map[string]any{"best_available": map[string]any{"quantity": 4}}); code != http.StatusCreated ||
		!slices.Equal(seats(b), []int{0, 1, 2, 3}) {
		t.Fatalf("best of 4: %d %+v seats %v", code, b, seats(b))
	}
	// Accessible: the wheelchair space and its companion.
	wheel := n.token(t, "wheel@example.com")
	if code, b := reserve(wheel, map[string]any{"best_available": map[string]any{"quantity": 2, "accessible": true}}); code != http.StatusCreated ||
		!slices.Equal(seats(b), []int{6, 7}) {
		t.Fatalf("accessible best of 2: %d %+v seats %v", code, b, seats(b))
	}
	if code, b := reserve(wheel, map[string]any{"best_available": map[string]any{"quantity": 1, "accessible": true}}); code != http.StatusConflict ||
		b.Error.Code != boxoffice.ESeatUnavailable || b.Error.Details["quantity"] != float64(1) {
		t.Fatalf("accessible with no space left: %d %+v", code, b)
	}
	// A section, with an Idempotency-Key: the retry gets the same booking.
	other := n.token(t, "section@example.com")
	body := fmt.Sprintf(`{"event_id":%q,"best_available":{"section":"B","quantity":4}}`, ev)
	c1, r1 := reserveRaw(t, n.URL, other, "best-key-1", body)
	c2, r2 := reserveRaw(t, n.URL, other, "best-key-1", body)
	var b1, b2 bestReply
	if json.Unmarshal(r1, &b1) != nil || json.Unmarshal(r2, &b2) != nil || c1 != http.StatusCreated || c2 != http.StatusCreated ||
		b1.BookingID != b2.BookingID || !slices.Equal(seats(b1), []int{12, 13, 14, 15}) {
		t.Fatalf("keyed best in B: %d %s / %d %s", c1, r1, c2, r2)
	}
	// Bad input: 400 with the field.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"best_available": map[string]any{"quantity": 0}}, "best_available.quantity"},
		{map[string]any{"best_available": map[string]any{"quantity": 11}}, "best_available.quantity"},
		{map[string]any{"best_available": map[string]any{"quantity": 1, "section": "Z"}}, "best_available.section"},
		{map[string]any{"best_available": map[string]any{"quantity": 1}, "ticket_ids": []string{view.Tickets[0].TicketID}}, "best_available"},
	} {
		if code, b := reserve(buyer, c.body); code != http.StatusBadRequest || b.Error.Code != boxoffice.EInvalid || b.Error.Details["field"] != c.field {
			t.Errorf("%v: %d %+v, want 400 %s", c.body, code, b, c.field)
		}
	}
	// Section A has 2 plain seats left in row 1 (5 and 6) and 4 in row 2: a party
	// of 4 gets row 2's four, then a party of 3 finds 2 and is refused.
	late := n.token(t, "late@example.com")
	if code, b := reserve(late, map[string]any{"best_available": map[string]any{"section": "A", "quantity": 4}}); code != http.StatusCreated ||
		!slices.Equal(seats(b), []int{8, 9, 10, 11}) {
		t.Fatalf("best of 4 in A: %d %+v seats %v", code, b, seats(b))
	}
	if code, b := reserve(late, map[string]any{"best_available": map[string]any{"section": "A", "quantity": 3}}); code != http.StatusConflict ||
		b.Error.Code != boxoffice.ESeatUnavailable {
		t.Fatalf("best of 3 in a full A: %d %+v", code, b)
	}

	// Eight buyers at once, two seats each, in section C (10 seats): the
	// grain picks and holds in one step, so 5 get seats, none twice.
	var mu sync.Mutex
	taken := map[int]bool{}
	ok := 0
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := inGoroutine(t)
			tok := n.token(t, fmt.Sprintf("c-%d@example.com", c))
			var b bestReply
			code := n.call(t, http.MethodPost, "/booking/reserve", tok,
				map[string]any{"event_id": ev, "best_available": map[string]any{"section": "C", "quantity": 2}}, &b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == http.StatusCreated && len(b.TicketIDs) == 2:
				ok++
				for _, i := range seats(b) {
					if taken[i] || i < 16 {
						t.Errorf("seat %d given twice or outside C", i)
					}
					taken[i] = true
				}
			case code == http.StatusConflict && b.Error.Code == boxoffice.ESeatUnavailable:
			default:
				t.Errorf("concurrent best: %d %+v", code, b)
			}
		}()
	}
	wg.Wait()
	if ok != 5 || len(taken) != 10 {
		t.Fatalf("%d of 8 concurrent best-of-2 got seats (%d seats), want 5 (10)", ok, len(taken))
	}
}

// TestStadiumAccessibleSeats: the demo stadium has wheelchair spaces and
// companion seats (the back row of each section), in its layout, and an
// accessible best available gets one with its companion.
func TestStadiumAccessibleSeats(t *testing.T) {
	n := startSeededNode(t)
	ev := seedID("event", StadiumEventName).String()
	var layout struct {
		Sections []struct {
			Name string `json:"name"`
			Rows []struct {
				First      int   `json:"first"`
				Seats      int   `json:"seats"`
				Wheelchair []int `json:"wheelchair"`
				Companion  []int `json:"companion"`
			} `json:"rows"`
		} `json:"sections"`
		TicketIDs []string `json:"ticket_ids"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev+"/layout", "", nil, &layout); code != http.StatusOK {
		t.Fatalf("stadium layout: %d", code)
	}
	spaces := map[string]bool{}
	for _, s := range layout.Sections {
		for _, r := range s.Rows {
			for _, w := range r.Wheelchair {
				spaces[layout.TicketIDs[r.First+w-1]] = true
			}
		}
	}
	if len(spaces) == 0 {
		t.Fatal("the stadium has no wheelchair spaces")
	}
	tok := n.token(t, "stadium-wheel@example.com")
	var b bestReply
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok,
		map[string]any{"event_id": ev, "best_available": map[string]any{"quantity": 2, "accessible": true}}, &b); code != http.StatusCreated ||
		len(b.TicketIDs) != 2 || !slices.ContainsFunc(b.TicketIDs, func(id string) bool { return spaces[id] }) {
		t.Fatalf("accessible best at the stadium: %d %+v", code, b)
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", n.token(t, "stadium-plain@example.com"),
		map[string]any{"event_id": ev, "best_available": map[string]any{"quantity": 4}}, &b); code != http.StatusCreated ||
		slices.ContainsFunc(b.TicketIDs, func(id string) bool { return spaces[id] }) {
		t.Fatalf("plain best at the stadium: %d %+v", code, b)
	}
}
