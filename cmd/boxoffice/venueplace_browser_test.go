package main

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestVenueBuilderPlacesBlocks: in headless Chromium, an admin turns on
// "Place the blocks" in the venue builder, turns section B by 90° to the
// left of the stage, sees its seats drawn there in the preview (and not
// where it stood unturned), drags section C down the preview, and creates
// the venue: the stored seat map carries every block's placement.
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
	// Drag C (placed right of the others at y 5) 60 px down the preview.
	admin.do("show the preview", 5*time.Second, chromedp.ScrollIntoView(chromedp.ID("placement-preview")))
	type pt struct{ X, Y, S float64 }
	from := eval[pt](admin, `(() => { const p = window.boxofficeAdmin.catalog.placer, c = document.getElementById('placement-preview').getBoundingClientRect();
		const s = window.boxofficeAdmin.catalog.sections[2], q = p.toScreen(s.place.x + 0.5, s.place.y);
		return {x: c.left + q.x, y: c.top + q.y, s: p.view.s}; })()`)
	y0 := eval[float64](admin, `Number(document.getElementById('place-2-y').value)`)
	mouse := func(typ input.DispatchMouseEventType, x, y float64, buttons int64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(admin.ctx, 5*time.Second)
		defer cancel()
		if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: typ, X: x, Y: y,
			Button: input.MouseButtonLeft, Buttons: buttons, ClickCount: 1}); err != nil {
			admin.fail("drag block C", err)
		}
	}
	mouse(input.DispatchMouseEventTypeMousePressed, from.X, from.Y, 1)
	for step := 1; step <= 6; step++ {
		mouse(input.DispatchMouseEventTypeMouseMoved, from.X, from.Y+float64(step)*10, 1)
	}
	mouse(input.DispatchMouseEventTypeMouseReleased, from.X, from.Y+60, 0)
	wantY := y0 + math.Round(60/from.S*2)/2
	admin.waitFor("C's y input follows the drag", fmt.Sprintf(`Math.abs(Number(document.getElementById('place-2-y').value) - %g) <= 0.5`, wantY), 5*time.Second)
	draggedY := eval[float64](admin, `Number(document.getElementById('place-2-y').value)`)
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
		if k == 2 && s.Place.Y != draggedY {
			t.Errorf("section C stored at y %g, want %g where it was dragged", s.Place.Y, draggedY)
		}
	}
	if errs := admin.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
