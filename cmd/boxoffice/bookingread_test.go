package main

import (
	"maps"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestClusterBookingReadsExact: with the bookings of holds written behind
// the journal, GET /booking/{id} of a hold made through one node answers
// at once, on every node, as the hold's 201 did, then as its release and
// its sale left it. The window is a minute here, so that no row reaches the
// bookings table during the test: every read goes through the booking ID's
// event fingerprint to the event's grain.
func TestClusterBookingReadsExact(t *testing.T) {
	tc := startCluster(t, 2, func(_ int, c *Config) { c.BookingsWindow = time.Minute })
	nodes := tc.nodes
	ev := seedSmall(t, nodes[0].DB, 1)[0]
	tickets := ticketsOf(t, nodes[0], ev)
	tok := nodes[0].token(t, "reader@example.com")

	get := func(step string, id string, want map[string]any) {
		t.Helper()
		for _, n := range nodes {
			var got map[string]any
			if code := n.call(t, http.MethodGet, "/booking/"+id, tok, nil, &got); code != http.StatusOK {
				t.Fatalf("%s: GET /booking/%s through %s: %d %v", step, id, n.name, code, got)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: GET /booking/%s through %s = %v; want %v", step, id, n.name, got, want)
			}
		}
	}
	holds := make([]map[string]any, len(nodes))
	for i, via := range nodes {
		if code := via.call(t, http.MethodPost, "/booking/reserve", tok,
			map[string]any{"event_id": ev, "ticket_ids": tickets[2*i : 2*i+2]}, &holds[i]); code != http.StatusCreated {
			t.Fatalf("reserve through %s: %d %v", via.name, code, holds[i])
		}
		id := uuid.MustParse(holds[i]["booking_id"].(string))
		if fp, ok := boxoffice.EventFingerprintOf(id); !ok || fp != boxoffice.BookingFingerprint(uuid.MustParse(ev)) {
			t.Errorf("booking ID %s does not carry its event's fingerprint", id)
		}
	}
	for i, h := range holds {
		get("live hold "+nodes[i].name, h["booking_id"].(string), h)
	}

	id := holds[0]["booking_id"].(string)
	if code := nodes[1].call(t, http.MethodDelete, "/booking/"+id, tok, nil, nil); code != http.StatusOK {
		t.Fatalf("DELETE /booking/%s through %s: %d", id, nodes[1].name, code)
	}
	cancelled := maps.Clone(holds[0])
	cancelled["status"] = string(boxoffice.BookingCancelled)
	get("released hold", id, cancelled)

	id = holds[1]["booking_id"].(string)
	var sold map[string]any
	if code := nodes[0].call(t, http.MethodPost, "/booking/confirm", tok,
		map[string]any{"booking_id": id, "payment": map[string]any{"method": "card", "token": "tok_visa"}}, &sold); code != http.StatusOK {
		t.Fatalf("confirm through %s: %d %v", nodes[0].name, code, sold)
	}
	get("sold hold", id, sold)
}
