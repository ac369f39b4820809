package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// createCatalogEvent makes a venue, a performer and an event through the
// admin API and returns the event ID.
func createCatalogEvent(t *testing.T, n *testNode, admin, name string) string {
	t.Helper()
	var venue struct {
		VenueID string `json:"venue_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/venues", admin, map[string]any{
		"name": "Kulturhaus Mitte", "city": "Vienna", "address": "Ring 1",
		"location": map[string]float64{"lat": 48.2082, "lon": 16.3738},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A",
			"rows": []any{map[string]any{"name": "1", "seats": 10}}}}},
	}, &venue); code != http.StatusCreated {
		t.Fatalf("create venue: %d", code)
	}
	var perf struct {
		PerformerID string `json:"performer_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/performers", admin,
		map[string]any{"name": "Wiener Quartett", "biography": "strings"}, &perf); code != http.StatusCreated {
		t.Fatalf("create performer: %d", code)
	}
	var ev struct {
		Event struct {
			EventID string `json:"event_id"`
		} `json:"event"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/events", admin, map[string]any{
		"name": name, "type": "concert", "description": "d", "starts_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
		"venue_id": venue.VenueID, "performer_id": perf.PerformerID, "currency": "EUR", "prices": map[string]string{"A": "30.00"},
	}, &ev); code != http.StatusCreated {
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

// TestSearchFreshness: the catalog reaches search through the outbox, the
// relay, JetStream and the node's indexer within 2 s, renames included,
// and the indexer resumes after a node restart without losing changes.
func TestSearchFreshness(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	id := createCatalogEvent(t, n, admin, "Zanzibar Nocturne")
	eventually(t, 2*time.Second, "a new event is searchable", func() bool { return found(t, n, "zanzibar", id) })

	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+id, admin, map[string]any{"name": "Quokka Serenade"}, nil); code != 200 {
		t.Fatalf("rename: %d", code)
	}
	eventually(t, 2*time.Second, "the renamed event is found by its new name", func() bool { return found(t, n, "quokka", id) })
	if found(t, n, "zanzibar", id) {
		t.Error("the renamed event is still found by its old name")
	}

	// Restart on the same database and data dir (same index, same durable consumer).
	dataDir, db := n.cfg.DataDir, n.DB
	n.Close()
	n2 := startTestNodeOn(t, db, func(c *Config) { c.DataDir = dataDir })
	admin = n2.token(t, "admin@example.com", "admin")
	id2 := createCatalogEvent(t, n2, admin, "Xylophone Rhapsody")
	eventually(t, 3*time.Second, "an event created after the restart is searchable", func() bool { return found(t, n2, "xylophone", id2) })
	if !found(t, n2, "quokka", id) {
		t.Error("the event indexed before the restart is gone")
	}
}
