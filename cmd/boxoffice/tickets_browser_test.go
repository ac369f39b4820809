package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMyBookingsShowsTickets: in headless Chromium, "My bookings" shows a
// confirmed booking's tickets, each with its QR image (drawn by the node at
// .../qr.png and fetched with the session's token) and the code of
// GET /booking/{id}/tickets.
func TestMyBookingsShowsTickets(t *testing.T) {
	n := startSeededNode(t)
	ev := stadiumEventID()
	carol := n.token(t, "carol@example.com")
	var seats struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	var held struct {
		BookingID string `json:"booking_id"`
	}
	ids := []string{seats.Tickets[700].TicketID, seats.Tickets[701].TicketID}
	if code := n.call(t, http.MethodPost, "/booking/reserve", carol, map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	if status, code := n.confirmWithKey(t, carol, "tickets-web", held.BookingID); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, code)
	}
	var want struct {
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+held.BookingID+"/tickets", carol, nil, &want); code != http.StatusOK {
		t.Fatalf("GET tickets: %d", code)
	}

	shots := screenshotDir(t)
	tab := newTab(t, startBrowser(t), "carol", shots, true)
	tab.do("open the page", 20*time.Second, chromedp.Navigate(n.URL+"/"))
	tab.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "carol@example.com"),
		chromedp.SetValue(chromedp.ID("signin-name"), "Carol"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	tab.do("open my bookings", 10*time.Second, chromedp.Click(chromedp.ID("bookings-button")))
	row := `#bookings-list tr[data-booking-id="` + held.BookingID + `"][data-status="confirmed"]`
	tab.waitFor("the confirmed booking", `!!document.querySelector('`+row+`')`, 10*time.Second)
	tab.do("show its tickets", 10*time.Second, chromedp.Click(chromedp.CSS(row+` button`)))
	tab.waitFor("two tickets with loaded QR images",
		`[...document.querySelectorAll('.tickets-row figure.ticket img')].filter((i) => i.complete && i.naturalWidth > 0).length === 2`, 10*time.Second)
	tab.screenshot("tickets")
	codes := eval[[]string](tab, `[...document.querySelectorAll('.tickets-row figure.ticket')].map((f) => f.dataset.code)`)
	if len(codes) != 2 || codes[0] != want.Tickets[0].Code || codes[1] != want.Tickets[1].Code {
		t.Errorf("page codes %q, want %+v", codes, want.Tickets)
	}
	if errs := tab.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
