package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

func TestHealthReadyMetrics(t *testing.T) {
	ready := errors.New("store unreachable")
	h := newHarness(t, func(_ *apiConfig, d *apiDeps) {
		d.Ready = func(context.Context) error { return ready }
	})
	mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	wantError(t, h.do("GET", "/readyz", nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)
	ready = nil
	mustStatus(t, h.do("GET", "/readyz", nil), http.StatusOK)

	wantError(t, h.do("GET", "/nowhere", nil), http.StatusNotFound, boxoffice.ENotFound)
	r := h.do("GET", "/metrics", nil)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{
		`boxoffice_http_requests_total{code="200",route="GET /healthz"} 1`,
		`boxoffice_http_requests_total{code="503",route="GET /readyz"} 1`,
		`boxoffice_http_requests_total{code="404",route="unmatched"} 1`,
		`boxoffice_http_request_duration_seconds_bucket{code="200",route="GET /healthz",le=`,
		`boxoffice_ws_clients 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestIndexAndWebPlug(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/", nil)
	mustStatus(t, r, http.StatusOK)
	var idx struct {
		Links map[string]string `json:"links"`
	}
	r.decode(t, &idx)
	if idx.Links["openapi"] != "/openapi.yaml" || idx.Links["token"] != "/auth/token" {
		t.Errorf("index %s", r.body)
	}
	wantError(t, h.do("GET", "/admin/", nil), http.StatusNotFound, boxoffice.ENotFound)

	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<p>%s</p>", r.URL.Path)
	})
	wh := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Web = web })
	for _, path := range []string{"/", "/admin/", "/door/", "/static/app.js"} {
		r := wh.do("GET", path, nil)
		if r.status != http.StatusOK || string(r.body) != "<p>"+path+"</p>" {
			t.Errorf("GET %s = %d %s, want the web plug", path, r.status, r.body)
		}
	}
	wantError(t, wh.do("GET", "/admin/api/nothing", nil), http.StatusNotFound, boxoffice.ENotFound)
	wantError(t, wh.do("GET", "/index.html", nil), http.StatusNotFound, boxoffice.ENotFound)
}

func TestSearchPlug(t *testing.T) {
	h := newHarness(t)
	h.seedEvent()
	r := h.do("GET", "/search?q=alive", nil)
	mustStatus(t, r, http.StatusOK)
	var s struct {
		Total int `json:"total"`
	}
	r.decode(t, &s)
	if s.Total != 1 {
		t.Errorf("search %s", r.body)
	}
	r = h.do("GET", "/search?page=zero", nil)
	wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
	if r.errorField() != "page" {
		t.Errorf("field %q", r.errorField())
	}
	none := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Search = nil })
	wantError(t, none.do("GET", "/search?q=x", nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)
}

func TestQueueAbsent(t *testing.T) {
	h := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Queue = nil })
	event, tickets := h.seedEvent()
	wantError(t, h.do("POST", "/events/"+event.String()+"/queue", nil), http.StatusNotFound, boxoffice.ENotFound)
	mustStatus(t, h.do("PATCH", "/admin/api/events/"+event.String(),
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 5}}, auth(h.adminToken())...), http.StatusOK)
	ada, _ := h.userToken("ada")
	h.reserve(ada, event, tickets[0]) // no waiting room plugged: everyone is admitted
}

// TestErrorTable checks every API code's status and body shape, and that
// details appear only where API.md promises them.
func TestErrorTable(t *testing.T) {
	table := map[string]int{
		boxoffice.EInvalid: 400, boxoffice.EUnauthenticated: 401, boxoffice.EForbidden: 403,
		boxoffice.EQueueRequired: 403, boxoffice.ENotFound: 404, boxoffice.ESeatUnavailable: 409,
		boxoffice.EHoldExpired: 409, boxoffice.EBookingState: 409, boxoffice.EPaymentFailed: 402,
		boxoffice.ETooLarge: 413, boxoffice.ERateLimited: 429, boxoffice.EUnavailable: 503,
		boxoffice.EMethodNotAllow: 405, boxoffice.EInternal: 500,
	}
	for code, status := range table {
		t.Run(code, func(t *testing.T) {
			err := &boxoffice.Error{Code: code, Message: "m", Details: map[string]any{"field": "f", "ticket_ids": []string{"x"}, "secret": 1}}
			rec := httptest.NewRecorder()
			api.WriteError(rec, fmt.Errorf("wrapped: %w", err))
			if rec.Code != status || api.StatusOf(code) != status {
				t.Errorf("status %d, want %d", rec.Code, status)
			}
			if got := rec.Header().Get("Retry-After"); (code == boxoffice.ERateLimited) != (got != "") {
				t.Errorf("Retry-After %q on %s", got, code)
			}
			var body struct {
				Error struct {
					Code    string         `json:"code"`
					Message string         `json:"message"`
					Details map[string]any `json:"details"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != code {
				t.Fatalf("body %s", rec.Body)
			}
			switch code {
			case boxoffice.EInvalid:
				if len(body.Error.Details) != 1 || body.Error.Details["field"] != "f" {
					t.Errorf("details %v, want only field", body.Error.Details)
				}
			case boxoffice.ESeatUnavailable:
				if len(body.Error.Details) != 1 || body.Error.Details["ticket_ids"] == nil {
					t.Errorf("details %v, want only ticket_ids", body.Error.Details)
				}
			case boxoffice.EInternal:
				if body.Error.Message != "internal error" || body.Error.Details != nil {
					t.Errorf("internal shows %q %v", body.Error.Message, body.Error.Details)
				}
			default:
				if body.Error.Details != nil {
					t.Errorf("details %v on %s", body.Error.Details, code)
				}
			}
		})
	}
	t.Run("foreign errors and unknown codes are internal", func(t *testing.T) {
		for _, err := range []error{errors.New("pq: connection refused"), &boxoffice.Error{Code: "teapot", Message: "x"}} {
			rec := httptest.NewRecorder()
			api.WriteError(rec, err)
			if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"message":"internal error"`) || strings.Contains(rec.Body.String(), "pq:") {
				t.Errorf("%v -> %d %s", err, rec.Code, rec.Body)
			}
		}
	})
	t.Run("400 without a field names the body", func(t *testing.T) {
		rec := httptest.NewRecorder()
		api.WriteError(rec, boxoffice.Errorf(boxoffice.EInvalid, "bad"))
		if !strings.Contains(rec.Body.String(), `"details":{"field":"body"}`) {
			t.Errorf("body %s", rec.Body)
		}
	})
}

// panicEngine is a seat engine with a bug.
type panicEngine struct{ *memEngine }

func (panicEngine) Reserve(context.Context, boxoffice.ReserveRequest) (boxoffice.Booking, error) {
	panic("index out of range")
}

func TestInternalErrors(t *testing.T) {
	t.Run("a foreign error is logged once and shown as internal", func(t *testing.T) {
		h := newHarness(t)
		event, tickets := h.seedEvent()
		ada, _ := h.userToken("ada")
		h.engine.setDown(errors.New("journal: disk on fire"))
		r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[:1]}, auth(ada)...)
		wantError(t, r, http.StatusInternalServerError, boxoffice.EInternal)
		if strings.Contains(string(r.body), "disk") {
			t.Errorf("cause leaked: %s", r.body)
		}
		if n := h.logs.count("disk on fire"); n != 1 {
			t.Errorf("cause logged %d times, want 1", n)
		}
	})
	t.Run("a panic is a logged 500 and the node keeps serving", func(t *testing.T) {
		h := newHarness(t)
		event, tickets := h.seedEvent()
		h2 := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Engine = panicEngine{h.engine}; d.Catalog = h.catalog })
		ada, _ := h2.userToken("ada")
		r := h2.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[:1]}, auth(ada)...)
		wantError(t, r, http.StatusInternalServerError, boxoffice.EInternal)
		if h2.logs.count("index out of range") != 1 {
			t.Error("panic not logged once")
		}
		mustStatus(t, h2.do("GET", "/healthz", nil), http.StatusOK)
	})
}
