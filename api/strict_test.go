package api_test

import (
	"net/http"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestStrictJSONBodies: field names match exactly and a key may appear
// once per object; encoding/json alone takes {"EVENT_ID": ...} for
// event_id and keeps the last of two equal keys (issue 13).
func TestStrictJSONBodies(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	admin := auth(h.adminToken())
	ev, t0, t1 := event.String(), tickets[0].String(), tickets[1].String()
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		field                    string
	}{
		{"upper-case key", "POST", "/booking/reserve", `{"EVENT_ID":"` + ev + `","ticket_id":"` + t0 + `"}`, auth(ada), "EVENT_ID"},
		{"mixed-case key", "POST", "/booking/reserve", `{"event_id":"` + ev + `","Ticket_Id":"` + t0 + `"}`, auth(ada), "Ticket_Id"},
		{"escaped upper-case key", "POST", "/booking/reserve", `{"event_id":"` + ev + `","\u0054icket_id":"` + t0 + `"}`, auth(ada), "Ticket_id"},
		{"duplicate key", "POST", "/booking/reserve", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `","ticket_id":"` + t1 + `"}`, auth(ada), "ticket_id"},
		{"duplicate key, escaped", "POST", "/booking/reserve", `{"event_id":"` + ev + `","ticket_id":"` + t0 + `","ticket\u005fid":"` + t1 + `"}`, auth(ada), "ticket_id"},
		{"duplicate nested key", "PATCH", "/admin/api/events/" + ev, `{"waiting_room":{"enabled":true,"rate_per_second":5,"enabled":false}}`, admin, "waiting_room.enabled"},
		{"case-folded nested key", "PATCH", "/admin/api/events/" + ev, `{"waiting_room":{"Enabled":true,"rate_per_second":5}}`, admin, "waiting_room.Enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body, tc.headers...)
			wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
			if r.errorField() != tc.field {
				t.Errorf("details.field %q, want %q (%s)", r.errorField(), tc.field, r.body)
			}
		})
	}
	// Exact names still work, whitespace and all.
	r := h.do("POST", "/booking/reserve", "{ \"event_id\" : \""+ev+"\" ,\n\"ticket_ids\":[ \""+t0+"\" ] }", auth(ada)...)
	mustStatus(t, r, http.StatusCreated)
}
