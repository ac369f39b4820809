package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

func venueBody(id string) map[string]any {
	b := map[string]any{
		"name": "Wembley", "city": "London", "address": "",
		"location": map[string]any{"lat": 51.556, "lon": -0.279},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "Floor", "rows": []any{map[string]any{"name": "A", "seats": 3}}},
		}},
	}
	if id != "" {
		b["id"] = id
	}
	return b
}

func TestAdminCatalog(t *testing.T) {
	h := newHarness(t)
	admin := auth(h.adminToken())

	t.Run("venue: capacity and seat map; same id and body is the same 201", func(t *testing.T) {
		id := uuid.NewString()
		first := h.do("POST", "/admin/api/venues", venueBody(id), admin...)
		mustStatus(t, first, http.StatusCreated)
		var v struct {
			VenueID  string `json:"venue_id"`
			Capacity int    `json:"capacity"`
		}
		first.decode(t, &v)
		if v.VenueID != id || v.Capacity != 3 {
			t.Errorf("venue = %+v", v)
		}
		again := h.do("POST", "/admin/api/venues", venueBody(id), admin...)
		mustStatus(t, again, http.StatusCreated)
		if string(again.body) != string(first.body) {
			t.Errorf("retry body %s, want %s", again.body, first.body)
		}
		other := venueBody(id)
		other["name"] = "Not Wembley"
		r := h.do("POST", "/admin/api/venues", other, admin...)
		wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
		if r.errorField() != "id" {
			t.Errorf("field %q, want id", r.errorField())
		}
	})
	t.Run("performer retry", func(t *testing.T) {
		id := uuid.NewString()
		body := map[string]any{"id": id, "name": "Adele", "biography": "Singer."}
		first := h.do("POST", "/admin/api/performers", body, admin...)
		mustStatus(t, first, http.StatusCreated)
		again := h.do("POST", "/admin/api/performers", body, admin...)
		if again.status != http.StatusCreated || string(again.body) != string(first.body) {
			t.Errorf("retry %d %s, want 201 %s", again.status, again.body, first.body)
		}
	})

	venue := h.do("POST", "/admin/api/venues", venueBody(""), admin...)
	var v struct {
		VenueID string `json:"venue_id"`
	}
	venue.decode(t, &v)
	perf := h.do("POST", "/admin/api/performers", map[string]any{"name": "Adele"}, admin...)
	var p struct {
		PerformerID string `json:"performer_id"`
	}
	perf.decode(t, &p)
	event := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{"name": "Adele Live", "type": "concert", "starts_at": "2026-08-01T19:30:00+02:00",
			"venue_id": v.VenueID, "performer_id": p.PerformerID, "currency": "GBP", "prices": map[string]string{"Floor": "120.5"}}
		if mod != nil {
			mod(b)
		}
		return b
	}
	t.Run("event: one ticket per seat, times in UTC, retry", func(t *testing.T) {
		id := uuid.NewString()
		body := event(func(b map[string]any) { b["id"] = id })
		r := h.do("POST", "/admin/api/events", body, admin...)
		mustStatus(t, r, http.StatusCreated)
		var e struct {
			Event struct {
				StartsAt string            `json:"starts_at"`
				Prices   map[string]string `json:"prices"`
			} `json:"event"`
			Tickets int `json:"tickets"`
		}
		r.decode(t, &e)
		if e.Tickets != 3 || e.Event.StartsAt != "2026-08-01T17:30:00Z" || e.Event.Prices["Floor"] != "120.50" {
			t.Errorf("event reply %s", r.body)
		}
		again := h.do("POST", "/admin/api/events", body, admin...)
		if again.status != http.StatusCreated || string(again.body) != string(r.body) {
			t.Errorf("retry %d %s, want the same 201", again.status, again.body)
		}
	})
	t.Run("event: sale rules and their defaults", func(t *testing.T) {
		r := h.do("POST", "/admin/api/events", event(func(b map[string]any) {
			b["starts_at"], b["max_tickets_per_user"], b["sale_starts_at"] = "2036-08-01T19:30:00Z", 4, "2036-07-01T10:00:00Z"
		}), admin...)
		mustStatus(t, r, http.StatusCreated)
		var e struct {
			Event struct {
				Limit        int    `json:"max_tickets_per_user"`
				SaleStartsAt string `json:"sale_starts_at"`
				SaleEndsAt   string `json:"sale_ends_at"`
				RefundUntil  string `json:"refund_until"`
				Status       string `json:"status"`
			} `json:"event"`
		}
		r.decode(t, &e)
		if e.Event.Limit != 4 || e.Event.SaleStartsAt != "2036-07-01T10:00:00Z" || e.Event.SaleEndsAt != "2036-08-01T19:30:00Z" ||
			e.Event.RefundUntil != "2036-07-31T19:30:00Z" || e.Event.Status != "scheduled" {
			t.Errorf("event reply %s", r.body)
		}
	})
	errorsTable := []struct {
		name   string
		mod    func(map[string]any)
		status int
		code   string
		field  string
	}{
		{"a section without a price", func(b map[string]any) { b["prices"] = map[string]string{"Balcony": "10"} }, 400, boxoffice.EInvalid, "prices"},
		{"no prices", func(b map[string]any) { delete(b, "prices") }, 400, boxoffice.EInvalid, "prices"},
		{"price not a decimal", func(b map[string]any) { b["prices"] = map[string]string{"Floor": "12.345"} }, 400, boxoffice.EInvalid, "prices"},
		{"starts_at not RFC 3339", func(b map[string]any) { b["starts_at"] = "tomorrow" }, 400, boxoffice.EInvalid, "starts_at"},
		{"bad currency", func(b map[string]any) { b["currency"] = "euro" }, 400, boxoffice.EInvalid, "currency"},
		{"bad type", func(b map[string]any) { b["type"] = "Rock & Roll" }, 400, boxoffice.EInvalid, "type"},
		{"venue_id not a UUID", func(b map[string]any) { b["venue_id"] = "wembley" }, 400, boxoffice.EInvalid, "venue_id"},
		{"waiting room on at rate 0", func(b map[string]any) { b["waiting_room"] = map[string]any{"enabled": true, "rate_per_second": 0} }, 400, boxoffice.EInvalid, "waiting_room"},
		{"max_tickets_per_user over 1000", func(b map[string]any) { b["max_tickets_per_user"] = 1001 }, 400, boxoffice.EInvalid, "max_tickets_per_user"},
		{"max_tickets_per_user negative", func(b map[string]any) { b["max_tickets_per_user"] = -1 }, 400, boxoffice.EInvalid, "max_tickets_per_user"},
		{"sale_starts_at not RFC 3339", func(b map[string]any) { b["sale_starts_at"] = "soon" }, 400, boxoffice.EInvalid, "sale_starts_at"},
		{"sale ends before it starts", func(b map[string]any) {
			b["sale_starts_at"], b["sale_ends_at"] = "2026-07-01T10:00:00Z", "2026-06-01T10:00:00Z"
		}, 400, boxoffice.EInvalid, "sale_ends_at"},
		{"refund_until not RFC 3339", func(b map[string]any) { b["refund_until"] = "never" }, 400, boxoffice.EInvalid, "refund_until"},
		{"unknown venue", func(b map[string]any) { b["venue_id"] = uuid.NewString() }, 404, boxoffice.ENotFound, ""},
		{"unknown performer", func(b map[string]any) { b["performer_id"] = uuid.NewString() }, 404, boxoffice.ENotFound, ""},
	}
	for _, tc := range errorsTable {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/admin/api/events", event(tc.mod), admin...)
			wantError(t, r, tc.status, tc.code)
			if tc.field != "" && r.errorField() != tc.field {
				t.Errorf("field %q, want %q", r.errorField(), tc.field)
			}
		})
	}
	t.Run("venue and performer validation", func(t *testing.T) {
		noLoc := venueBody("")
		delete(noLoc, "location")
		r := h.do("POST", "/admin/api/venues", noLoc, admin...)
		wantError(t, r, 400, boxoffice.EInvalid)
		if r.errorField() != "location" {
			t.Errorf("field %q", r.errorField())
		}
		r = h.do("POST", "/admin/api/performers", map[string]any{"name": ""}, admin...)
		wantError(t, r, 400, boxoffice.EInvalid)
		if r.errorField() != "name" {
			t.Errorf("field %q", r.errorField())
		}
	})
	t.Run("the store is down", func(t *testing.T) {
		h.catalog.setDown(true)
		defer h.catalog.setDown(false)
		r := h.do("POST", "/admin/api/performers", map[string]any{"name": "X"}, admin...)
		wantError(t, r, http.StatusServiceUnavailable, boxoffice.EUnavailable)
	})
}

