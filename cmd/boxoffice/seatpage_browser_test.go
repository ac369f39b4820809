package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSeatPageLayoutCached opens the stadium's page twice in one browser:
// the second visit draws the map from the layout in the browser's cache
// (the node serves GET /events/{id}/layout once), from the availability and
// the compact WebSocket, as the first did. Then it opens the page on a
// phone-sized screen (checkStadiumOnPhone).
func TestSeatPageLayoutCached(t *testing.T) {
	n := startSeededNode(t)
	eventID := stadiumEventID()
	browser := startBrowser(t)
	tb := newTab(t, browser, "visitor", screenshotDir(t), false)

	visit := func(what string) {
		t.Helper()
		tb.do(what, 20*time.Second, chromedp.Navigate(n.URL+"/events/"+eventID))
		tb.waitFor(what+": the live seat map", `document.body.dataset.live === 'true' && window.boxoffice.page?.timings?.live_ms !== undefined`, 20*time.Second)
		if got := eval[int](tb, `window.boxoffice.page.tickets.length`); got != 50000 {
			t.Fatalf("%s: %d seats, want 50000", what, got)
		}
		if !eval[bool](tb, `window.boxoffice.page.feed.compact`) {
			t.Fatalf("%s: the page does not use the compact stream", what)
		}
		t.Logf("%s, in ms: %s", what, eval[string](tb, `JSON.stringify(window.boxoffice.page.timings, (k, v) => k === 'start' ? undefined : v)`))
	}
	visit("first visit")
	tb.screenshot("stadium-seat-map")
	if got := routeRequests(t, n, "GET /events/{eventId}/layout"); got != 1 {
		t.Fatalf("first visit: %d layout requests, want 1", got)
	}
	tb.do("leave the page", 20*time.Second, chromedp.Navigate(n.URL+"/"))
	visit("second visit")
	if got := routeRequests(t, n, "GET /events/{eventId}/layout"); got != 1 {
		t.Errorf("second visit: %d layout requests in all, want still 1 (from the browser's cache)", got)
	}
	if got := routeRequests(t, n, "GET /events/{eventId}/availability"); got != 2 {
		t.Errorf("%d availability requests, want 2", got)
	}
	if errs := tb.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
	checkStadiumOnPhone(t, n, browser, eventID)
}

// routeRequests sums the node's boxoffice_http_requests_total for route.
func routeRequests(t *testing.T, n *testNode, route string) int {
	t.Helper()
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "boxoffice_http_requests_total{") || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += int(v)
	}
	return sum
}
