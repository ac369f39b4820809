package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axOptions lists the names of the options in the page's accessibility
// tree, as a screen reader gets them, and the name of the node that has
// focus.
func axOptions(tb *tab) (options []string, focused string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (accessibility.GetFullAXTreeResult, error) {
		return cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	})
	if err != nil {
		tb.fail("the accessibility tree", err)
	}
	nodes := res.Nodes
	str := func(v *accessibility.Value) string {
		var s string
		if v != nil {
			_ = json.Unmarshal(v.Value, &s)
		}
		return s
	}
	for _, n := range nodes {
		if n.Ignored {
			continue
		}
		if str(n.Role) == "option" {
			options = append(options, str(n.Name))
		}
		for _, p := range n.Properties {
			if p.Name == accessibility.PropertyNameFocused && string(p.Value.Value) == "true" {
				focused = str(n.Role) + ": " + str(n.Name)
			}
		}
	}
	return options, focused
}

// TestSeatMapKeyboard uses the seat page with the keyboard alone, as a
// screen reader user does, in headless Chromium: the map's listbox takes
// focus, its option names the seat in words (checked in the accessibility
// tree), arrow keys move along a row and between rows, Enter selects the
// seat, and the hold goes through; then "best available" with the
// wheelchair option holds the wheelchair space and its companion seat.
func TestSeatMapKeyboard(t *testing.T) {
	n := startSeededNode(t)
	ev := createAccessEvent(t, n)
	browser := startBrowser(t)
	fan := newTab(t, browser, "keyboard", screenshotDir(t), false)
	fan.do("open the event", 20*time.Second, chromedp.Navigate(n.URL+"/events/"+ev))
	fan.waitFor("the live seat map", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map`, 20*time.Second)
	// h19ui: the map outlines every wheelchair space and companion seat, and the legend says so.
	fan.waitFor("the accessible seats outlined, in the legend", `(() => {
		const p = window.boxoffice.page;
		const want = p.tickets.flatMap((t, i) => t.access ? [i] : []);
		return !document.getElementById('legend-access').hidden && want.length > 0 && p.map.access.join() === want.join();
	})()`, 5*time.Second)
	fan.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "keys@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Keys"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))

	fan.do("focus the seat map", 5*time.Second, chromedp.Focus(chromedp.ID("seat-keys")))
	keyboard := true // the listbox has focus (until the mouse clicks a button)
	want := func(what, name string) {
		t.Helper()
		fan.waitFor(what, fmt.Sprintf(`document.getElementById('seat-keys-option').textContent === %q`, name), 5*time.Second)
		all, focused := axOptions(fan)
		var options []string // the seat's, not the payment form's
		for _, o := range all {
			if strings.HasPrefix(o, "Section ") {
				options = append(options, o)
			}
		}
		if len(options) != 1 || options[0] != name {
			t.Fatalf("%s: accessibility tree options %q, want [%q]", what, options, name)
		}
		if keyboard && !strings.HasPrefix(focused, "listbox: ") {
			t.Fatalf("%s: focus on %q, want the seat listbox", what, focused)
		}
	}
	want("the first seat named", "Section A, row 1, seat 1, 45.00 EUR, available")
	fan.do("arrow right twice", 5*time.Second, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight))
	want("seat 3 named", "Section A, row 1, seat 3, 45.00 EUR, available")
	fan.do("arrow down, arrow left", 5*time.Second, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowLeft))
	want("the companion seat named", "Section A, row 2, seat 2, 45.00 EUR, available, companion seat")
	fan.do("arrow left", 5*time.Second, chromedp.KeyEvent(kb.ArrowLeft))
	want("the wheelchair space named", "Section A, row 2, seat 1, 45.00 EUR, available, wheelchair space")
	fan.do("arrow down into section B, End", 5*time.Second, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.End))
	want("section B's last seat named", "Section B, row 1, seat 4, 30.00 EUR, available")
	fan.do("Enter selects it", 5*time.Second, chromedp.KeyEvent(kb.Enter))
	want("the seat selected", "Section B, row 1, seat 4, 30.00 EUR, selected")
	fan.do("arrow left, Space selects", 5*time.Second, chromedp.KeyEvent(kb.ArrowLeft), chromedp.KeyEvent(" "))
	want("the second seat selected", "Section B, row 1, seat 3, 30.00 EUR, selected")
	if got := eval[int](fan, `window.boxoffice.page.selection.size`); got != 2 {
		t.Fatalf("%d seats selected, want 2", got)
	}
	fan.screenshot("keyboard-selected")
	fan.do("hold them", 10*time.Second, chromedp.Click(chromedp.ID("hold-button")))
	fan.waitFor("the hold", `!document.getElementById('hold-card').hidden`, 10*time.Second)
	keyboard = false
	want("the held seat is yours", "Section B, row 1, seat 3, 30.00 EUR, yours")
	held := eval[[]string](fan, `window.boxoffice.page.checkout.hold.ticket_ids.map((id) => window.boxoffice.page.label(window.boxoffice.page.index.get(id))).sort()`)
	if strings.Join(held, "|") != "Section B · Row 1 · Seat 3|Section B · Row 1 · Seat 4" {
		t.Fatalf("held %q", held)
	}
	fan.do("release", 10*time.Second, chromedp.Click(chromedp.ID("release-button")))
	fan.waitFor("the hold released", `document.getElementById('hold-card').hidden && !window.boxoffice.page.checkout.hold`, 10*time.Second)

	fan.do("best available: a wheelchair space for 2", 10*time.Second,
		chromedp.SetValue(chromedp.ID("best-count"), "2"),
		chromedp.Click(chromedp.ID("best-accessible")),
		chromedp.Click(chromedp.ID("best-button")))
	fan.waitFor("the accessible hold", `!document.getElementById('hold-card').hidden`, 10*time.Second)
	held = eval[[]string](fan, `window.boxoffice.page.checkout.hold.ticket_ids.map((id) => window.boxoffice.page.label(window.boxoffice.page.index.get(id))).sort()`)
	if strings.Join(held, "|") != "Section A · Row 2 · Seat 1 · wheelchair space|Section A · Row 2 · Seat 2 · companion seat" {
		t.Fatalf("accessible best available held %q", held)
	}
	fan.screenshot("keyboard-accessible-held")

	// The venue builder: wheelchair spaces in a section's last row, each
	// with a companion seat beside it.
	admin := newTab(t, browser, "builder", screenshotDir(t), true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in as admin", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")))
	admin.waitFor("the builder", `!!document.querySelector('#builder input[data-key="wheelchair"]')`, 10*time.Second)
	eval[bool](admin, `(() => { const f = document.querySelector('#builder input[data-key="wheelchair"]');
		f.value = '2'; f.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	admin.do("create a venue with wheelchair spaces", 10*time.Second,
		chromedp.SetValue(chromedp.ID("v-name"), "Sala Accesible"),
		chromedp.SetValue(chromedp.ID("v-city"), "Sevilla"),
		chromedp.SetValue(chromedp.ID("v-lat"), "37.39"),
		chromedp.SetValue(chromedp.ID("v-lon"), "-5.98"),
		chromedp.Click(chromedp.ID("venue-create")))
	admin.waitFor("the venue created", `!!document.getElementById('venue-result').dataset.venueId`, 10*time.Second)
	venueID := eval[string](admin, `document.getElementById('venue-result').dataset.venueId`)
	var venues struct {
		Venues []struct {
			Venue struct {
				VenueID string `json:"venue_id"`
				SeatMap struct {
					Sections []struct {
						Rows []struct {
							Wheelchair []int `json:"wheelchair"`
							Companion  []int `json:"companion"`
						} `json:"rows"`
					} `json:"sections"`
				} `json:"seat_map"`
			} `json:"venue"`
		} `json:"venues"`
	}
	n.call(t, "GET", "/admin/api/venues?limit=200", n.token(t, "admin@example.com", "admin"), nil, &venues)
	found := false
	for _, item := range venues.Venues {
		v := item.Venue
		if v.VenueID != venueID {
			continue
		}
		found = true
		rows := v.SeatMap.Sections[0].Rows
		last := rows[len(rows)-1]
		if fmt.Sprint(last.Wheelchair, last.Companion) != "[1 3] [2 4]" || len(rows[0].Wheelchair) != 0 {
			t.Fatalf("the builder's venue: last row wheelchair %v companion %v", last.Wheelchair, last.Companion)
		}
	}
	if !found {
		t.Fatalf("venue %s not listed", venueID)
	}
	for _, tb := range []*tab{fan, admin} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s: JavaScript errors: %v", tb.name, errs)
		}
	}
}
