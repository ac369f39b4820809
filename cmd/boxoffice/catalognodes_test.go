package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/api"
	"github.com/stretchr/testify/require"
)

// publicEvent is the catalog half of GET /events/{id} these tests read.
type publicEvent struct {
	Event struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		StartsAt    string `json:"starts_at"`
	} `json:"event"`
}

// getPublicEvent reads GET /events/{id} through n.
func getPublicEvent(t *testing.T, n *testNode, id string) publicEvent {
	t.Helper()
	var e publicEvent
	if code := n.call(t, http.MethodGet, "/events/"+id, "", nil, &e); code != http.StatusOK {
		t.Fatalf("GET /events/%s on %s: %d", id, n.name, code)
	}
	return e
}

// untilDeadline polls cond until it holds, failing the test once deadline passes.
func untilDeadline(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not by %s: %s", deadline.Format(time.RFC3339Nano), what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestAdminChangeReachesEveryNode: two real nodes on one PostgreSQL. Both
// have served an event (so both cache its catalog half); an admin renames
// it, changes its description and moves its start through node A. A's next
// GET /events/{id} shows the change at once (the PATCH forgets A's copy);
// B shows it once the catalog stream tells it, before B's copy would have
// run out by its age (api.Config.CatalogTTL, counted from B's first read),
// so it is the stream that made B forget, not the TTL; search on both
// nodes finds the event by its new name only.
func TestAdminChangeReachesEveryNode(t *testing.T) {
	tc := startCluster(t, 2)
	a, b := tc.nodes[0], tc.nodes[1]
	admin := a.token(t, "admin@example.com", "admin")
	id := createCatalogEvent(t, a, admin, "Ocelot Cantata")
	for _, n := range tc.nodes {
		require.Eventually(t, func() bool { return found(t, n, "ocelot", id) }, searchCatchUp, 25*time.Millisecond, "the new event is searchable on "+n.name)
	}
	if e := getPublicEvent(t, a, id); e.Event.Name != "Ocelot Cantata" {
		t.Fatalf("%s names the new event %q", a.name, e.Event.Name)
	}
	cachedOnB := time.Now() // B's copy is loaded by the read below, not before
	old := getPublicEvent(t, b, id)
	if old.Event.Name != "Ocelot Cantata" {
		t.Fatalf("%s names the new event %q", b.name, old.Event.Name)
	}

	startsAt := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	want := publicEvent{}
	want.Event.Name, want.Event.Description = "Pangolin Requiem", "moved and renamed"
	if code := a.call(t, http.MethodPatch, "/admin/api/events/"+id, admin, map[string]any{"name": want.Event.Name,
		"description": want.Event.Description, "starts_at": startsAt.Format(time.RFC3339)}, nil); code != http.StatusOK {
		t.Fatalf("PATCH /admin/api/events/%s on %s: %d", id, a.name, code)
	}
	same := func(e publicEvent) bool {
		at, err := time.Parse(time.RFC3339, e.Event.StartsAt)
		return e.Event.Name == want.Event.Name && e.Event.Description == want.Event.Description && err == nil && at.Equal(startsAt)
	}
	if e := getPublicEvent(t, a, id); !same(e) {
		t.Errorf("%s right after its own PATCH: %+v, want %+v starting at %s", a.name, e.Event, want.Event, startsAt)
	}
	ttl := api.DefaultConfig().CatalogTTL
	untilDeadline(t, cachedOnB.Add(ttl), fmt.Sprintf("%s shows the change before its cached copy is %s old", b.name, ttl), func() bool {
		return same(getPublicEvent(t, b, id))
	})
	for _, n := range tc.nodes {
		require.Eventually(t, func() bool { return found(t, n, "pangolin", id) }, searchCatchUp, 25*time.Millisecond, "search on "+n.name+" finds the new name")
		if found(t, n, "ocelot", id) {
			t.Errorf("search on %s still finds the event by its old name", n.name)
		}
	}
}

// availableInView counts the available tickets of GET /events/{id} on n.
func availableInView(t *testing.T, n *testNode, id string) int {
	t.Helper()
	var v eventView
	if code := n.call(t, http.MethodGet, "/events/"+id, "", nil, &v); code != http.StatusOK {
		t.Fatalf("GET /events/%s on %s: %d", id, n.name, code)
	}
	k := 0
	for _, tk := range v.Tickets {
		if tk.Status == "available" {
			k++
		}
	}
	return k
}

// TestSearchAvailabilityOnEveryNode: two real nodes; holds, a sale and a
// release made through node A reach available_seats in GET /search and the
// seat statuses of GET /events/{id} on both nodes (one of which does not
// own the event), step by step.
func TestSearchAvailabilityOnEveryNode(t *testing.T) {
	tc := startCluster(t, 2)
	a := tc.nodes[0]
	admin := a.token(t, "admin@example.com", "admin")
	id := createCatalogEvent(t, a, admin, "Axolotl Fugue")
	s, code := statsOf(t, a, admin, id)
	if code != http.StatusOK {
		t.Fatalf("stats: %d", code)
	}
	t.Logf("%s owns the event", s.NodeID)
	tickets := ticketsOf(t, a, id)
	if len(tickets) != 10 {
		t.Fatalf("the event has %d tickets, want 10", len(tickets))
	}
	converge := func(want int, after string) {
		t.Helper()
		for _, n := range tc.nodes {
			require.Eventually(t, func() bool {
				return availableSeats(t, n, "axolotl", id) == want
			}, searchCatchUp, 25*time.Millisecond, fmt.Sprintf("search on %s shows %d available after %s", n.name, want, after))
			require.Eventually(t, func() bool {
				return availableInView(t, n, id) == want
			}, searchCatchUp, 25*time.Millisecond, fmt.Sprintf("GET /events on %s shows %d available after %s", n.name, want, after))
		}
	}
	converge(10, "the event was created")

	ann, ben := a.token(t, "ann@example.com"), a.token(t, "ben@example.com")
	held := reserveSeatsOK(t, a, ann, id, tickets[0:3])
	converge(7, "a hold of 3")
	confirmOK(t, a, ben, reserveSeatsOK(t, a, ben, id, tickets[3:5]))
	converge(5, "a sale of 2")
	if code := a.call(t, http.MethodDelete, "/booking/"+held, ann, nil, nil); code != http.StatusOK {
		t.Fatalf("release: %d", code)
	}
	converge(8, "the hold of 3 was released")
}
