package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/boxoffice/boxoffice/api"
)

// TestRequestID: a client's acceptable id comes back in the header, the
// error body and the access log line; a too long or unprintable one is
// replaced by a generated one (API.md "Request ids").
func TestRequestID(t *testing.T) {
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"none", "", false},
		{"own", "req-abc-123", true},
		{"max length", strings.Repeat("x", 128), true},
		{"too long", strings.Repeat("x", 129), false},
		{"tab", "a\tb", false},
		{"non-ascii", "caf\u00e9", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			var hdr []string
			if c.sent != "" {
				hdr = []string{api.RequestIDHeader, c.sent}
			}
			rep := h.do("GET", "/no/such/route", nil, hdr...)
			wantError(t, rep, http.StatusNotFound, "not_found")
			got := rep.header.Get(api.RequestIDHeader)
			switch {
			case c.kept && got != c.sent:
				t.Fatalf("X-Request-Id = %q, want the client's %q", got, c.sent)
			case !c.kept && (got == c.sent || len(got) != 32):
				t.Fatalf("X-Request-Id = %q, want a generated one", got)
			}
			var body struct {
				Error struct {
					RequestID string `json:"request_id"`
				} `json:"error"`
			}
			rep.decode(t, &body)
			if body.Error.RequestID != got {
				t.Fatalf("error.request_id = %q, want the header's %q", body.Error.RequestID, got)
			}
			line := "request_id=" + got
			if n := h.logs.count(line); n != 1 {
				t.Fatalf("%d log lines name %s, want the access line: %q", n, line, h.logs.msgs)
			}
			if n := h.logs.count("route=unmatched status=404"); n != 1 {
				t.Fatalf("access line with route and status: %d, logs %q", n, h.logs.msgs)
			}
		})
	}
}

// TestAccessLogUser: the access line of an authenticated request names
// the user, and a success carries the request id header too.
func TestAccessLogUser(t *testing.T) {
	h := newHarness(t)
	tok, uid := h.userToken("ann")
	rep := h.do("GET", "/user/bookings", nil, auth(tok)...)
	mustStatus(t, rep, http.StatusOK)
	if rep.header.Get(api.RequestIDHeader) == "" {
		t.Fatal("no X-Request-Id on a 200")
	}
	if n := h.logs.count("route=GET /user/bookings status=200"); n != 1 {
		t.Fatalf("access lines: %d, logs %q", n, h.logs.msgs)
	}
	if n := h.logs.count("user=" + uid.String()); n != 1 {
		t.Fatalf("access line without the user: %q", h.logs.msgs)
	}
}

// TestLogLevelRoute: PUT /admin/api/log-level changes the level in force;
// only an admin may, and only to a known level.
func TestLogLevelRoute(t *testing.T) {
	lv := new(slog.LevelVar)
	h := newHarness(t, func(c *api.Config, _ *api.Deps) { c.LogLevel = lv })
	admin := auth(h.adminToken())
	rep := h.do("PUT", "/admin/api/log-level", map[string]string{"level": "debug"}, admin...)
	mustStatus(t, rep, http.StatusOK)
	if lv.Level() != slog.LevelDebug {
		t.Fatalf("level = %v, want debug", lv.Level())
	}
	rep = h.do("GET", "/admin/api/log-level", nil, admin...)
	if !strings.Contains(string(rep.body), `"debug"`) {
		t.Fatalf("GET level: %s", rep.body)
	}
	wantError(t, h.do("PUT", "/admin/api/log-level", map[string]string{"level": "loud"}, admin...), http.StatusBadRequest, "invalid_argument")
	tok, _ := h.userToken("bob")
	wantError(t, h.do("PUT", "/admin/api/log-level", map[string]string{"level": "error"}, auth(tok)...), http.StatusForbidden, "forbidden")
	if lv.Level() != slog.LevelDebug {
		t.Fatalf("level = %v after refused changes, want debug", lv.Level())
	}
}

// TestLatencyExemplars: a traced request's latency observation carries
// its trace id, shown in the OpenMetrics exposition of /metrics, and its
// access log line names the trace.
func TestLatencyExemplars(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := newHarness(t, func(c *api.Config, _ *api.Deps) { c.TracerProvider = tp; c.MetricsOnAPI = true })
	mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	var traceID string
	for _, s := range spans.Ended() {
		if s.Name() == "GET /healthz" {
			traceID = s.SpanContext().TraceID().String()
		}
	}
	if traceID == "" {
		t.Fatalf("no server span named after the route; spans: %d", len(spans.Ended()))
	}
	if n := h.logs.count("route=GET /healthz status=200"); n != 1 || h.logs.count("trace_id="+traceID) != 1 {
		t.Fatalf("the access line does not name the trace %s: %q", traceID, h.logs.msgs)
	}
	req, _ := http.NewRequest("GET", h.ts.URL+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `trace_id="` + traceID + `"`
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "boxoffice_http_request_duration_seconds_bucket{") && strings.Contains(l, `route="GET /healthz"`) && strings.Contains(l, want) {
			return
		}
	}
	t.Fatalf("no latency bucket of GET /healthz carries %s:\n%s", want, b)
}
