package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// TestOrganiserDashboardInTheBrowser: in headless Chromium, an organiser
// of A signs in to the admin dashboard and sees A's events, venues and
// performers and nothing of B's, no cluster cards, picks venues from a
// list instead of pasting ids, and edits a venue and an event from the
// lists; an admin sees both organisations.
func TestOrganiserDashboardInTheBrowser(t *testing.T) {
	n := startTestNode(t)
	a, b := buildOrg(t, n, "alpha", false), buildOrg(t, n, "beta", false)

	shots := screenshotDir(t)
	browser := startBrowser(t)
	org := newTab(t, browser, "organiser", shots, true)
	org.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	org.do("sign in as A's organiser", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "desk@alpha.example"),
		chromedp.SetValue(chromedp.ID("signin-org"), a.org.String()),
		chromedp.Click(chromedp.ID("signin-button")))
	org.waitFor("the organiser's dashboard", `document.body.dataset.ready === 'true' && document.body.dataset.role === 'organiser'`, 20*time.Second)
	row := func(list, id string) string { return fmt.Sprintf(`#%s tr[data-id=%q]`, list, id) }
	has := func(list, id string) string { return fmt.Sprintf(`!!document.querySelector('%s')`, row(list, id)) }
	org.waitFor("A's event, venue and performer listed", has("events-list", a.event)+" && "+has("venues-list", a.venue)+" && "+has("performers-list", a.performer), 10*time.Second)
	for _, q := range []string{has("events-list", b.event), has("venues-list", b.venue), has("performers-list", b.performer),
		`document.body.innerText.includes('beta')`,
		fmt.Sprintf(`[...document.querySelectorAll('#venue-options option')].some((o) => o.value === %q)`, b.venue)} {
		if eval[bool](org, q) {
			t.Errorf("the organiser of A sees B's: %s", q)
		}
	}
	if !eval[bool](org, `document.getElementById('cluster-cards').hidden && document.getElementById('chart-cards').hidden`) {
		t.Error("the organiser sees the node-wide cluster and metrics cards")
	}
	if !eval[bool](org, fmt.Sprintf(`[...document.querySelectorAll('#venue-options option')].some((o) => o.value === %q)`, a.venue)) {
		t.Error("the event form does not offer A's venue")
	}

	// The lists redraw while polled: click in one script, not by node id.
	click := func(sel string) { eval[bool](org, fmt.Sprintf(`(document.querySelector('%s').click(), true)`, sel)) }
	click(row("venues-list", a.venue) + " button.edit")
	org.waitFor("the edit form", `!document.getElementById('edit-card').hidden && !!document.getElementById('edit-city')`, 5*time.Second)
	org.do("move the venue", 10*time.Second,
		chromedp.SetValue(chromedp.ID("edit-city"), "Harrogate"),
		chromedp.Click(chromedp.ID("edit-save")))
	org.waitFor("the list shows the new city", fmt.Sprintf(`document.querySelector('%s').textContent.includes('Harrogate')`, row("venues-list", a.venue)), 10*time.Second)
	click(row("events-list", a.event) + " button.edit")
	org.waitFor("the event edit form", `!document.getElementById('edit-card').hidden && !!document.getElementById('edit-description')`, 5*time.Second)
	org.do("rename the event", 10*time.Second,
		chromedp.SetValue(chromedp.ID("edit-name"), "alpha Live (moved)"),
		chromedp.Click(chromedp.ID("edit-save")))
	org.waitFor("the list shows the new name", fmt.Sprintf(`document.querySelector('%s').textContent.includes('alpha Live (moved)')`, row("events-list", a.event)), 10*time.Second)
	org.screenshot("organiser")
	ctx := context.Background()
	if v, err := n.db.Venue(ctx, uuid.MustParse(a.venue)); err != nil || v.City != "Harrogate" {
		t.Errorf("venue after the edit: %+v, %v", v, err)
	}
	if e, err := n.db.Event(ctx, uuid.MustParse(a.event)); err != nil || e.Name != "alpha Live (moved)" {
		t.Errorf("event after the edit: %q, %v", e.Name, err)
	}

	admin := newTab(t, browser, "admin", shots, true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in as admin", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")))
	admin.waitFor("both organisations' events", `document.body.dataset.role === 'admin' && `+has("events-list", a.event)+" && "+has("events-list", b.event), 20*time.Second)
	for _, tb := range []*tab{org, admin} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s page errors: %v", tb.name, errs)
		}
	}
}
