package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestHostileReserveBodies: malformed, oversized and ill-typed bodies are
// exact 4xx answers naming the field, never a 5xx.
func TestHostileReserveBodies(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	ev, t0, t1 := event.String(), tickets[0].String(), tickets[1].String()
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = `"` + tickets[i].String() + `"`
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"empty body", ``, 400, boxoffice.EInvalid, "body"},
		{"not JSON", `event please`, 400, boxoffice.EInvalid, "body"},
		{"truncated", `{"event_id":"` + ev, 400, boxoffice.EInvalid, "body"},
		{"top-level array", `[]`, 400, boxoffice.EInvalid, "body"},
		{"top-level string", `"x"`, 400, boxoffice.EInvalid, "body"},
		{"null", `null`, 400, boxoffice.EInvalid, "event_id"},
		{"empty object", `{}`, 400, boxoffice.EInvalid, "event_id"},
		{"trailing garbage", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `"} x`, 400, boxoffice.EInvalid, "body"},
		{"two objects", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `"}{}`, 400, boxoffice.EInvalid, "body"},
		{"unknown field", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `","seats":3}`, 400, boxoffice.EInvalid, "seats"},
		{"event_id a number", `{"event_id":5,"ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"event_id huge number", `{"event_id":1e999999,"ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"ticket_ids a string", `{"event_id":"` + ev + `","ticket_ids":"` + t0 + `"}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"ticket_ids of numbers", `{"event_id":"` + ev + `","ticket_ids":[1,2]}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"ticket_ids an object", `{"event_id":"` + ev + `","ticket_ids":{}}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"bad event UUID", `{"event_id":"123","ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"urn event UUID", `{"event_id":"urn:uuid:` + ev + `","ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"braced event UUID", `{"event_id":"{` + ev + `}","ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"hyphenless event UUID", `{"event_id":"` + strings.ReplaceAll(ev, "-", "") + `","ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"bad ticket UUID", `{"event_id":"` + ev + `","ticket_ids":["` + t0 + `","zzz"]}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"bad lone ticket UUID", `{"event_id":"` + ev + `","ticket_id":"zzz"}`, 400, boxoffice.EInvalid, "ticket_id"},
		{"invalid UTF-8", "{\"event_id\":\"\xff\xfe" + ev[2:] + "\",\"ticket_id\":\"" + t0 + "\"}", 400, boxoffice.EInvalid, "event_id"},
		{"NUL in UUID", `{"event_id":"\u0000` + ev[1:] + `","ticket_id":"` + t0 + `"}`, 400, boxoffice.EInvalid, "event_id"},
		{"no seats", `{"event_id":"` + ev + `","ticket_ids":[]}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"eleven seats", `{"event_id":"` + ev + `","ticket_ids":[` + ids(11) + `]}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"a seat twice", `{"event_id":"` + ev + `","ticket_ids":["` + t0 + `","` + t1 + `","` + t0 + `"]}`, 400, boxoffice.EInvalid, "ticket_ids"},
		{"ticket_id and empty ticket_ids", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `","ticket_ids":[]}`, 400, boxoffice.EInvalid, "ticket_id"},
		{"ticket_id and ticket_ids", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `","ticket_ids":["` + t1 + `"]}`, 400, boxoffice.EInvalid, "ticket_id"},
		{"deep nesting", `{"event_id":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400, boxoffice.EInvalid, "body"},
		{"70 KiB body", `{"event_id":"` + strings.Repeat("a", 70<<10) + `"}`, 413, boxoffice.ETooLarge, ""},
		{"70 KiB of trailing spaces", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `"}` + strings.Repeat(" ", 70<<10), 413, boxoffice.ETooLarge, ""},
		{"ten seats is fine", `{"event_id":"` + ev + `","ticket_ids":[` + ids(10) + `]}`, 201, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/booking/reserve", tc.body, auth(ada)...)
			if r.status >= 500 {
				t.Fatalf("5xx: %d %s", r.status, r.body)
			}
			if tc.code == "" {
				mustStatus(t, r, tc.status)
				return
			}
			wantError(t, r, tc.status, tc.code)
			if tc.field != "" && r.errorField() != tc.field {
				t.Errorf("details.field %q, want %q (%s)", r.errorField(), tc.field, r.body)
			}
		})
	}
}

func TestHostileConfirmBodies(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	b := h.reserve(ada, event, tickets[0]).BookingID.String()
	cases := []struct {
		name   string
		body   string
		header []string
		field  string
	}{
		{"no payment", `{"booking_id":"` + b + `"}`, nil, "payment"},
		{"payment a string", `{"booking_id":"` + b + `","payment":"card"}`, nil, "payment"},
		{"payment method cash", `{"booking_id":"` + b + `","payment":{"method":"cash","token":"tok_visa"}}`, nil, "payment.method"},
		{"payment token empty", `{"booking_id":"` + b + `","payment":{"method":"card","token":""}}`, nil, "payment.token"},
		{"payment token a number", `{"booking_id":"` + b + `","payment":{"method":"card","token":4242}}`, nil, "payment.token"},
		{"payment extra field", `{"booking_id":"` + b + `","payment":{"method":"card","token":"tok_visa","cvc":"123"}}`, nil, "cvc"},
		{"bad booking id", `{"booking_id":"b","payment":{"method":"card","token":"tok_visa"}}`, nil, "booking_id"},
		{"huge Idempotency-Key", `{"booking_id":"` + b + `","payment":{"method":"card","token":"tok_visa"}}`, []string{"Idempotency-Key", strings.Repeat("k", 300)}, "Idempotency-Key"},
	}
	for _, tc := range cases {
		for _, method := range []string{"POST", "PUT"} {
			r := h.do(method, "/booking/confirm", tc.body, append(auth(ada), tc.header...)...)
			wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
			if r.errorField() != tc.field {
				t.Errorf("%s %s: field %q, want %q", method, tc.name, r.errorField(), tc.field)
			}
		}
	}
}

// TestHostileBodiesEveryRoute sends the same bad bodies to every route
// that takes one.
func TestHostileBodiesEveryRoute(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	admin := auth(h.adminToken())
	routes := []struct{ method, path string }{
		{"POST", "/booking/reserve"}, {"POST", "/booking/confirm"}, {"PUT", "/booking/confirm"},
		{"POST", "/auth/token"}, {"POST", "/admin/api/venues"}, {"POST", "/admin/api/performers"},
		{"POST", "/admin/api/events"}, {"PATCH", "/admin/api/events/" + event.String()},
		{"POST", "/admin/api/webhooks"},
	}
	bodies := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"garbage", `}{`, 400, boxoffice.EInvalid},
		{"array", `[1,2,3]`, 400, boxoffice.EInvalid},
		{"unknown field", `{"zzz":1}`, 400, boxoffice.EInvalid},
		{"trailing", `{} {}`, 400, boxoffice.EInvalid},
		{"too large", `{"name":"` + strings.Repeat("x", 65<<10) + `"}`, 413, boxoffice.ETooLarge},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			r := h.do(rt.method, rt.path, b.body, admin...)
			if r.status != b.status || r.errorCode() != b.code {
				t.Errorf("%s %s with %s: %d %s, want %d %s", rt.method, rt.path, b.name, r.status, r.body, b.status, b.code)
			}
		}
	}
}

