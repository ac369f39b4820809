package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestReportInTheBrowser: in headless Chromium, an organiser picks its
// event on the dashboard and sees the sales report: the revenue, a bar per
// section and per time bucket drawn as SVG with the report's figures (and
// an accessible label), the ticket types, and the check-ins (the ticket
// was scanned in at gate North, offline two days ago: a bucket of
// check-ins only, left out of the sales chart) by section beside the valid
// tickets, over time and by gate; switching to hourly buckets re-reads it,
// and the CSV export downloads with the organiser's token.
func TestReportInTheBrowser(t *testing.T) {
	n := startTestNode(t)
	a := buildOrg(t, n, "alpha", true) // one ticket of section A sold, 10.00
	var tk struct {
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+a.booking+"/tickets", a.bookingToken, nil, &tk); code != http.StatusOK || len(tk.Tickets) != 1 {
		t.Fatalf("tickets: %d %+v", code, tk)
	}
	door := scannerToken(t, n, "door@alpha.example", a.event)
	if code, r := scan(t, n, door, map[string]any{"code": tk.Tickets[0].Code, "gate": "North",
		"scanned_at": time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)}); code != http.StatusOK {
		t.Fatalf("check-in: %d %+v", code, r.Error)
	}

	shots := screenshotDir(t)
	browser := startBrowser(t)
	org := newTab(t, browser, "organiser", shots, true)
	org.do("open the event's dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/?event="+a.event))
	org.do("sign in as A's organiser", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "desk@alpha.example"),
		chromedp.SetValue(chromedp.ID("signin-org"), a.org.String()),
		chromedp.Click(chromedp.ID("signin-button")))
	loaded := fmt.Sprintf(`(() => { const c = document.getElementById('report-card');
		return !c.hidden && c.dataset.loaded === 'true' && c.dataset.eventId === %q; })()`, a.event)
	org.waitFor("the report", loaded, 20*time.Second)
	for _, q := range []string{
		`document.getElementById('rp-revenue').dataset.minor === '1000'`,
		`document.querySelectorAll('#chart-sections rect[data-group]').length === 2`,
		`!!document.querySelector('#chart-sections rect[data-group="A"][data-series="sold"][data-value="1000"]')`,
		`!!document.querySelector('#chart-sections rect[data-group="A"][data-series="refunded"][data-value="0"]')`,
		`document.getElementById('chart-sections').getAttribute('aria-label').includes('A ')`,
		`[...document.querySelectorAll('#chart-time rect[data-series="sold"]')].reduce((s, r) => s + Number(r.dataset.value), 0) === 1`,
		`document.getElementById('report-types').tBodies[0].rows.length === 1 && document.getElementById('report-types').tBodies[0].rows[0].cells[0].textContent === 'standard'`,
		`document.getElementById('rp-checkins').textContent.trim() === '1 / 1'`,
		`document.querySelectorAll('#chart-time rect[data-series="sold"]').length === 1`,
		`!!document.querySelector('#chart-checkin-sections rect[data-group="A"][data-series="check_ins"][data-value="1"]')`,
		`!!document.querySelector('#chart-checkin-sections rect[data-group="A"][data-series="valid"][data-value="1"]')`,
		`document.getElementById('chart-checkin-sections').getAttribute('aria-label').includes('A 1 of 1 checked in')`,
		`[...document.querySelectorAll('#chart-checkin-time rect[data-series="check_ins"]')].map((r) => r.dataset.value).join() === '1'`,
		`document.getElementById('report-gates').textContent.includes('North 1')`,
	} {
		if !eval[bool](org, q) {
			t.Errorf("report card: false: %s", q)
		}
	}
	eval[bool](org, `(document.getElementById('report-bucket').value = 'hour',
		document.getElementById('report-bucket').dispatchEvent(new Event('change')), true)`)
	org.waitFor("the hourly report", loaded+` && document.getElementById('chart-time').getAttribute('aria-label').includes('per hour')`, 20*time.Second)
	org.do("download the CSV", 10*time.Second, chromedp.Click(chromedp.ID("report-csv")))
	org.waitFor("the export", `document.getElementById('report-card').dataset.exported === 'true'`, 20*time.Second)
	org.screenshot("report")
	if errs := org.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
