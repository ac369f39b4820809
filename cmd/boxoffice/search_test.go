package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/persistence"
)

// createCatalogEvent makes a venue, a performer and an event through the
// admin API and returns the event ID.
func createCatalogEvent(t *testing.T, n *testNode, admin, name string) string {
	t.Helper()
	return createEventThrough(t, n, admin, map[string]any{
		"name": "Kulturhaus Mitte", "city": "Vienna", "address": "Ring 1",
		"location": map[string]float64{"lat": 48.2082, "lon": 16.3738},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A",
			"rows": []any{map[string]any{"name": "1", "seats": 10}}}}},
	}, map[string]any{"name": "Wiener Quartett", "biography": "strings"}, map[string]any{
		"name": name, "type": "concert", "description": "d",
	})
}

// createEventThrough posts venue and performer (request bodies) to the
// admin API, then event (a body without venue_id, performer_id, starts_at,
// currency and prices, which it fills in: section A at 30.00 EUR, two days
// from now), and returns the event ID.
func createEventThrough(t *testing.T, n *testNode, admin string, venue, performer, event map[string]any) string {
	t.Helper()
	var v struct {
		VenueID string `json:"venue_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/venues", admin, venue, &v); code != http.StatusCreated {
		t.Fatalf("create venue: %d", code)
	}
	var perf struct {
		PerformerID string `json:"performer_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/performers", admin, performer, &perf); code != http.StatusCreated {
		t.Fatalf("create performer: %d", code)
	}
	var ev struct {
		Event struct {
			EventID string `json:"event_id"`
		} `json:"event"`
	}
	body := map[string]any{"starts_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
		"venue_id": v.VenueID, "performer_id": perf.PerformerID, "currency": "EUR", "prices": map[string]string{"A": "30.00"}}
	for k, x := range event {
		body[k] = x
	}
	if code := n.call(t, http.MethodPost, "/admin/api/events", admin, body, &ev); code != http.StatusCreated {
		t.Fatalf("create event: %d", code)
	}
	return ev.Event.EventID
}

// found reports whether GET /search?q=q lists the event.
func found(t *testing.T, n *testNode, q, eventID string) bool {
	t.Helper()
	var res struct {
		Results []struct {
			EventID string `json:"event_id"`
		} `json:"results"`
	}
	n.call(t, http.MethodGet, "/search?q="+url.QueryEscape(q), "", nil, &res)
	for _, r := range res.Results {
		if r.EventID == eventID {
			return true
		}
	}
	return false
}

// searchCatchUp bounds how long a test waits for search to follow the
// catalog. It is a deadline for a condition, not a speed claim: how fast
// changes reach search is for benchmarks to say, not tests on a busy machine.
const searchCatchUp = 30 * time.Second

// TestSearchFreshness: the catalog reaches search through the outbox, the
// relay, JetStream and the node's indexer, renames included, and the
// indexer resumes after a node restart without losing changes.
func TestSearchFreshness(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	id := createCatalogEvent(t, n, admin, "Zanzibar Nocturne")
	require.Eventually(t, func() bool { return found(t, n, "zanzibar", id) }, searchCatchUp, 25*time.Millisecond, "a new event is searchable")

	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+id, admin, map[string]any{"name": "Quokka Serenade"}, nil); code != 200 {
		t.Fatalf("rename: %d", code)
	}
	require.Eventually(t, func() bool { return found(t, n, "quokka", id) }, searchCatchUp, 25*time.Millisecond, "the renamed event is found by its new name")
	if found(t, n, "zanzibar", id) {
		t.Error("the renamed event is still found by its old name")
	}

	// Restart on the same database and data dir (same index, same durable consumer).
	dataDir, db := n.cfg.DataDir, n.DB
	n.Close()
	// While the node is down the event is renamed in the database, as
	// another node or an operator would: the change waits in the outbox.
	renameWhileDown(t, db, id, "Wombat Overture")
	n2 := startTestNodeOn(t, db, func(c *Config) { c.DataDir = dataDir })
	admin = n2.token(t, "admin@example.com", "admin")
	require.Eventually(t, func() bool { return found(t, n2, "wombat", id) }, searchCatchUp, 25*time.Millisecond, "the rename made while the node was down is found")
	if found(t, n2, "quokka", id) {
		t.Error("after the restart the event is still found by the name it had before the node went down")
	}
	id2 := createCatalogEvent(t, n2, admin, "Xylophone Rhapsody")
	require.Eventually(t, func() bool { return found(t, n2, "xylophone", id2) }, searchCatchUp, 25*time.Millisecond, "an event created after the restart is searchable")
	if !found(t, n2, "wombat", id) {
		t.Error("the event indexed before the restart is gone")
	}
}