func TestAdminPatchAndStats(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	admin := auth(h.adminToken())
	path := "/admin/api/events/" + event.String()

	mustStatus(t, h.do("GET", "/events/"+event.String(), nil), http.StatusOK) // warm the cache
	r := h.do("PATCH", path, map[string]any{"name": "Alive 2027", "starts_at": "2027-01-01T00:00:00Z"}, admin...)
	mustStatus(t, r, http.StatusOK)
	view := h.do("GET", "/events/"+event.String(), nil)
	if !strings.Contains(string(view.body), `"name":"Alive 2027"`) || !strings.Contains(string(view.body), `"starts_at":"2027-01-01T00:00:00Z"`) {
		t.Errorf("event view after PATCH: %.300s", view.body)
	}
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"starts_at": "soon"}, "starts_at"},
		{map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": -1}}, "waiting_room"},
		{map[string]any{"venue_id": uuid.NewString()}, "venue_id"},
	} {
		r := h.do("PATCH", path, tc.body, admin...)
		wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
		if r.errorField() != tc.field {
			t.Errorf("PATCH %v: field %q, want %q", tc.body, r.errorField(), tc.field)
		}
	}
	wantError(t, h.do("PATCH", "/admin/api/events/"+uuid.NewString(), map[string]any{"name": "x"}, admin...), 404, boxoffice.ENotFound)
	wantError(t, h.do("PATCH", "/admin/api/events/nope", map[string]any{"name": "x"}, admin...), 400, boxoffice.EInvalid)

	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[0], tickets[1])
	r = h.do("GET", path, nil, admin...)
	mustStatus(t, r, http.StatusOK)
	var st struct {
		Version uint64 `json:"version"`
		Counts  struct {
			Available, Reserved, Booked int
		} `json:"counts"`
	}
	r.decode(t, &st)
	if st.Version != 1 || st.Counts.Reserved != 2 || st.Counts.Available != 18 {
		t.Errorf("stats %s", r.body)
	}
	wantError(t, h.do("GET", "/admin/api/events/"+uuid.NewString(), nil, admin...), 404, boxoffice.ENotFound)
}

