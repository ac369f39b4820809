package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

type eventView struct {
	Event struct {
		EventID uuid.UUID `json:"event_id"`
		Name    string    `json:"name"`
	} `json:"event"`
	Venue struct {
		Capacity int `json:"capacity"`
	} `json:"venue"`
	Performer struct {
		Name string `json:"name"`
	} `json:"performer"`
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

func TestEventView(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	path := "/events/" + event.String()

	r := h.do("GET", path, nil)
	mustStatus(t, r, http.StatusOK)
	var v eventView
	r.decode(t, &v)
	if v.Event.EventID != event || v.Venue.Capacity != 20 || v.Performer.Name != "Daft Punk" || len(v.Tickets) != 20 || v.Version != 0 {
		t.Fatalf("view %.400s", r.body)
	}
	first, last := v.Tickets[0], v.Tickets[19]
	if first.TicketID != tickets[0] || first.Section != "A" || first.Row != "1" || first.Seat != 1 || first.Price != "149.50" || first.Status != "available" {
		t.Errorf("first ticket %+v", first)
	}
	if last.Section != "B" || last.Seat != 10 || last.Price != "49.00" {
		t.Errorf("last ticket %+v", last)
	}

	ada, _ := h.userToken("ada")
	b := h.reserve(ada, event, tickets[3])
	mustStatus(t, h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(ada)...), http.StatusOK)
	h.reserve(ada, event, tickets[4])
	r = h.do("GET", path, nil)
	r.decode(t, &v)
	// Versions: hold 1, pin for payment 2, sale 3, hold 4.
	if v.Version != 4 || v.Tickets[3].Status != "booked" || v.Tickets[4].Status != "reserved" || v.Tickets[5].Status != "available" {
		t.Errorf("after sale and hold: version %d, statuses %s %s %s", v.Version, v.Tickets[3].Status, v.Tickets[4].Status, v.Tickets[5].Status)
	}

	t.Run("rendered once per version", func(t *testing.T) {
		before := metricValue(t, h, "boxoffice_event_view_renders_total")
		a := h.do("GET", path, nil)
		b := h.do("GET", path, nil)
		if string(a.body) != string(b.body) {
			t.Error("two reads at one version differ")
		}
		if after := metricValue(t, h, "boxoffice_event_view_renders_total"); after != before {
			t.Errorf("renders went from %v to %v at an unchanged version", before, after)
		}
	})
	t.Run("engine down: the last view is served", func(t *testing.T) {
		want := h.do("GET", path, nil)
		h.engine.setDown(boxoffice.Errorf(boxoffice.EUnavailable, "owner unreachable"))
		defer h.engine.setDown(nil)
		got := h.do("GET", path, nil)
		mustStatus(t, got, http.StatusOK)
		if string(got.body) != string(want.body) {
			t.Error("stale view differs from the last one served")
		}
	})
	t.Run("catalog down: the cached catalog is used", func(t *testing.T) {
		h.catalog.setDown(true)
		defer h.catalog.setDown(false)
		mustStatus(t, h.do("GET", path, nil), http.StatusOK)
	})
	t.Run("unknown, malformed", func(t *testing.T) {
		wantError(t, h.do("GET", "/events/"+uuid.NewString(), nil), http.StatusNotFound, boxoffice.ENotFound)
		r := h.do("GET", "/events/not-a-uuid", nil)
		wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
		if r.errorField() != "eventId" {
			t.Errorf("field %q, want eventId", r.errorField())
		}
	})
}

func TestEventViewEngineDownCold(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	h.engine.setDown(boxoffice.Errorf(boxoffice.EUnavailable, "owner unreachable"))
	wantError(t, h.do("GET", "/events/"+event.String(), nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)

	// An engine failure nobody classified is still 503 here: the read
	// path reports the engine as unavailable, and logs the cause.
	h.engine.setDown(errors.New("grain call: deadline exceeded"))
	wantError(t, h.do("GET", "/events/"+event.String(), nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)
	if h.logs.count("deadline exceeded") != 1 {
		t.Errorf("cause logged %d times, want once", h.logs.count("deadline exceeded"))
	}
}

// metricValue reads one unlabelled sample from GET /metrics.
func metricValue(t *testing.T, h *harness, name string) string {
	t.Helper()
	r := h.do("GET", "/metrics", nil)
	mustStatus(t, r, http.StatusOK)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("metric %s not exposed", name)
	return ""
}

// TestEventViewRefresh: after the catalog TTL an unchanged event keeps its
// rendered view (one event read, no ticket reload); a changed one is
// rendered again.
func TestEventViewRefresh(t *testing.T) {
	const ttl = time.Minute
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.CatalogTTL = ttl })
	clock := &rateClock{start: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	api.SetCatalogClock(h.srv, clock.Now)
	event, _ := h.seedEvent()
	path := "/events/" + event.String()
	mustStatus(t, h.do("GET", path, nil), http.StatusOK)
	renders := h.metric(t, "boxoffice_event_view_renders_total")
	clock.Advance(ttl)
	mustStatus(t, h.do("GET", path, nil), http.StatusOK)
	if got := h.metric(t, "boxoffice_event_view_renders_total"); got != renders {
		t.Errorf("renders %s -> %s for an unchanged event", renders, got)
	}
	name := "Renamed"
	if _, err := h.catalog.UpdateEvent(context.Background(), event, api.EventPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(ttl)
	r := h.do("GET", path, nil)
	if !strings.Contains(string(r.body), `"name":"Renamed"`) {
		t.Errorf("after another node's change and the TTL: %.200s", r.body)
	}
}
