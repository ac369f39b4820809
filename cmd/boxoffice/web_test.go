package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestWebPages drives the seat-map page and the admin dashboard in headless
// Chromium against a real node with the demo catalog: Alice searches, opens
// the 50,000-seat stadium, picks seats by clicking and "best available",
// holds 2, is declined with one test card and pays with another, and finds
// the booking in "My bookings"; Bob, in a second browser that opened the
// event by its /events/{id} link, sees those seats turn on hold and then
// sold without reloading; an admin sees the node and the event's live
// counts. Every page is saved as a screenshot (the directory is logged).
// fansAhead is how many people queue before Alice in TestWebPages.
const fansAhead = 10

func TestWebPages(t *testing.T) {
	// The waiting rooms' clock stands still until the test moves it, so
	// nobody is admitted before the admin raises the rate, however slowly
	// the pages load.
	queueClock := clustertest.NewClock(time.Now())
	n := startSeededNode(t, func(c *Config) { c.queueNow = queueClock.Now })
	eventID := stadiumEventID()
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	browser := startBrowser(t)

	alice := newTab(t, browser, "alice", shots, true)
	bob := newTab(t, browser, "bob", shots, true)

	// Alice searches and opens the stadium.
	alice.do("open the search page", 20*time.Second, chromedp.Navigate(n.URL+"/"))
	alice.waitFor("first results", `document.querySelectorAll('#results a.result').length > 0`, 10*time.Second)
	alice.screenshot("1-search")
	alice.do("search for the stadium event", 10*time.Second,
		chromedp.SetValue(chromedp.ID("q"), "metalica estadio"), // a typo, as people type
		chromedp.Click(chromedp.ID("search-button")))
	result := fmt.Sprintf(`#results a.result[data-event-id=%q]`, eventID)
	alice.waitFor("the stadium event in the results", fmt.Sprintf(`!!document.querySelector(%q)`, result), 10*time.Second)
	alice.screenshot("2-search-results")
	alice.do("open the event", 10*time.Second, chromedp.Click(chromedp.CSS(result)))
	alice.waitFor("the live seat map", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map`, 20*time.Second)
	if got := eval[int](alice, `window.boxoffice.page.tickets.length`); got != 50000 {
		t.Fatalf("the stadium page shows %d seats, want 50000", got)
	}
	alice.screenshot("3-event")
	alice.waitFor("the page's timings", `window.boxoffice.page.timings.live_ms !== undefined`, 5*time.Second)
	t.Logf("stadium page, 50,000 seats, in ms: %s", eval[string](alice, `JSON.stringify(window.boxoffice.page.timings, (k, v) => k === 'start' ? undefined : v)`))

	// Bob opens the same event from its shared link: /events/{id} in a
	// browser is the page, not the JSON.
	bob.do("open the event link", 20*time.Second, chromedp.Navigate(n.URL+"/events/"+eventID))
	bob.waitFor("Bob's live seat map", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map`, 20*time.Second)
	eval[bool](bob, `window.stillTheSamePage = true`)

	// Alice signs in, picks a seat by clicking the map (and unpicks it),
	// then takes the 2 best seats together.
	alice.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "alice@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Alice"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	alice.do("zoom in", 5*time.Second, chromedp.Click(chromedp.ID("zoom-in")))
	// The stadium's middle is its pitch: zoom on with the wheel over the
	// near stand's first row (section A, seat 51 of row 1), as a visitor would.
	stand := eval[struct{ X, Y float64 }](alice, `(() => { const p = window.boxoffice.page.map.seatPoint(50); return {x: p.x, y: p.y}; })()`)
	wheel, cancelWheel := context.WithTimeout(alice.ctx, 5*time.Second)
	_, err := chromedp.Call(wheel, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseWheel, X: stand.X, Y: stand.Y, DeltaX: 0.01, DeltaY: -500}) // DeltaX 0 would be left out; CDP wants both
	cancelWheel()
	if err != nil {
		alice.fail("zoom on the near stand", err)
	}
	var seat struct{ I, X, Y float64 }
	raw := eval[string](alice, `(() => {
		const m = window.boxoffice.page.map, r = m.canvas.getBoundingClientRect();
		for (let i = 0; i < m.tickets.length; i++) {
			const p = m.seatPoint(i);
			if (m.status[i] === 0 && p.x > r.left + 40 && p.x < r.right - 40 && p.y > r.top + 40 && p.y < r.bottom - 40 && m.seatAt(p.x, p.y) === i)
				return JSON.stringify({I: i, X: p.x, Y: p.y});
		}
		return '{"I": -1}';
	})()`)
	if err := json.Unmarshal([]byte(raw), &seat); err != nil || seat.I < 0 {
		t.Fatalf("no clickable available seat in view: %s %v", raw, err)
	}
	alice.do("click a seat", 5*time.Second, chromedp.MouseClickXY(seat.X, seat.Y))
	alice.waitFor("the clicked seat selected", fmt.Sprintf(`window.boxoffice.page.selection.has(%d)`, int(seat.I)), 5*time.Second)
	alice.screenshot("4-seat-clicked")
	alice.do("click it again", 5*time.Second, chromedp.MouseClickXY(seat.X, seat.Y))
	alice.waitFor("the seat unselected", `window.boxoffice.page.selection.size === 0`, 5*time.Second)
	// Best available: the server picks the 2 seats and holds them at once.
	alice.do("best available 2", 10*time.Second,
		chromedp.SetValue(chromedp.ID("best-count"), "2"),
		chromedp.Click(chromedp.ID("best-button")))
	alice.waitFor("the checkout countdown", `!document.getElementById('hold-card').hidden && /^\d+:\d\d$/.test(document.getElementById('countdown').textContent)`, 10*time.Second)
	alice.screenshot("5-held")
	picked := eval[[]string](alice, `window.boxoffice.page.checkout.hold.ticket_ids`)
	if len(picked) != 2 {
		t.Fatalf("best available held %d seats, want 2", len(picked))
	}

	statuses := func(want string) string {
		return fmt.Sprintf(`%s.every((id) => window.boxoffice.page.statusOf(id) === %q)`, mustJSON(t, picked), want)
	}
	bob.waitFor("Alice's seats on hold in Bob's map", statuses("reserved"), 5*time.Second)

	// A declined card is said in plain words and keeps the hold; a good one books.
	alice.do("pay with a declined card", 10*time.Second,
		chromedp.SetValue(chromedp.ID("card-token"), "tok_chargeDeclined"),
		chromedp.Click(chromedp.ID("pay-button")))
	alice.waitFor("the decline explained", `/declined/.test(document.getElementById('notice').textContent) && !document.getElementById('hold-card').hidden`, 10*time.Second)
	alice.screenshot("6-declined")
	alice.do("pay with the test Visa", 10*time.Second,
		chromedp.SetValue(chromedp.ID("card-token"), "tok_visa"),
		chromedp.Click(chromedp.ID("pay-button")))
	alice.waitFor("the confirmation", `!document.getElementById('confirm-card').hidden`, 10*time.Second)
	alice.waitFor("Alice's seats booked in her map", statuses("booked"), 5*time.Second)
	alice.screenshot("7-confirmed")

	bob.waitFor("Alice's seats sold in Bob's map", statuses("booked"), 5*time.Second)
	if !eval[bool](bob, `window.stillTheSamePage === true`) {
		t.Fatal("Bob's page reloaded")
	}
	eval[bool](bob, fmt.Sprintf(`window.boxoffice.page.map.reveal(%s.map((id) => window.boxoffice.page.index.get(id))), true`, mustJSON(t, picked)))
	bob.screenshot("8-second-browser")

	// Bob picks 2 free seats; someone else takes them before he holds:
	// his page drops them and says so.
	eval[bool](bob, `(() => { const p = window.boxoffice.page; let n = 0;
		for (let i = 0; i < p.tickets.length && n < 2; i++) if (p.map.status[i] === 0) { p.toggle(i); n++; }
		return true; })()`)
	bob.waitFor("Bob's 2 seats selected", `window.boxoffice.page.selection.size === 2`, 5*time.Second)
	bobs := eval[[]string](bob, `[...window.boxoffice.page.selection].map((i) => window.boxoffice.page.tickets[i].ticket_id)`)
	dave := n.token(t, "dave@example.com")
	var daves struct {
		ID string `json:"booking_id"`
	}
	if code := n.call(t, "POST", "/booking/reserve", dave, map[string]any{"event_id": eventID, "ticket_ids": bobs}, &daves); code != 201 {
		t.Fatalf("dave's reserve: %d", code)
	}
	bob.waitFor("Bob told his seats were taken", `window.boxoffice.page.selection.size === 0 && /taken by someone else/.test(document.getElementById('notice').textContent)`, 5*time.Second)
	bob.screenshot("8b-seats-taken")

	// A dropped socket and a gap in the versions both end in a fresh
	// snapshot; a change made while Bob was away is on his map after it.
	eval[bool](bob, `window.boxoffice.page.feed.ws.close(), true`)
	if code := n.call(t, "DELETE", "/booking/"+daves.ID, dave, nil, nil); code != 200 {
		t.Fatalf("dave's release: %d", code)
	}
	bob.waitFor("Bob reconnected after a drop", `window.boxoffice.page.feed.reconnects >= 1 && document.body.dataset.live === 'true'`, 10*time.Second)
	bob.waitFor("Dave's released seats free again on Bob's map", fmt.Sprintf(`%s.every((id) => window.boxoffice.page.statusOf(id) === 'available')`, mustJSON(t, bobs)), 5*time.Second)
	eval[bool](bob, `(() => { const f = window.boxoffice.page.feed; f.receive(f.ws, JSON.stringify({type: 'delta', version: f.version + 2, changes: []})); return true; })()`)
	bob.waitFor("Bob reconnected after a gap", `window.boxoffice.page.feed.gaps === 1 && window.boxoffice.page.feed.version !== null && document.body.dataset.live === 'true'`, 10*time.Second)

	alice.do("open My bookings", 5*time.Second, chromedp.Click(chromedp.ID("bookings-button")))
	alice.waitFor("the confirmed booking listed", `document.querySelectorAll('#bookings-list tr[data-status="confirmed"]').length === 1`, 5*time.Second)
	alice.screenshot("9-my-bookings")

	// The admin dashboard: the node, the event where it lives, its counts.
	admin := newTab(t, browser, "admin", shots, true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in as admin", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")))
	admin.waitFor("the node listed", fmt.Sprintf(`document.body.dataset.ready === 'true' && [...document.querySelectorAll('#nodes tbody tr')].some((tr) => tr.textContent.includes(%q) && tr.textContent.includes('alive'))`, n.URL), 10*time.Second)
	// The webhooks line reads GET /admin/api/webhooks.
	if code := n.call(t, "POST", "/admin/api/webhooks", n.token(t, "admin@example.com", "admin"),
		map[string]any{"url": "http://127.0.0.1:9/hooks", "events": []string{"event.sold_out"}}, nil); code != 201 {
		t.Fatalf("register a webhook: %d", code)
	}
	admin.waitFor("the webhooks line", `document.getElementById('webhooks-line').textContent.startsWith('Webhooks: 1 registered, 0 delivered, 0 pending.')`, 20*time.Second)
	placed := fmt.Sprintf(`#placements tr[data-event-id=%q]`, eventID)
	admin.do("open the event's live view", 10*time.Second, chromedp.Click(chromedp.CSS(placed)))
	admin.waitFor("the event's live counts", `document.getElementById('st-booked').textContent === '2' && document.getElementById('st-reserved').textContent === '0' && document.getElementById('st-available').textContent === (49998).toLocaleString()`, 10*time.Second)
	admin.waitFor("the event's name", fmt.Sprintf(`document.getElementById('ev-title').textContent === %q`, StadiumEventName), 10*time.Second)
	// A check-in at the door shows up as admitted of sold.
	admin.waitFor("nobody admitted yet", `document.getElementById('st-admitted').textContent === '0 / 2'`, 10*time.Second)
	admitFirstTicket(t, n, n.token(t, "alice@example.com"), n.token(t, "admin@example.com", "admin"))
	admin.waitFor("the admission in the live counts", `document.getElementById('st-admitted').textContent === '1 / 2'`, 10*time.Second)
	// A hold made elsewhere shows up in the counts and the reserves chart.
	var stadium struct {
		Tickets []struct {
			ID     string `json:"ticket_id"`
			Status string `json:"status"`
		} `json:"tickets"`
	}
	n.call(t, "GET", "/events/"+eventID, "", nil, &stadium)
	var four []string
	for _, tk := range stadium.Tickets[len(stadium.Tickets)-4:] {
		four = append(four, tk.ID)
	}
	carol := n.token(t, "carol@example.com")
	if code := n.call(t, "POST", "/booking/reserve", carol, map[string]any{"event_id": eventID, "ticket_ids": four}, nil); code != 201 {
		t.Fatalf("carol's reserve: %d", code)
	}
	admin.waitFor("the new hold in the live counts", `document.getElementById('st-reserved').textContent === '4' && document.getElementById('st-holds').textContent === '1'`, 10*time.Second)
	admin.waitFor("the hold in the reserves chart", `window.boxofficeAdmin.charts.points.some((p) => p.ok > 0)`, 10*time.Second)
	admin.screenshot("10-admin")

	// Catalog admin: a venue from the seat-map builder, a performer, an event.
	admin.do("create a venue", 10*time.Second,
		chromedp.SetValue(chromedp.ID("v-name"), "Sala Prueba"),
		chromedp.SetValue(chromedp.ID("v-city"), "Valencia"),
		chromedp.SetValue(chromedp.ID("v-lat"), "39.4699"),
		chromedp.SetValue(chromedp.ID("v-lon"), "-0.3763"),
		chromedp.Click(chromedp.ID("venue-create")))
	admin.waitFor("the venue created", `!!document.getElementById('venue-result').dataset.venueId && document.getElementById('e-venue').value !== ''`, 10*time.Second)
	admin.do("create a performer", 10*time.Second,
		chromedp.SetValue(chromedp.ID("p-name"), "Los Probadores"),
		chromedp.Click(chromedp.ID("performer-create")))
	admin.waitFor("the performer created", `!!document.getElementById('performer-result').dataset.performerId`, 10*time.Second)
	admin.do("create an event", 10*time.Second,
		chromedp.SetValue(chromedp.ID("e-name"), "Los Probadores en Valencia"),
		chromedp.Click(chromedp.ID("event-create")))
	admin.waitFor("the event created", `!!document.getElementById('event-result').dataset.eventId`, 10*time.Second)
	newEvent := eval[string](admin, `document.getElementById('event-result').dataset.eventId`)
	if got, want := eval[int](admin, `Number(document.getElementById('event-result').dataset.tickets)`),
		eval[int](admin, `window.boxofficeAdmin.catalog.sections.reduce((a, s) => a + s.rows * s.seats, 0)`); got != want || want == 0 {
		t.Errorf("the new event has %d tickets, want the builder's %d seats", got, want)
	}
	admin.do("show the catalog forms", 5*time.Second, chromedp.ScrollIntoView(chromedp.ID("event-result")))
	admin.screenshot("11-admin-catalog")

	// The waiting room: on at 1 per second behind 10 people, Alice queues;
	// then the admin raises the rate and she gets her seats.
	admin.do("open the new event's live view", 10*time.Second,
		chromedp.Click(chromedp.CSS(`#event-result a[href^="/admin/"]`)),
		chromedp.WaitVisible(chromedp.ID("event-card")))
	admin.waitFor("the new event in the live view", fmt.Sprintf(`document.getElementById('ev-id').textContent === %q && document.getElementById('st-available').textContent !== '-'`, newEvent), 10*time.Second)
	// The form is filled from the event's catalog entry once it arrives;
	// edit it only then, so the test and the page never race over it.
	admin.waitFor("the waiting-room form of the new event", fmt.Sprintf(`document.getElementById('wr-form').dataset.eventId === %q && !document.getElementById('wr-enabled').checked`, newEvent), 10*time.Second)
	admin.do("open the waiting room at 1/s", 10*time.Second,
		chromedp.Click(chromedp.ID("wr-enabled")),
		chromedp.SetValue(chromedp.ID("wr-rate"), "1"),
		chromedp.Click(chromedp.ID("wr-save")))
	admin.waitFor("the waiting room on", `document.getElementById('wr-state').textContent.startsWith('on: 1 ')`, 10*time.Second)
	// The room's clock stands still: nobody is admitted, Alice stays in
	// line behind the fans until the test moves it.
	type place struct {
		QueueID  string `json:"queue_id"`
		Position int    `json:"position"`
		State    string `json:"state"`
	}
	var first place
	firstTok := ""
	for i := range fansAhead {
		tok := n.token(t, fmt.Sprintf("fan%d@example.com", i))
		var p place
		if code := n.call(t, "POST", "/events/"+newEvent+"/queue", tok, nil, &p); code != 200 {
			t.Fatalf("fan %d joins the queue: %d", i, code)
		}
		if i == 0 {
			first, firstTok = p, tok
		}
	}
	alice.do("open the new event", 20*time.Second, chromedp.Navigate(n.URL+"/events/"+newEvent))
	alice.waitFor("the new event's live map", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map`, 20*time.Second)
	alice.do("best available 2 (holds once admitted)", 10*time.Second,
		chromedp.Click(chromedp.ID("best-button")))
	alice.waitFor("Alice in the waiting room", fmt.Sprintf(`!document.getElementById('queue-card').hidden && document.getElementById('queue-text').textContent.includes('number %d in line')`, fansAhead+1), 10*time.Second)
	alice.screenshot("12-waiting-room")
	var now place
	if code := n.call(t, "GET", "/events/"+newEvent+"/queue/"+first.QueueID, firstTok, nil, &now); code != 200 || now.State != "waiting" || now.Position != 1 {
		t.Fatalf("the first fan, on a room clock that stood still: %d %+v, want still waiting at position 1", code, now)
	}
	admin.do("raise the rate", 10*time.Second,
		chromedp.SetValue(chromedp.ID("wr-rate"), "1000"),
		chromedp.Click(chromedp.ID("wr-save")))
	admin.waitFor("the waiting room at 1000/s", `document.getElementById('wr-state').textContent.startsWith('on: 1000 ')`, 10*time.Second)
	// One second on the room's clock earns 1000 admissions; should the
	// room have missed the PATCH, it re-reads the setting by itself, so
	// the clock moves a second more each time until Alice is admitted.
	admitted := `!document.getElementById('hold-card').hidden && document.getElementById('queue-card').hidden`
	for i := 0; ; i++ {
		queueClock.Advance(time.Second)
		if alice.becomes(admitted, 3*time.Second) {
			break
		}
		if i == 5 {
			alice.fail("Alice admitted and holding", fmt.Errorf("not after %d s on the room's clock", i+1))
		}
	}
	alice.screenshot("13-admitted-and-held")
	admin.waitFor("Alice's hold in the admin's counts", `document.getElementById('st-reserved').textContent === '2'`, 10*time.Second)
	admin.screenshot("14-admin-waiting-room")

	for _, tb := range []*tab{alice, bob, admin} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s: JavaScript errors: %v", tb.name, errs)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// admitFirstTicket checks in the first ticket of the user's confirmed
// booking, as door staff would.
func admitFirstTicket(t *testing.T, n *testNode, user, admin string) {
	t.Helper()
	var out struct {
		Bookings []struct {
			ID     string `json:"booking_id"`
			Status string `json:"status"`
		} `json:"bookings"`
	}
	if code := n.call(t, "GET", "/user/bookings", user, nil, &out); code != 200 {
		t.Fatalf("GET /user/bookings: %d", code)
	}
	for _, b := range out.Bookings {
		if b.Status != "confirmed" {
			continue
		}
		var tk struct {
			Tickets []struct {
				Code string `json:"code"`
			} `json:"tickets"`
		}
		if code := n.call(t, "GET", "/booking/"+b.ID+"/tickets", user, nil, &tk); code != 200 || len(tk.Tickets) == 0 {
			t.Fatalf("GET tickets: %d", code)
		}
		if code := n.call(t, "POST", "/checkin", admin, map[string]any{"code": tk.Tickets[0].Code, "gate": "Main"}, nil); code != 200 {
			t.Fatalf("POST /checkin: %d", code)
		}
		return
	}
	t.Fatal("no confirmed booking")
}