func TestAdminAuth(t *testing.T) {
	h := newHarness(t)
	user, _ := h.userToken("ada")
	routes := []struct{ method, path string }{
		{"GET", "/admin/api/cluster"},
		{"GET", "/admin/api/events/" + uuid.NewString()},
		{"PATCH", "/admin/api/events/" + uuid.NewString()},
		{"POST", "/admin/api/events"},
		{"POST", "/admin/api/venues"},
		{"POST", "/admin/api/performers"},
		{"POST", "/admin/api/webhooks"},
		{"GET", "/admin/api/webhooks"},
		{"GET", "/admin/api/events"},
		{"GET", "/admin/api/venues"},
		{"GET", "/admin/api/performers"},
		{"PATCH", "/admin/api/venues/" + uuid.NewString()},
		{"PATCH", "/admin/api/performers/" + uuid.NewString()},
		{"POST", "/admin/api/events/" + uuid.NewString() + "/scanners"},
		{"GET", "/admin/api/audit"},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			wantError(t, h.do(rt.method, rt.path, nil), http.StatusUnauthorized, boxoffice.EUnauthenticated)
			wantError(t, h.do(rt.method, rt.path, nil, auth(user)...), http.StatusForbidden, boxoffice.EForbidden)
		})
	}
}

func TestAdminCluster(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/admin/api/cluster", nil, auth(h.adminToken())...)
	mustStatus(t, r, http.StatusOK)
	var c struct {
		Nodes      []struct{ ID string } `json:"nodes"`
		Placements []struct {
			NodeID string `json:"node_id"`
		} `json:"placements"`
	}
	r.decode(t, &c)
	if len(c.Nodes) != 2 || len(c.Placements) != 1 {
		t.Errorf("cluster %s", r.body)
	}

	single := newHarness(t, func(c *apiConfig, d *apiDeps) { d.Cluster = nil; c.NodeName = "solo" })
	r = single.do("GET", "/admin/api/cluster", nil, auth(single.adminToken())...)
	mustStatus(t, r, http.StatusOK)
	r.decode(t, &c)
	if len(c.Nodes) != 1 || c.Nodes[0].ID != "solo" || len(c.Placements) != 0 {
		t.Errorf("single-node cluster %s", r.body)
	}
}
