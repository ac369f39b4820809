package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPricingPages sells with ticket types, fees and a promo code through
// the pages in headless Chromium: an admin creates the event on the
// dashboard with two ticket types, a fee, a tax and a promo code (checked
// through the admin API); a buyer on the seat page picks a seat as "child",
// is told why an unknown code is refused (the API's message beside the
// input), then holds with the right code, and the page shows exactly the
// booking's price lines and total (as GET /booking/{id} has them), also in
// "My bookings". The edit form appends a type (PATCH) and keeps the rest.
func TestPricingPages(t *testing.T) {
	n := startSeededNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	var v struct {
		VenueID string `json:"venue_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/venues", admin, map[string]any{
		"name": "Priced Hall", "city": "Graz", "address": "Platz 1", "location": map[string]float64{"lat": 47.07, "lon": 15.44},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 10}}}}},
	}, &v); code != http.StatusCreated {
		t.Fatalf("create venue: %d", code)
	}
	var perf struct {
		PerformerID string `json:"performer_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/performers", admin, map[string]any{"name": "Priced Band", "biography": "b"}, &perf); code != http.StatusCreated {
		t.Fatalf("create performer: %d", code)
	}

	browser := startBrowser(t)
	shots := screenshotDir(t)
	dash := newTab(t, browser, "dashboard", shots, true)
	dash.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	dash.do("sign in as admin", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")))
	dash.waitFor("the dashboard", `document.body.dataset.ready === 'true' && !!document.getElementById('e-types')`, 20*time.Second)
	form := map[string]string{
		"e-name": "Priced Night", "e-venue": v.VenueID, "e-performer": perf.PerformerID, "e-prices": "A=40.00",
		"e-types":  "adult\nchild: A=20.00",
		"e-fees":   "Service fee = 1.50\nVAT = 20%",
		"e-promos": "HALF 50% limit=5 types=child",
	}
	js, _ := json.Marshal(form)
	eval[bool](dash, fmt.Sprintf(`(() => {
		document.getElementById('e-pricing').open = true;
		for (const [id, v] of Object.entries(%s)) document.getElementById(id).value = v;
		document.getElementById('event-create').click();
		return true;
	})()`, js))
	dash.waitFor("the event created", `!!document.getElementById('event-result').dataset.eventId`, 10*time.Second)
	dash.screenshot("pricing-dashboard")
	ev := eval[string](dash, `document.getElementById('event-result').dataset.eventId`)

	// The admin API has what the form said.
	got, raw := adminListedEvent(t, n, admin, ev)
	if len(got.TicketTypes) != 2 || got.TicketTypes[0].Name != "adult" || got.TicketTypes[1].Name != "child" || got.TicketTypes[1].Prices["A"] != "20.00" {
		t.Errorf("ticket types: %+v", got.TicketTypes)
	}
	if len(got.Fees) != 2 || got.Fees[0]["kind"] != "fee" || got.Fees[0]["amount"] != "1.50" || got.Fees[1]["kind"] != "tax" || got.Fees[1]["percent"] != "20.00" {
		t.Errorf("fees: %+v", got.Fees)
	}
	if len(got.PromoCodes) != 1 || got.PromoCodes[0].Code != "HALF" || got.PromoCodes[0].Percent != "50.00" || got.PromoCodes[0].Limit != 5 ||
		!slices.Equal(got.PromoCodes[0].TicketTypes, []string{"child"}) {
		t.Errorf("promo codes: %+v", got.PromoCodes)
	}

	// The edit form starts from them and appends a type (a PATCH of the
	// types only: the fees and codes stay).
	eval[bool](dash, fmt.Sprintf(`(() => { window.boxofficeAdmin.lists.openEdit('event', %q, %s); return true; })()`, ev, raw))
	dash.waitFor("the edit form with the pricing", `document.getElementById('edit-types')?.value === 'adult\nchild: A=20.00' && document.getElementById('edit-promos').value === 'HALF 50.00% limit=5 types=child'`, 5*time.Second)
	eval[bool](dash, `(() => {
		document.getElementById('edit-types').value += '\nconcession: A=30.00';
		document.getElementById('edit-save').click();
		return true;
	})()`)
	dash.waitFor("the edit saved", `document.getElementById('edit-card').hidden`, 10*time.Second)
	if edited, _ := adminListedEvent(t, n, admin, ev); len(edited.TicketTypes) != 3 || edited.TicketTypes[2].Name != "concession" ||
		edited.TicketTypes[2].Prices["A"] != "30.00" || len(edited.Fees) != 2 || len(edited.PromoCodes) != 1 {
		t.Errorf("after the edit: %+v", edited)
	}

	// The seat page: a seat as "child", a refused code, then the right one.
	fan := newTab(t, browser, "fan", shots, true)
	fan.do("open the event", 20*time.Second, chromedp.Navigate(n.URL+"/events/"+ev))
	fan.waitFor("the live seat map, no accessible seats in the legend", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map && document.getElementById('legend-access').hidden`, 20*time.Second)
	fan.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "fan@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Fan"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	eval[bool](fan, `(() => { window.boxoffice.page.toggle(0); return true; })()`)
	fan.waitFor("a type picker for the seat", `document.querySelectorAll('#selection select.ticket-type').length === 1 && !document.getElementById('type-all-wrap').hidden`, 5*time.Second)
	eval[bool](fan, `(() => {
		const s = document.querySelector('#selection select.ticket-type');
		s.value = 'child';
		s.dispatchEvent(new Event('change', { bubbles: true }));
		document.getElementById('promo-code').value = 'NOPE';
		return true;
	})()`)
	fan.waitFor("the child price in the selection", `document.querySelector('#selection select.ticket-type').value === 'child' && !document.getElementById('hold-button').disabled`, 5*time.Second)
	// What the API says of the unknown code, to compare with the page.
	seat0 := eval[string](fan, `window.boxoffice.page.tickets[0].ticket_id`)
	var refusal struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", n.token(t, "probe@example.com"),
		map[string]any{"event_id": ev, "ticket_ids": []string{seat0}, "ticket_types": []string{"child"}, "promo_code": "NOPE"}, &refusal); code != http.StatusBadRequest || refusal.Error.Message == "" {
		t.Fatalf("reserve with an unknown code: %d %+v", code, refusal)
	}
	eval[bool](fan, `(() => { document.getElementById('hold-button').click(); return true; })()`)
	fan.waitFor("the API's refusal beside the code", fmt.Sprintf(`!document.getElementById('promo-error').hidden && document.getElementById('promo-error').textContent === %q && document.getElementById('hold-card').hidden`, refusal.Error.Message), 10*time.Second)
	fan.screenshot("pricing-refused")
	eval[bool](fan, `(() => {
		document.getElementById('promo-code').value = 'HALF';
		document.getElementById('hold-button').click();
		return true;
	})()`)
	fan.waitFor("the hold with its price lines", `!document.getElementById('hold-card').hidden && document.querySelectorAll('#hold-lines li').length > 0 && document.getElementById('promo-error').hidden`, 10*time.Second)
	fan.screenshot("pricing-held")
	id := eval[string](fan, `window.boxoffice.page.checkout.hold.booking_id`)
	token := eval[string](fan, `window.boxoffice.page.session.token`)
	var b pricedBooking
	if code := n.call(t, http.MethodGet, "/booking/"+id, token, nil, &b); code != http.StatusOK {
		t.Fatalf("GET /booking/%s: %d", id, code)
	}
	if !slices.Equal(b.TicketTypes, []string{"child"}) || b.PromoCode != "HALF" || !slices.ContainsFunc(b.PriceLines, func(l struct {
		Kind   string `json:"kind"`
		Label  string `json:"label"`
		Amount string `json:"amount"`
	}) bool {
		return l.Kind == "discount"
	}) {
		t.Errorf("booking: %+v", b)
	}
	var want [][3]string
	for _, l := range b.PriceLines {
		want = append(want, [3]string{l.Kind, l.Label, l.Amount})
	}
	shown := eval[[][3]string](fan, `[...document.querySelectorAll('#hold-lines li')].map((li) => [li.dataset.kind, li.querySelector('.label').textContent, li.dataset.amount])`)
	if !slices.Equal(shown, want) {
		t.Errorf("the page shows price lines %v, the booking has %v", shown, want)
	}
	if total := eval[string](fan, `document.getElementById('hold-total').dataset.total`); total != b.TotalPrice {
		t.Errorf("the page shows total %q, the booking has %q", total, b.TotalPrice)
	}
	fan.do("open My bookings", 10*time.Second, chromedp.Click(chromedp.ID("bookings-button")))
	fan.waitFor("the price lines in My bookings", fmt.Sprintf(`document.querySelectorAll('#bookings-list tr[data-booking-id=%q] .price-lines li').length === %d`, id, len(want)), 10*time.Second)
	for _, tb := range []*tab{dash, fan} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s page errors: %v", tb.name, errs)
		}
	}
}

// pricedEvent is the part of an admin events list item TestPricingPages reads.
type pricedEvent struct {
	EventID     string `json:"event_id"`
	TicketTypes []struct {
		Name   string            `json:"name"`
		Prices map[string]string `json:"prices"`
	} `json:"ticket_types"`
	Fees       []map[string]string `json:"fees"`
	PromoCodes []struct {
		Code        string   `json:"code"`
		Percent     string   `json:"percent"`
		Limit       int      `json:"limit"`
		TicketTypes []string `json:"ticket_types"`
	} `json:"promo_codes"`
}

// adminListedEvent pages through GET /admin/api/events (ordered by id, not
// by age) until it finds the event ev; it returns the item's event as sent.
func adminListedEvent(t *testing.T, n *testNode, admin, ev string) (pricedEvent, json.RawMessage) {
	t.Helper()
	cursor := ""
	for {
		var list struct {
			Events     []struct{ Event json.RawMessage } `json:"events"`
			NextCursor string                            `json:"next_cursor"`
		}
		if code := n.call(t, http.MethodGet, "/admin/api/events?limit=200&cursor="+url.QueryEscape(cursor), admin, nil, &list); code != http.StatusOK {
			t.Fatalf("list events: %d", code)
		}
		for _, e := range list.Events {
			var got pricedEvent
			if err := json.Unmarshal(e.Event, &got); err != nil {
				t.Fatal(err)
			}
			if got.EventID == ev {
				return got, e.Event
			}
		}
		if list.NextCursor == "" {
			t.Fatalf("event %s not in the admin list", ev)
		}
		cursor = list.NextCursor
	}
}
