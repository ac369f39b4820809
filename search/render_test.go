package search_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func TestRenderJSONShape(t *testing.T) {
	ix := catalogIndex(t)
	ix.SetAvailability(idOf("hamlet"), 42, 1)
	r := mustSearch(t, ix, search.Query{Text: "hamlet"})
	var body map[string]any
	if err := json.Unmarshal(search.RenderJSON(r), &body); err != nil {
		t.Fatal(err)
	}
	equalKeys(t, "top level", keys(body), []string{"page", "page_size", "results", "total"})
	if body["total"] != 1.0 || body["page"] != 1.0 || body["page_size"] != 20.0 {
		t.Errorf("paging fields: %v", body)
	}
	results := body["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("results: %v", results)
	}
	ev := results[0].(map[string]any)
	equalKeys(t, "PartialEvent", keys(ev), []string{"available_seats", "currency", "event_id", "min_price", "name", "performer", "sale_ends_at", "starts_at", "status", "type", "venue"})
	venue := ev["venue"].(map[string]any)
	equalKeys(t, "venue", keys(venue), []string{"city", "location", "name", "venue_id"})
	equalKeys(t, "location", keys(venue["location"].(map[string]any)), []string{"lat", "lon"})
	equalKeys(t, "performer", keys(ev["performer"].(map[string]any)), []string{"name", "performer_id"})

	want := map[string]any{
		"event_id": idOf("hamlet").String(), "name": "Hamlet", "type": "theater",
		"starts_at": "2027-02-10T19:30:00Z", "min_price": "49.50", "currency": "EUR",
		"available_seats": 42.0, "status": "on-sale", "sale_ends_at": "2027-02-10T19:30:00Z",
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %#v, want %#v", k, ev[k], v)
		}
	}
	if venue["city"] != "London" || venue["name"] != "National Theatre" || venue["venue_id"] != idOf("venue/National Theatre").String() {
		t.Errorf("venue = %v", venue)
	}
	if loc := venue["location"].(map[string]any); loc["lat"] != 51.507 || loc["lon"] != -0.1143 {
		t.Errorf("location = %v", loc)
	}
}

func TestRenderJSONEmpty(t *testing.T) {
	ix := catalogIndex(t)
	r := mustSearch(t, ix, search.Query{Text: "xylophonist"})
	if got, want := string(search.RenderJSON(r)), `{"total":0,"page":1,"page_size":20,"results":[]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestRenderStatus: a result's status follows its sale window, start,
// cancellation and availability at the time of the search.
func TestRenderStatus(t *testing.T) {
	now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	base := boxoffice.Listing{EventID: uuid.New(), Name: "X", Type: "concert", StartsAt: now.Add(48 * time.Hour),
		SaleStartsAt: now.Add(-time.Hour)}
	cases := []struct {
		name  string
		edit  func(*boxoffice.Listing)
		avail int
		want  string
	}{
		{"on sale", func(*boxoffice.Listing) {}, 5, "on-sale"},
		{"sold out", func(*boxoffice.Listing) {}, 0, "sold-out"},
		{"scheduled", func(l *boxoffice.Listing) { l.SaleStartsAt = now.Add(time.Hour) }, 5, "scheduled"},
		{"sale ended", func(l *boxoffice.Listing) { l.SaleEndsAt = now.Add(-time.Minute) }, 5, "sale-ended"},
		{"started", func(l *boxoffice.Listing) { l.StartsAt = now.Add(-time.Minute) }, 5, "sale-ended"},
		{"cancelled", func(l *boxoffice.Listing) { l.Cancelled = true }, 5, "cancelled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := base
			tc.edit(&l)
			r := search.NewResponse(search.Result{Hits: []boxoffice.Listing{l}, Available: []int{tc.avail}, At: now})
			if got := r.Results[0].Status; got != tc.want {
				t.Fatalf("status %q, want %q", got, tc.want)
			}
		})
	}
}
