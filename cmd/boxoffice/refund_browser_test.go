package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestRefundAndCancelInTheBrowser: in headless Chromium, "Refund" in My
// bookings (two clicks) refunds the buyer's booking; on the admin
// dashboard an admin refunds another booking by its id, then "Cancel
// event" (two clicks) cancels the event, and the progress beside it
// reaches every booking refunded.
func TestRefundAndCancelInTheBrowser(t *testing.T) {
	n := startTestNode(t)
	ev := createCheckEvent(t, n)
	seats := n.ticketIDs(t, uuid.MustParse(ev))
	buy := func(email, seat string) string {
		t.Helper()
		tok := n.token(t, email)
		var held struct {
			BookingID string `json:"booking_id"`
		}
		if code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": []string{seat}}, &held); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
		if status, code := n.confirmWithKey(t, tok, "", held.BookingID); status != http.StatusOK {
			t.Fatalf("confirm: %d %s", status, code)
		}
		return held.BookingID
	}
	carols, daves, erins := buy("carol@example.com", seats[10]), buy("dave@example.com", seats[11]), buy("erin@example.com", seats[12])
	status := func(id string) boxoffice.BookingStatus {
		b, err := n.db.Booking(context.Background(), uuid.MustParse(id))
		if err != nil {
			t.Fatal(err)
		}
		return b.Status
	}

	shots := screenshotDir(t)
	browser := startBrowser(t)
	carol := newTab(t, browser, "carol", shots, true)
	carol.do("open the page", 20*time.Second, chromedp.Navigate(n.URL+"/"))
	carol.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "carol@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Carol"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	carol.do("open my bookings", 10*time.Second, chromedp.Click(chromedp.ID("bookings-button")))
	row := `#bookings-list tr[data-booking-id="` + carols + `"]`
	carol.waitFor("the confirmed booking", `!!document.querySelector('`+row+`[data-status="confirmed"] button.refund')`, 10*time.Second)
	carol.do("refund it", 10*time.Second, chromedp.Click(chromedp.CSS(row+` button.refund`)))
	carol.waitFor("the refund asks again", `document.querySelector('`+row+` button.refund').dataset.armed === 'true'`, 5*time.Second)
	carol.do("confirm the refund", 10*time.Second, chromedp.Click(chromedp.CSS(row+` button.refund`)))
	carol.waitFor("the booking shows refunded", `!!document.querySelector('`+row+`[data-status="refunded"]')`, 20*time.Second)
	carol.screenshot("refunded")
	if s := status(carols); s != boxoffice.BookingRefunded {
		t.Fatalf("carol's booking is %s, want refunded", s)
	}

	admin := newTab(t, browser, "admin", shots, true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/?event="+ev))
	admin.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("event-card")))
	admin.waitFor("the event's refunds", `document.getElementById('ev-refunds').dataset.total === '1'`, 20*time.Second)
	admin.do("refund dave's booking", 10*time.Second,
		chromedp.SetValue(chromedp.ID("refund-booking"), daves),
		chromedp.Click(chromedp.ID("refund-submit")))
	admin.waitFor("two refunds done", `document.getElementById('ev-refunds').dataset.done === '2'`, 20*time.Second)
	admin.do("cancel the event", 10*time.Second, chromedp.Click(chromedp.ID("cancel-event")))
	admin.waitFor("the cancel asks again", `document.getElementById('cancel-event').dataset.armed !== ''`, 5*time.Second)
	admin.do("confirm the cancel", 10*time.Second, chromedp.Click(chromedp.ID("cancel-event")))
	admin.waitFor("every booking refunded", `(() => { const d = document.getElementById('ev-refunds').dataset; return d.done === '3' && d.total === '3'; })()`, 30*time.Second)
	admin.screenshot("cancelled")
	for _, id := range []string{daves, erins} {
		if s := status(id); s != boxoffice.BookingRefunded {
			t.Errorf("booking %s is %s, want refunded", id, s)
		}
	}
	for _, tb := range []*tab{carol, admin} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s page errors: %v", tb.name, errs)
		}
	}
}