// TestHostilePaths: unknown paths, wrong methods and bad path IDs are JSON
// errors with exact codes (ServeMux's plain-text defaults never leak).
func TestHostilePaths(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	ada, _ := h.userToken("ada")
	cases := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nowhere", 404, boxoffice.ENotFound, ""},
		{"GET", "/events", 404, boxoffice.ENotFound, ""},
		{"GET", "/events/" + event.String() + "/extra", 404, boxoffice.ENotFound, ""},
		{"GET", "/admin/api/nothing", 404, boxoffice.ENotFound, ""},
		{"GET", "/booking/reserve/x/y", 404, boxoffice.ENotFound, ""},
		{"GET", "/booking/reserve", 405, boxoffice.EMethodNotAllow, "POST"}, // not GET /booking/{bookingId}
		{"DELETE", "/booking/reserve", 405, boxoffice.EMethodNotAllow, "POST"},
		{"PATCH", "/booking/reserve", 405, boxoffice.EMethodNotAllow, "POST"},
		{"POST", "/search", 405, boxoffice.EMethodNotAllow, "GET, HEAD"},
		{"DELETE", "/events/" + event.String(), 405, boxoffice.EMethodNotAllow, "GET, HEAD"},
		{"PUT", "/healthz", 405, boxoffice.EMethodNotAllow, "GET, HEAD"},
		{"GET", "/booking/confirm", 405, boxoffice.EMethodNotAllow, "POST, PUT"},
		{"PATCH", "/booking/confirm", 405, boxoffice.EMethodNotAllow, "POST, PUT"},
		{"POST", "/user/bookings", 405, boxoffice.EMethodNotAllow, "GET, HEAD"},
		{"DELETE", "/admin/api/events", 405, boxoffice.EMethodNotAllow, "GET, HEAD, POST"},
		{"GET", "/booking/not-a-uuid", 400, boxoffice.EInvalid, ""},
		{"DELETE", "/booking/%00", 400, boxoffice.EInvalid, ""},
		{"GET", "/events/%7B" + event.String() + "%7D", 400, boxoffice.EInvalid, ""},
		{"GET", "/events/" + strings.Repeat("9", 5000), 400, boxoffice.EInvalid, ""},
		{"BREW", "/events/" + event.String(), 405, boxoffice.EMethodNotAllow, "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path[:min(len(tc.path), 60)], func(t *testing.T) {
			r := h.do(tc.method, tc.path, nil, auth(ada)...)
			wantError(t, r, tc.status, tc.code)
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

// TestAnotherUsersBooking: every booking route refuses another user's
// booking with 403 and changes nothing.
func TestAnotherUsersBooking(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	eve, _ := h.userToken("eve")
	b := h.reserve(ada, event, tickets[0]).BookingID
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/booking/" + b.String(), nil},
		{"DELETE", "/booking/" + b.String(), nil},
		{"POST", "/booking/confirm", confirmBody(b, "tok_visa")},
		{"PUT", "/booking/confirm", confirmBody(b, "tok_visa")},
	} {
		wantError(t, h.do(rq.method, rq.path, rq.body, auth(eve)...), http.StatusForbidden, boxoffice.EForbidden)
	}
	r := h.do("GET", "/booking/"+b.String(), nil, auth(ada)...)
	var got bookingReply
	r.decode(t, &got)
	if got.Status != "in-progress" {
		t.Errorf("after eve's attempts: %s", got.Status)
	}
	r = h.do("GET", "/user/bookings", nil, auth(eve)...)
	if strings.Contains(string(r.body), b.String()) {
		t.Error("eve's list shows ada's booking")
	}
}