// renameWhileDown renames event id straight through the database (the
// catalog row and its outbox entry, in one transaction), with no node up.
func renameWhileDown(t *testing.T, dsn, id, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := persistence.Open(ctx, persistence.Config{URL: dsn, MaxConns: 2})
	if err != nil {
		t.Fatalf("open the database while the node is down: %v", err)
	}
	defer db.Close()
	uid, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("event id %q: %v", id, err)
	}
	if _, err := db.UpdateEvent(ctx, uid, persistence.EventPatch{Name: &name}); err != nil {
		t.Fatalf("rename %s while the node is down: %v", id, err)
	}
}

// availableSeats returns the event's available_seats in GET /search?q=q, or
// -1 when the event is not listed.
func availableSeats(t *testing.T, n *testNode, q, eventID string) int {
	t.Helper()
	var res struct {
		Results []struct {
			EventID        string `json:"event_id"`
			AvailableSeats int    `json:"available_seats"`
		} `json:"results"`
	}
	if code := n.call(t, http.MethodGet, "/search?q="+url.QueryEscape(q), "", nil, &res); code != http.StatusOK {
		t.Fatalf("search %q: %d", q, code)
	}
	for _, r := range res.Results {
		if r.EventID == eventID {
			return r.AvailableSeats
		}
	}
	return -1
}

// TestSearchAvailabilityAfterRestart: an idle event's grain reports nothing
// after a restart, yet search shows its seats held and sold, not its
// capacity, on a restarted node and on a node with a new index.
func TestSearchAvailabilityAfterRestart(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	id := createCatalogEvent(t, n, admin, "Yodelling Marathon")
	require.Eventually(t, func() bool { return found(t, n, "yodelling", id) }, searchCatchUp, 25*time.Millisecond, "the new event is searchable")
	var view struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+id, "", nil, &view); code != http.StatusOK || len(view.Tickets) != 10 {
		t.Fatalf("event view: %d with %d tickets", code, len(view.Tickets))
	}
	buyer := n.token(t, "buyer@example.com")
	var sold struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", buyer, map[string]any{"event_id": id,
		"ticket_ids": []string{view.Tickets[0].TicketID, view.Tickets[1].TicketID}}, &sold); code != http.StatusCreated {
		t.Fatalf("reserve to buy: %d", code)
	}
	if code := n.call(t, http.MethodPost, "/booking/confirm", buyer, map[string]any{"booking_id": sold.BookingID,
		"payment": map[string]string{"method": "card", "token": "tok_visa"}}, nil); code != http.StatusOK {
		t.Fatalf("confirm: %d", code)
	}
	holder := n.token(t, "holder@example.com")
	if code := n.call(t, http.MethodPost, "/booking/reserve", holder, map[string]any{"event_id": id,
		"ticket_ids": []string{view.Tickets[2].TicketID, view.Tickets[3].TicketID, view.Tickets[4].TicketID}}, nil); code != http.StatusCreated {
		t.Fatalf("hold: %d", code)
	}
	require.Eventually(t, func() bool { return availableSeats(t, n, "yodelling", id) == 5 }, searchCatchUp, 25*time.Millisecond, "search shows 5 of 10 seats available")

	dataDir, db := n.cfg.DataDir, n.DB
	n.Close()
	cases := []struct {
		name string
		opt  nodeOption
	}{
		{"restarted on its index", func(c *Config) { c.DataDir = dataDir }},
		{"a new node with a new index", func(*Config) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n2 := startTestNodeOn(t, db, tc.opt)
			// No grain is active and none reports: the count comes from the store.
			if got := availableSeats(t, n2, "yodelling", id); got != 5 {
				t.Errorf("available_seats %d right after the start, want 5 (10 seats, 2 sold, 3 held)", got)
			}
			n2.Close()
		})
	}
}
