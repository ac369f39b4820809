package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStandingSeatPage buys standing places on the seat page in headless
// Chromium: the standing area shows its places left, live as someone else
// holds some through the API; a quantity is held and paid for; the area
// then shows none left.
func TestStandingSeatPage(t *testing.T) {
	n := startTestNode(t)
	ev := createStandingEvent(t, n, 5)
	browser := startBrowser(t)
	fan := newTab(t, browser, "fan", screenshotDir(t), false)
	left := `document.querySelector('#standing li[data-section="Floor"] .left')?.textContent`

	fan.do("open the event", 20*time.Second, chromedp.Navigate(n.URL+"/events/"+ev))
	fan.waitFor("the live seat map", `document.body.dataset.live === 'true' && !!window.boxoffice.page?.map`, 20*time.Second)
	fan.waitFor("the floor with 5 places left", left+` === '5 left'`, 5*time.Second)
	other := n.token(t, "other@example.com")
	if code := n.call(t, http.MethodPost, "/booking/reserve", other,
		map[string]any{"event_id": ev, "standing": []any{map[string]any{"section": "Floor", "quantity": 2}}}, nil); code != http.StatusCreated {
		t.Fatalf("someone else's reserve: %d", code)
	}
	fan.waitFor("the floor with 3 places left, live", left+` === '3 left'`, 10*time.Second)
	fan.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "fan@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Fan"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	eval[bool](fan, `(() => {
		const q = document.querySelector('#standing li[data-section="Floor"] input');
		q.value = '3';
		q.dispatchEvent(new Event('input', { bubbles: true }));
		return true;
	})()`)
	fan.waitFor("3 places in the selection", `/3 seats/.test(document.getElementById('selection-total').textContent) && !document.getElementById('hold-button').disabled`, 5*time.Second)
	fan.screenshot("standing-selected")
	fan.do("hold them", 10*time.Second, chromedp.Click(chromedp.ID("hold-button")))
	fan.waitFor("the hold of 3 places", `!document.getElementById('hold-card').hidden && document.querySelectorAll('#hold-seats li').length === 3`, 10*time.Second)
	fan.waitFor("no place left", left+` === '0 left'`, 10*time.Second)
	fan.do("pay with the test Visa", 10*time.Second,
		chromedp.SetValue(chromedp.ID("card-token"), "tok_visa"),
		chromedp.Click(chromedp.ID("pay-button")))
	fan.waitFor("the confirmation", `!document.getElementById('confirm-card').hidden`, 10*time.Second)
	fan.screenshot("standing-confirmed")
	if errs := fan.pageErrors(); len(errs) > 0 {
		t.Errorf("JavaScript errors: %v", errs)
	}
}
