package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

type layoutReply struct {
	EventID    uuid.UUID `json:"event_id"`
	Seats      int       `json:"seats"`
	Currency   string    `json:"currency"`
	Categories []struct {
		Category int    `json:"category"`
		Price    string `json:"price"`
	} `json:"categories"`
	Sections []struct {
		Name     string `json:"name"`
		Category int    `json:"category"`
		Rows     []struct {
			Name  string `json:"name"`
			First int    `json:"first"`
			Seats int    `json:"seats"`
		} `json:"rows"`
	} `json:"sections"`
	TicketIDs []uuid.UUID `json:"ticket_ids"`
	X         []int       `json:"x"`
	Y         []int       `json:"y"`
}

type availabilityReply struct {
	Version  uint64 `json:"version"`
	Encoding string `json:"encoding"`
	Seats    int    `json:"seats"`
	Layout   string `json:"layout"`
	Data     string `json:"data"`
}

type eventTickets struct {
	Tickets []struct {
		TicketID uuid.UUID `json:"ticket_id"`
		Section  string    `json:"section"`
		Row      string    `json:"row"`
		Seat     int       `json:"seat"`
		Price    string    `json:"price"`
		Status   string    `json:"status"`
	} `json:"tickets"`
	Version uint64 `json:"version"`
}

// statuses unpacks an availability reply.
func (a availabilityReply) statuses(t testing.TB) []boxoffice.SeatStatus {
	t.Helper()
	if a.Encoding != api.SeatEncoding {
		t.Fatalf("encoding %q", a.Encoding)
	}
	raw, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil {
		t.Fatalf("data: %v", err)
	}
	st, ok := api.UnpackSeats(raw, a.Seats)
	if !ok {
		t.Fatalf("%d bytes for %d seats", len(raw), a.Seats)
	}
	return st
}

func noViewCache(cfg *api.Config, _ *api.Deps) { cfg.EventViewMaxAge = 0 }

// TestLayoutAndAvailabilityMatchEventView checks that layout plus
// availability say what GET /events/{eventId} says, seat by seat.
func TestLayoutAndAvailabilityMatchEventView(t *testing.T) {
	h := newHarness(t, noViewCache)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[7], tickets[12])
	b := h.reserve(ada, event, tickets[3])
	mustStatus(t, h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(ada)...), http.StatusOK)

	var lay layoutReply
	lr := h.do("GET", "/events/"+event.String()+"/layout", nil)
	mustStatus(t, lr, http.StatusOK)
	lr.decode(t, &lay)
	var av availabilityReply
	ar := h.do("GET", "/events/"+event.String()+"/availability", nil)
	mustStatus(t, ar, http.StatusOK)
	ar.decode(t, &av)
	var ev eventTickets
	er := h.do("GET", "/events/"+event.String(), nil)
	mustStatus(t, er, http.StatusOK)
	er.decode(t, &ev)

	if av.Version != ev.Version || av.Seats != len(ev.Tickets) || lay.Seats != len(ev.Tickets) || len(lay.TicketIDs) != lay.Seats ||
		len(lay.X) != lay.Seats || len(lay.Y) != lay.Seats || lay.EventID != event || lay.Currency != "EUR" {
		t.Fatalf("availability v%d/%d seats, layout %d seats, event v%d/%d tickets", av.Version, av.Seats, lay.Seats, ev.Version, len(ev.Tickets))
	}
	if av.Layout != lr.header.Get("Content-Location") {
		t.Errorf("availability names layout %q, layout says %q", av.Layout, lr.header.Get("Content-Location"))
	}
	st := av.statuses(t)
	for _, s := range lay.Sections {
		for _, r := range s.Rows {
			for k := range r.Seats {
				i := r.First + k
				want := ev.Tickets[i]
				if lay.TicketIDs[i] != want.TicketID || s.Name != want.Section || r.Name != want.Row || k+1 != want.Seat ||
					lay.Categories[s.Category].Price != want.Price || st[i].String() != want.Status {
					t.Errorf("seat %d: layout %s %s/%s/%d %s %s, event %+v", i, lay.TicketIDs[i], s.Name, r.Name, k+1,
						lay.Categories[s.Category].Price, st[i], want)
				}
			}
		}
	}
	if st[7] != boxoffice.SeatReserved || st[3] != boxoffice.SeatBooked || st[0] != boxoffice.SeatAvailable {
		t.Errorf("statuses %v", st)
	}

	// The page's light event view: the same, without tickets.
	var head eventTickets
	hr := h.do("GET", "/events/"+event.String()+"?tickets=false", nil)
	mustStatus(t, hr, http.StatusOK)
	hr.decode(t, &head)
	if len(head.Tickets) != 0 || head.Version != ev.Version {
		t.Errorf("tickets=false: %d tickets at version %d, want none at %d", len(head.Tickets), head.Version, ev.Version)
	}
	r := h.do("GET", "/events/"+event.String()+"?tickets=maybe", nil)
	wantError(t, r, http.StatusBadRequest, "invalid_argument")
	if r.errorField() != "tickets" {
		t.Errorf("details.field %q", r.errorField())
	}
}

// TestLayoutCaching checks the layout's ETag, 304, the immutable versioned
// URL and the redirect from an outdated version.
func TestLayoutCaching(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	base := "/events/" + event.String() + "/layout"
	first := h.do("GET", base, nil)
	mustStatus(t, first, http.StatusOK)
	etag, loc := first.header.Get("ETag"), first.header.Get("Content-Location")
	if etag == "" || loc == "" || first.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", first.header)
	}
	versioned := h.do("GET", loc, nil)
	mustStatus(t, versioned, http.StatusOK)
	if got := versioned.header.Get("Cache-Control"); got != "public, max-age=86400, immutable" {
		t.Errorf("Cache-Control %q", got)
	}
	if versioned.header.Get("ETag") != etag || string(versioned.body) != string(first.body) {
		t.Errorf("versioned URL serves another layout")
	}
	for _, path := range []string{base, loc} {
		r := h.do("GET", path, nil, "If-None-Match", etag)
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("GET %s with If-None-Match: %d %q", path, r.status, r.body)
		}
		if r := h.do("GET", path, nil, "If-None-Match", `"other"`); r.status != http.StatusOK {
			t.Errorf("GET %s with another ETag: %d", path, r.status)
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(h.ts.URL + base + "?v=0123")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != loc {
		t.Errorf("outdated version: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), loc)
	}
	wantError(t, h.do("GET", "/events/"+uuid.NewString()+"/layout", nil), http.StatusNotFound, "not_found")
	wantError(t, h.do("GET", "/events/nope/availability", nil), http.StatusBadRequest, "invalid_argument")
}

// TestAvailabilityGzip checks that a client taking gzip gets the body
// gzipped, with Vary.
func TestAvailabilityGzip(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	for _, path := range []string{"/availability", "/layout"} {
		req, _ := http.NewRequest("GET", h.ts.URL+"/events/"+event.String()+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
}
