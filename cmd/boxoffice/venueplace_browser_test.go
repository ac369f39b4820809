package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestVenueBuilderPlacesBlocks: in headless Chromium, an admin turns on
// "Place the blocks" in the venue builder, turns section B by 90° to the
// left of the stage, sees its seats drawn there in the preview (and not
// where it stood unturned), and creates the venue: the stored seat map
// carries every block's placement.
func TestVenueBuilderPlacesBlocks(t *testing.T) {
	n := startTestNode(t)
	browser := startBrowser(t)
	admin := newTab(t, browser, "admin", screenshotDir(t), true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in as admin", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")))
	admin.waitFor("the dashboard", `document.body.dataset.ready === 'true'`, 20*time.Second)
	admin.do("name the venue", 10*time.Second,
		chromedp.SetValue(chromedp.ID("v-name"), "Arena Colocada"),
		chromedp.SetValue(chromedp.ID("v-city"), "Sevilla"),
		chromedp.SetValue(chromedp.ID("v-lat"), "37.38"),
		chromedp.SetValue(chromedp.ID("v-lon"), "-5.98"),
		chromedp.ScrollIntoView(chromedp.ID("place-blocks")),
		chromedp.Click(chromedp.ID("place-blocks")))
	// The builder starts with A 10x20, B 15x25 and C 20x30: 1,175 seats.
	admin.waitFor("the placement rows and every seat in the preview",
		`document.querySelectorAll('#placement tbody tr').length === 3 && document.getElementById('placement-preview').dataset.seats === '1175'`, 10*time.Second)
	set := func(id, v string) {
		t.Helper()
		eval[bool](admin, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, id, v))
	}
	set("place-1-x", "-40")
	set("place-1-y", "0")
	set("place-1-angle", "90")
	// B's first row now runs down the stage's left at x -40, y -12..12;
	// unturned it would run along y 0 from x -52 to -28.
	type px struct{ R, G, B, A int }
	pixel := func(x, y float64) px {
		t.Helper()
		return eval[px](admin, fmt.Sprintf(`(() => { const p = window.boxofficeAdmin.catalog.placer, c = document.getElementById('placement-preview');
			const q = p.toScreen(%g, %g), d = window.devicePixelRatio || 1;
			const [r, g, b, a] = c.getContext('2d').getImageData(Math.floor(q.x * d), Math.floor(q.y * d), 1, 1).data;
			return {r, g, b, a}; })()`, x, y))
	}
	blue := func(p px) bool { return p.A > 200 && p.B > 180 && p.R < 90 } // B's price tier, #1f6feb
	for _, q := range [][2]float64{{-40, -12}, {-40, 12}, {-54, 0}} {
		if p := pixel(q[0], q[1]); !blue(p) {
			t.Errorf("preview at (%g,%g): %+v, want B's seat", q[0], q[1], p)
		}
	}
	if p := pixel(-30, 0); p.A != 0 {
		t.Errorf("preview at (-30,0), where unturned B would be: %+v, want nothing", p)
	}
	admin.do("show the preview", 5*time.Second, chromedp.ScrollIntoView(chromedp.ID("placement-preview")))
	admin.screenshot("venue-builder-placed")
	admin.do("create the venue", 10*time.Second, chromedp.Click(chromedp.ID("venue-create")))
	admin.waitFor("the venue created", `!!document.getElementById('venue-result').dataset.venueId`, 10*time.Second)
	id := eval[string](admin, `document.getElementById('venue-result').dataset.venueId`)
	v, err := n.db.Venue(context.Background(), uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.SeatMap.Sections) != 3 || v.SeatMap.Capacity() != 1175 {
		t.Fatalf("stored seat map %+v", v.SeatMap)
	}
	for k, s := range v.SeatMap.Sections {
		if s.Place == nil {
			t.Fatalf("section %s stored without its placement", s.Name)
		}
		if k == 1 && *s.Place != (boxoffice.Placement{X: -40, Y: 0, Angle: 90}) {
			t.Errorf("section B stored at %+v, want x -40, y 0, angle 90", *s.Place)
		}
	}
	if errs := admin.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
