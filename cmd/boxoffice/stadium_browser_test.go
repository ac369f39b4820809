package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// checkStadiumOnPhone opens the stadium's page in a phone-sized tab
// (390 x 844 CSS pixels, touch): the page fits the width, the seat map
// starts on the first screen, two
// fingers pinch it larger, and a tap on a free seat selects it.
func checkStadiumOnPhone(t *testing.T, n *testNode, browser context.Context, eventID string) {
	t.Helper()
	tb := newTab(t, browser, "phone", screenshotDir(t), false)
	tb.do("phone viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.do("open the stadium on the phone", 60*time.Second, chromedp.Navigate(n.URL+"/events/"+eventID))
	tb.waitFor("phone: the live seat map", `document.body.dataset.live === 'true'`, 60*time.Second)
	type box struct{ Left, Top, Width, Height, ViewW, ViewH, Scale float64 }
	canvas := func() box {
		return eval[box](tb, `(() => { const r = window.boxoffice.page.map.canvas.getBoundingClientRect();
			return {left: r.left, top: r.top, width: r.width, height: r.height, viewW: innerWidth, viewH: innerHeight,
				scale: window.boxoffice.page.map.view.s}; })()`)
	}
	c := canvas()
	if c.ViewW != 390 || c.Width < 300 || c.Left < 0 || c.Left+c.Width > c.ViewW || c.Height < 300 || c.Top > c.ViewH-150 {
		t.Fatalf("phone: seat map at %+v; want the page 390 px wide, the map at least 300 x 300 px within it, its top 150 px on the first screen", c)
	}
	// Scroll the map fully into view, as a visitor would, before touching it.
	eval[bool](tb, `(window.boxoffice.page.map.canvas.scrollIntoView({block: 'center'}), true)`)
	c = canvas()
	touch := func(what string, typ input.DispatchTouchEventType, pts ...[2]float64) {
		t.Helper()
		ps := make([]*input.TouchPoint, len(pts))
		for i, p := range pts {
			id := float64(i + 1)
			ps[i] = &input.TouchPoint{X: p[0], Y: p[1], ID: &id}
		}
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		defer cancel()
		if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: ps}); err != nil {
			tb.fail(what, err)
		}
	}
	mx, my := c.Left+c.Width/2, c.Top+c.Height/2
	touch("pinch: two fingers down", input.DispatchTouchEventTypeTouchStart, [2]float64{mx - 20, my}, [2]float64{mx + 20, my})
	for step := 1; step <= 5; step++ {
		d := 20 + float64(step)*16
		touch("pinch: spread", input.DispatchTouchEventTypeTouchMove, [2]float64{mx - d, my}, [2]float64{mx + d, my})
	}
	touch("pinch: fingers up", input.DispatchTouchEventTypeTouchEnd)
	if after := canvas(); after.Scale < c.Scale*2 {
		t.Fatalf("phone: pinching the fingers 40 to 200 px apart zoomed the map from %.3f to %.3f, want at least twice", c.Scale, after.Scale)
	}
	// A free seat on screen, away from the canvas edges.
	type point struct {
		I    int
		X, Y float64
	}
	p := eval[point](tb, `(() => { const m = window.boxoffice.page.map, r = m.canvas.getBoundingClientRect();
		for (let i = 0; i < m.status.length; i += 7) {
			if (m.status[i] !== 0) continue;
			const q = m.seatPoint(i);
			if (q.x > r.left + 20 && q.x < r.right - 20 && q.y > r.top + 20 && q.y < r.bottom - 20 && q.y < innerHeight - 20 && m.seatAt(q.x, q.y) === i)
				return {i, x: q.x, y: q.y};
		}
		return {i: -1, x: 0, y: 0}; })()`)
	if p.I < 0 {
		t.Fatal("phone: no free seat on screen after the pinch")
	}
	touch("tap a seat", input.DispatchTouchEventTypeTouchStart, [2]float64{p.X, p.Y})
	touch("tap a seat: lift", input.DispatchTouchEventTypeTouchEnd)
	tb.waitFor("phone: the tapped seat is selected", fmt.Sprintf(`window.boxoffice.page.selection.has(%d)`, p.I), 10*time.Second)
	tb.screenshot("stadium-phone")
	if errs := tb.pageErrors(); len(errs) > 0 {
		t.Errorf("phone: page errors: %v", errs)
	}
}

// TestStadiumPageTimings measures the stadium's page in headless Chromium
// (not a test of the times: it logs them): from navigation to the first
// drawn seat map and to live, on a first visit (empty browser cache) and
// with the layout cached, over BOXOFFICE_SEATPAGE_ROUNDS rounds (skipped
// when unset; `make bench-seatpage`). The event is activated on the node
// first, except for the one cold visit logged before the rounds.
func TestStadiumPageTimings(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("BOXOFFICE_SEATPAGE_ROUNDS"))
	if rounds <= 0 {
		t.Skip("set BOXOFFICE_SEATPAGE_ROUNDS to measure the stadium page")
	}
	n := startSeededNode(t)
	eventID := stadiumEventID()
	browser := startBrowser(t)
	tb := newTab(t, browser, "visitor", screenshotDir(t), false)
	type timings struct {
		Start, Fetch, Layout, Map, Live float64
	}
	visit := func(what string, clearCache bool) timings {
		t.Helper()
		if clearCache {
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			defer cancel()
			if _, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
				t.Fatalf("clear the browser cache: %v", err)
			}
		}
		tb.do(what, 30*time.Second, chromedp.Navigate(n.URL+"/events/"+eventID))
		tb.waitFor(what+": live", `document.body.dataset.live === 'true' && window.boxoffice.page?.timings?.live_ms !== undefined`, 30*time.Second)
		v := eval[timings](tb, `(() => { const x = window.boxoffice.page.timings;
			return {start: x.start, fetch: x.fetch_ms, layout: x.layout_ms, map: x.map_ms, live: x.live_ms}; })()`)
		tb.do("leave", 20*time.Second, chromedp.Navigate(n.URL+"/"))
		return v
	}
	// From navigation: the page's load starts at start (ms after the
	// navigation began); the map is drawn fetch + map later and live
	// after live.
	report := func(what string, vs []timings) {
		t.Helper()
		med := func(f func(timings) float64) float64 {
			xs := make([]float64, len(vs))
			for i, v := range vs {
				xs[i] = f(v)
			}
			slices.Sort(xs)
			return xs[len(xs)/2]
		}
		t.Logf("%s (median of %d): navigation -> map drawn %.0f ms, -> live %.0f ms (script start %.0f, fetch %.0f of which layout %.0f, map %.0f)",
			what, len(vs), med(func(v timings) float64 { return v.Start + v.Fetch + v.Map }), med(func(v timings) float64 { return v.Start + v.Live }),
			med(func(v timings) float64 { return v.Start }), med(func(v timings) float64 { return v.Fetch }),
			med(func(v timings) float64 { return v.Layout }), med(func(v timings) float64 { return v.Map }))
	}
	report("first visit, event not yet active on the node", []timings{visit("cold visit", true)})
	if code := n.call(t, http.MethodGet, "/events/"+eventID+"/availability", "", nil, nil); code != http.StatusOK {
		t.Fatalf("availability: %d", code)
	}
	var first, cached []timings
	for r := range rounds {
		first = append(first, visit(fmt.Sprintf("round %d, first visit", r), true))
		cached = append(cached, visit(fmt.Sprintf("round %d, layout cached", r), false))
	}
	report("first visit (empty browser cache)", first)
	report("layout from the browser's cache", cached)
}
