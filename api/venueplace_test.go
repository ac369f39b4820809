package api_test

import (
	"net/http"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// placedVenueBody is a venue of three placed blocks of 2 rows of 4: A
// below the stage, B above it facing down, C right of it turned and
// curved.
func placedVenueBody(mod func(sections []map[string]any)) map[string]any {
	block := func(name string, place map[string]any) map[string]any {
		return map[string]any{"name": name, "place": place, "rows": []any{
			map[string]any{"name": "1", "seats": 4}, map[string]any{"name": "2", "seats": 4}}}
	}
	sections := []map[string]any{
		block("A", map[string]any{"x": 0, "y": 5, "angle": 0}),
		block("B", map[string]any{"x": 0, "y": -5, "angle": 180}),
		block("C", map[string]any{"x": 12, "y": 0, "angle": -90, "radius": 20, "row_spacing": 1.5}),
	}
	if mod != nil {
		mod(sections)
	}
	return map[string]any{
		"name": "Placed Arena", "city": "Madrid", "location": map[string]any{"lat": 40.4, "lon": -3.7},
		"seat_map": map[string]any{"sections": sections},
	}
}

// TestPlacedVenueLayout creates a venue of placed blocks through the admin
// API and checks the layout draws each seat where its block's placement
// puts it; bad placements are 400s naming the field.
func TestPlacedVenueLayout(t *testing.T) {
	h := newHarness(t)
	admin := auth(h.adminToken())
	vr := h.do("POST", "/admin/api/venues", placedVenueBody(nil), admin...)
	mustStatus(t, vr, http.StatusCreated)
	var v struct {
		VenueID string `json:"venue_id"`
		SeatMap struct {
			Sections []struct {
				Name  string               `json:"name"`
				Place *boxoffice.Placement `json:"place"` // same field names, lower-cased by encoding/json's matching
			} `json:"sections"`
		} `json:"seat_map"`
	}
	vr.decode(t, &v)
	if len(v.SeatMap.Sections) != 3 || v.SeatMap.Sections[2].Place == nil || v.SeatMap.Sections[2].Place.Radius != 20 || v.SeatMap.Sections[1].Place.Angle != 180 {
		t.Fatalf("venue reply %s", vr.body)
	}
	pr := h.do("POST", "/admin/api/performers", map[string]any{"name": "Placers"}, admin...)
	var p struct {
		PerformerID string `json:"performer_id"`
	}
	pr.decode(t, &p)
	er := h.do("POST", "/admin/api/events", map[string]any{"name": "Placed Night", "type": "concert", "starts_at": "2036-08-01T19:30:00Z",
		"venue_id": v.VenueID, "performer_id": p.PerformerID, "currency": "EUR",
		"prices": map[string]string{"A": "50", "B": "40", "C": "30"}}, admin...)
	mustStatus(t, er, http.StatusCreated)
	var e struct {
		Event struct {
			EventID string `json:"event_id"`
		} `json:"event"`
	}
	er.decode(t, &e)
	lr := h.do("GET", "/events/"+e.Event.EventID+"/layout", nil)
	mustStatus(t, lr, http.StatusOK)
	var lay layoutReply
	lr.decode(t, &lay)
	if lay.Seats != 24 || len(lay.X) != 24 || len(lay.Y) != 24 {
		t.Fatalf("layout of %d seats: %s", lay.Seats, lr.body)
	}
	// Cells are half units (boxoffice.PlacementCells), relative to A's
	// first seat: A row 1 runs left to right at y 5, row 2 one unit (2
	// cells) below; B, turned 180, runs right to left at y -5, its row 2
	// above; C, turned -90, runs upwards at x 12, its rows 1.5 apart going
	// right, curved towards the stage.
	ax, ay := lay.X[0], lay.Y[0]
	for _, tc := range []struct {
		seat   int // flat index: A 0-7, B 8-15, C 16-23
		dx, dy int
	}{
		{0, 0, 0}, {3, 6, 0}, {4, 0, 2}, {7, 6, 2},
		{8, 6, -20}, {11, 0, -20}, {12, 6, -22},
		{16, 27, -7}, {19, 27, -13}, {20, 30, -7},
	} {
		if dx, dy := lay.X[tc.seat]-ax, lay.Y[tc.seat]-ay; dx != tc.dx || dy != tc.dy {
			t.Errorf("seat %d at (%+d,%+d) from A's first seat, want (%+d,%+d)", tc.seat, dx, dy, tc.dx, tc.dy)
		}
	}

	for _, tc := range []struct {
		name  string
		mod   func(s []map[string]any)
		field string
	}{
		{"angle out of range", func(s []map[string]any) { s[1]["place"].(map[string]any)["angle"] = 400 }, "seat_map.sections[1].place.angle"},
		{"radius below 1", func(s []map[string]any) { s[2]["place"].(map[string]any)["radius"] = 0.5 }, "seat_map.sections[2].place.radius"},
		{"x too far", func(s []map[string]any) { s[0]["place"].(map[string]any)["x"] = 1e6 }, "seat_map.sections[0].place.x"},
		{"one block unplaced", func(s []map[string]any) { delete(s[1], "place") }, "seat_map.sections[1].place"},
		{"blocks overlap", func(s []map[string]any) { s[1]["place"] = map[string]any{"x": 1, "y": 5.5, "angle": 0} }, "seat_map.sections[1].place"},
		{"not a number", func(s []map[string]any) { s[0]["place"].(map[string]any)["y"] = "five" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/admin/api/venues", placedVenueBody(tc.mod), admin...)
			wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
			if tc.field != "" && r.errorField() != tc.field {
				t.Errorf("details.field %q, want %q (%s)", r.errorField(), tc.field, r.body)
			}
		})
	}
}
