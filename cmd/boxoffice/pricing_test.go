package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice"
)

// pricedBooking is the part of a booking reply the pricing tests read.
type pricedBooking struct {
	BookingID   string   `json:"booking_id"`
	Status      string   `json:"status"`
	TotalPrice  string   `json:"total_price"`
	TicketTypes []string `json:"ticket_types"`
	PromoCode   string   `json:"promo_code"`
	PriceLines  []struct {
		Kind   string `json:"kind"`
		Label  string `json:"label"`
		Amount string `json:"amount"`
	} `json:"price_lines"`
	Error struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// TestPricingOverHTTP sells an event with ticket types, a service fee, a
// tax and promo codes through a real node: the event view shows the types
// and fees (not the codes); a reserve names a type per seat and per
// standing quantity and gets price lines that add up to its total; unknown
// types and unknown or expired codes are 400 with details.field; the dev
// payment charges exactly the total; a code's use is taken by a hold and
// given back by a release and by a refund; many buyers racing for a code
// with a small limit never pass it; a PATCH appends a type but may not
// reorder them; and `boxoffice check` passes the result.
func TestPricingOverHTTP(t *testing.T) {
	// Bookings written at once (window 0): the planted violations at the
	// end edit booking rows, which the write-behind projection would
	// write later (TestCheckPassesWithProjectedBookings checks that mode).
	n := startSeededNode(t, func(c *Config) { c.BookingsWindow = 0 })
	admin := n.token(t, "admin@example.com", "admin")
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	ev := createEventThrough(t, n, admin, map[string]any{
		"name": "Typed Hall", "city": "Vienna", "address": "Ring 1", "location": map[string]float64{"lat": 48.2, "lon": 16.4},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 20}}},
			map[string]any{"name": "Floor", "standing": 10},
		}},
	}, map[string]any{"name": "Typed Band", "biography": "b"}, map[string]any{
		"name": "Typed Night", "type": "concert", "starts_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"prices": map[string]string{"A": "40.00", "Floor": "15.00"},
		"ticket_types": []any{
			map[string]any{"name": "adult"},
			map[string]any{"name": "child", "prices": map[string]string{"A": "20.00", "Floor": "10.00"}},
		},
		"fees": []any{
			map[string]any{"kind": "fee", "label": "Service fee", "amount": "1.50"},
			map[string]any{"kind": "tax", "label": "VAT", "percent": "20"},
		},
		"promo_codes": []any{
			map[string]any{"code": "HALF", "percent": "50", "limit": 2, "ticket_types": []string{"child"}},
			map[string]any{"code": "OLD", "amount": "5.00", "valid_until": past},
			map[string]any{"code": "RACE", "amount": "1.00", "limit": 3},
		},
	})
	var view struct {
		Event struct {
			TicketTypes []struct {
				Name string `json:"name"`
			} `json:"ticket_types"`
			Fees       []map[string]string `json:"fees"`
			PromoCodes []any               `json:"promo_codes"`
		} `json:"event"`
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Section  string `json:"section"`
		} `json:"tickets"`
	}
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	if len(view.Event.TicketTypes) != 2 || view.Event.TicketTypes[1].Name != "child" || len(view.Event.Fees) != 2 ||
		view.Event.Fees[1]["percent"] != "20.00" || view.Event.PromoCodes != nil || len(view.Tickets) != 30 {
		t.Fatalf("event view: %+v, %d tickets", view.Event, len(view.Tickets))
	}
	seat := func(i int) string { return view.Tickets[i].TicketID }
	reserve := func(token string, body map[string]any) (int, pricedBooking) {
		t.Helper()
		body["event_id"] = ev
		var b pricedBooking
		code := n.call(t, http.MethodPost, "/booking/reserve", token, body, &b)
		return code, b
	}

	// Refusals, each naming its field.
	alice := n.token(t, "alice-priced@example.com")
	for _, c := range []struct {
		name, field string
		body        map[string]any
	}{
		{"unknown type", "ticket_types", map[string]any{"ticket_ids": []string{seat(0)}, "ticket_types": []string{"senior"}}},
		{"types not one per seat", "ticket_types", map[string]any{"ticket_ids": []string{seat(0)}, "ticket_types": []string{"adult", "child"}}},
		{"unknown standing type", "standing", map[string]any{"standing": []any{map[string]any{"section": "Floor", "quantity": 1, "ticket_type": "senior"}}}},
		{"unknown code", "promo_code", map[string]any{"ticket_ids": []string{seat(0)}, "promo_code": "NOPE"}},
		{"expired code", "promo_code", map[string]any{"ticket_ids": []string{seat(0)}, "promo_code": "OLD"}},
		{"code for no ticket", "promo_code", map[string]any{"ticket_ids": []string{seat(0)}, "promo_code": "HALF"}},
	} {
		if code, b := reserve(alice, c.body); code != http.StatusBadRequest || b.Error.Code != boxoffice.EInvalid || b.Error.Details["field"] != c.field {
			t.Errorf("%s: %d %+v", c.name, code, b.Error)
		}
	}

	// An adult and a child seat, two child places, 50 % off the children:
	// tickets 40 + 20 + 10 + 10 = 80.00, discount 20.00, fees 4 × 1.50,
	// VAT 20 % of 66.00 = 13.20: 79.20.
	code, held := reserve(alice, map[string]any{"ticket_ids": []string{seat(0), seat(1)}, "ticket_types": []string{"adult", "child"},
		"standing": []any{map[string]any{"section": "Floor", "quantity": 2, "ticket_type": "child"}}, "promo_code": "HALF"})
	if code != http.StatusCreated || held.TotalPrice != "79.20" || held.PromoCode != "HALF" ||
		!slices.Equal(held.TicketTypes, []string{"adult", "child", "child", "child"}) {
		t.Fatalf("priced reserve: %d %+v", code, held)
	}
	var lines []string
	for _, l := range held.PriceLines {
		lines = append(lines, l.Kind+" "+l.Label+" "+l.Amount)
	}
	want := []string{"tickets adult × 1 40.00", "tickets child × 3 40.00", "discount Promo HALF -20.00",
		"fee Service fee 6.00", "tax VAT 13.20"}
	if !slices.Equal(lines, want) {
		t.Fatalf("price lines %q, want %q", lines, want)
	}
	if status, code := n.confirmWithKey(t, alice, "", held.BookingID); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, code)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, n.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var charged, total int64
	var promo string
	var types []string
	if err := pool.QueryRow(ctx, `SELECT p.amount_minor, b.total_minor, b.promo_code, b.ticket_types
		FROM bookings b JOIN payments p ON p.booking_id = b.id WHERE b.id = $1`, held.BookingID).Scan(&charged, &total, &promo, &types); err != nil {
		t.Fatal(err)
	}
	if charged != 7920 || total != 7920 || promo != "HALF" || len(types) != 4 {
		t.Fatalf("stored: charged %d, total %d, promo %q, types %v", charged, total, promo, types)
	}

	// HALF has a limit of 2: bob takes the second use, carol is refused
	// until bob releases; alice's refund gives her use back to dave.
	child := func(i int) map[string]any {
		return map[string]any{"ticket_ids": []string{seat(i)}, "ticket_types": []string{"child"}, "promo_code": "HALF"}
	}
	bob, carol, dave := n.token(t, "bob-priced@example.com"), n.token(t, "carol-priced@example.com"), n.token(t, "dave-priced@example.com")
	code, bobs := reserve(bob, child(2))
	if code != http.StatusCreated || bobs.TotalPrice != "13.80" { // 20 - 10 + 1.50, +20 %
		t.Fatalf("bob: %d %+v", code, bobs)
	}
	if code, b := reserve(carol, child(3)); code != http.StatusBadRequest || b.Error.Details["field"] != "promo_code" {
		t.Fatalf("carol past the limit: %d %+v", code, b.Error)
	}
	if code := n.call(t, http.MethodDelete, "/booking/"+bobs.BookingID, bob, nil, nil); code != http.StatusOK {
		t.Fatalf("bob's release: %d", code)
	}
	if code, b := reserve(carol, child(3)); code != http.StatusCreated {
		t.Fatalf("carol after the release: %d %+v", code, b.Error)
	}
	if code, b := reserve(dave, child(4)); code != http.StatusBadRequest || b.Error.Details["field"] != "promo_code" {
		t.Fatalf("dave past the limit: %d %+v", code, b.Error)
	}
	var refunded struct {
		Status string `json:"status"`
	}
	if code := n.call(t, http.MethodPost, "/booking/"+held.BookingID+"/refund", alice, nil, &refunded); code != http.StatusOK || refunded.Status != "refunded" {
		t.Fatalf("refund: %d %+v", code, refunded)
	}
	if code, b := reserve(dave, child(4)); code != http.StatusCreated {
		t.Fatalf("dave after the refund: %d %+v", code, b.Error)
	}

	// Twelve buyers race for RACE (limit 3), one seat each: three win.
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for c := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := inGoroutine(t)
			tok := n.token(t, fmt.Sprintf("racer-%d@example.com", c))
			var b pricedBooking
			code := n.call(t, http.MethodPost, "/booking/reserve", tok,
				map[string]any{"event_id": ev, "ticket_ids": []string{seat(8 + c)}, "promo_code": "RACE"}, &b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == http.StatusCreated:
				won++
			case code == http.StatusBadRequest && b.Error.Details["field"] == "promo_code":
			default:
				t.Errorf("racer %d: %d %+v", c, code, b.Error)
			}
		}()
	}
	wg.Wait()
	if won != 3 {
		t.Fatalf("%d racers got a code limited to 3", won)
	}

	// A PATCH may append a type (the grain takes it at once), not reorder.
	patch := func(body map[string]any) int {
		return n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin, body, nil)
	}
	if code := patch(map[string]any{"ticket_types": []any{map[string]any{"name": "child"}, map[string]any{"name": "adult"}}}); code != http.StatusBadRequest {
		t.Fatalf("reordering types: %d", code)
	}
	if code := patch(map[string]any{"ticket_types": []any{map[string]any{"name": "adult"},
		map[string]any{"name": "child", "prices": map[string]string{"A": "20.00", "Floor": "10.00"}},
		map[string]any{"name": "concession", "prices": map[string]string{"A": "30.00"}}}}); code != http.StatusOK {
		t.Fatalf("appending a type: %d", code)
	}
	if code, b := reserve(dave, map[string]any{"ticket_ids": []string{seat(5)}, "ticket_types": []string{"concession"}}); code != http.StatusCreated || b.TotalPrice != "37.80" {
		t.Fatalf("a concession: %d %+v", code, b)
	}

	vs, err := check(ctx, pool, nil)
	if err != nil || len(vs) != 0 {
		t.Fatalf("check: %v %+v", err, vs)
	}
	// check finds a planted overuse and a total that its lines do not make.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back on purpose
	if _, err := tx.Exec(ctx, `UPDATE bookings SET promo_code = 'RACE', status = 'confirmed' WHERE event_id = $1 AND promo_code IS NULL`, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE bookings SET total_minor = total_minor + 1 WHERE id = $1`, held.BookingID); err != nil {
		t.Fatal(err)
	}
	vs, err = check(ctx, tx, nil)
	if err != nil || !slices.ContainsFunc(vs, func(v violation) bool { return v.Kind == kindPromoOverLimit }) ||
		!slices.ContainsFunc(vs, func(v violation) bool { return v.Kind == kindPriceMismatch }) {
		t.Fatalf("planted violations not found: %v %+v", err, vs)
	}
}
