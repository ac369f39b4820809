package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

var testSecret = []byte("test-secret-0123456789abcdef-0123456789")

// harness is one API server on a real socket, over in-memory fakes, with a
// client that checks every exchange against openapi.yaml.
type harness struct {
	t        testing.TB
	srv      *api.Server
	ts       *httptest.Server
	cfg      api.Config
	catalog  *memCatalog
	bookings *memBookings
	engine   *memEngine
	feed     *memFeed
	users    *memUsers
	logs     *logRecorder
	client   *http.Client
}

type option func(*api.Config, *api.Deps)

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, catalog: newMemCatalog(), feed: newMemFeed(), logs: &logRecorder{},
		users: &memUsers{m: map[uuid.UUID]boxoffice.User{}}, client: &http.Client{Timeout: 10 * time.Second}}
	h.bookings = &memBookings{m: map[uuid.UUID]boxoffice.Booking{}}
	h.engine = &memEngine{catalog: h.catalog, bookings: h.bookings, feed: h.feed, ttl: 10 * time.Minute,
		now: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), events: map[uuid.UUID]*memEvent{}}
	cfg := api.DefaultConfig()
	cfg.Mode = api.ModeDev
	cfg.JWTSecret = testSecret
	cfg.RateIP, cfg.RateUser = api.RateConfig{}, api.RateConfig{}
	cfg.WSMaxPerIP, cfg.WSMax = 0, 0 // loopback socket tests open hundreds from one address
	cfg.WSWriteTimeout = 2 * time.Second
	cfg.Logger = slog.New(h.logs)
	deps := api.Deps{Engine: h.engine, Catalog: h.catalog, Bookings: h.bookings, Users: h.users,
		Seats: h.feed, Search: memSearch{h.catalog}, Queue: memQueue{}, Cluster: memCluster{started: h.engine.now}}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	srv, err := api.New(cfg, deps)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	h.srv, h.cfg = srv, cfg
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		h.ts.Close()
	})
	return h
}

// reply is one response, read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the code of an error reply.
func (r reply) errorCode() string {
	var b struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r reply) errorField() string {
	var b struct {
		Error struct {
			Details struct {
				Field string `json:"field"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Details.Field
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends one request (body: nil, a string or []byte sent as is, or a
// value sent as JSON; headers as name, value pairs) and checks the
// exchange against the OpenAPI document.
func (h *harness) do(method, path string, body any, headers ...string) reply {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequest(method, h.ts.URL+path, bytes.NewReader(raw))
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	rep := reply{status: resp.StatusCode, header: resp.Header, body: rb}
	checkSpec(h.t, req, raw, rep)
	return rep
}

// auth is the header pair of a bearer token.
func auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

func (h *harness) token(u boxoffice.User) string {
	h.t.Helper()
	tok, err := api.MintToken(testSecret, u, time.Hour)
	if err != nil {
		h.t.Fatalf("MintToken: %v", err)
	}
	return tok
}

func (h *harness) userToken(name string) (string, uuid.UUID) {
	u := boxoffice.User{ID: uuid.New(), Name: name, Email: name + "@example.com"}
	return h.token(u), u.ID
}

func (h *harness) adminToken() string {
	return h.token(boxoffice.User{ID: uuid.New(), Name: "root", Roles: []string{"admin"}})
}

// seedEvent creates, through the admin API, a venue with sections A
// (2 rows of 5) and B (1 row of 10), a performer and an event, and returns
// the event and its ticket IDs in seat order.
func (h *harness) seedEvent() (uuid.UUID, []uuid.UUID) {
	h.t.Helper()
	admin := auth(h.adminToken())
	v := h.do("POST", "/admin/api/venues", map[string]any{
		"name": "Olympia", "city": "Paris", "address": "28 Bd des Capucines",
		"location": map[string]any{"lat": 48.87, "lon": 2.33},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 5}, map[string]any{"name": "2", "seats": 5}}},
			map[string]any{"name": "B", "rows": []any{map[string]any{"name": "1", "seats": 10}}},
		}},
	}, admin...)
	mustStatus(h.t, v, http.StatusCreated)
	var venue struct {
		VenueID uuid.UUID `json:"venue_id"`
	}
	v.decode(h.t, &venue)
	p := h.do("POST", "/admin/api/performers", map[string]any{"name": "Daft Punk", "biography": "Robots."}, admin...)
	mustStatus(h.t, p, http.StatusCreated)
	var perf struct {
		PerformerID uuid.UUID `json:"performer_id"`
	}
	p.decode(h.t, &perf)
	e := h.do("POST", "/admin/api/events", map[string]any{
		"name": "Alive 2026", "type": "concert", "description": "One night only.",
		"starts_at": "2036-09-01T20:00:00Z", "venue_id": venue.VenueID, "performer_id": perf.PerformerID,
		"currency": "EUR", "prices": map[string]string{"A": "149.50", "B": "49"},
	}, admin...)
	mustStatus(h.t, e, http.StatusCreated)
	var ev struct {
		Event struct {
			EventID uuid.UUID `json:"event_id"`
		} `json:"event"`
		Tickets int `json:"tickets"`
	}
	e.decode(h.t, &ev)
	space := boxoffice.NewTicketSpace(ev.Event.EventID)
	ids := make([]uuid.UUID, ev.Tickets)
	for i := range ids {
		ids[i] = space.ID(i)
	}
	return ev.Event.EventID, ids
}

func mustStatus(t testing.TB, r reply, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

func wantError(t testing.TB, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.errorCode() != code {
		t.Fatalf("got %d %q, want %d %q; body %s", r.status, r.errorCode(), status, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q, want application/json", ct)
	}
}

// The OpenAPI document, loaded once for every test.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		// Ticket IDs are version-8 UUIDs (boxoffice.TicketSpace), so the
		// RFC 9562 pattern, not RFC 4122's v1-v5.
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(api.OpenAPI())
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	return specDoc, specRouter, specErr
}

// checkSpec fails the test when an exchange is not what openapi.yaml says:
// every response (status documented, body and headers valid), every
// request the server accepted, and every error's code against its status.
func checkSpec(t testing.TB, req *http.Request, reqBody []byte, rep reply) {
	t.Helper()
	if req.Method == http.MethodHead {
		return
	}
	doc, router, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if rep.status >= 400 {
		var b struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rep.body, &b); err != nil || api.StatusOf(b.Error.Code) != rep.status {
			t.Errorf("%s %s: status %d with error body %s", req.Method, req.URL.Path, rep.status, rep.body)
		}
	}
	route, params, err := router.FindRoute(req)
	switch {
	case err != nil && rep.status == http.StatusTooManyRequests:
		// The per-IP limit comes before routing.
		checkSchema(t, doc, "RateLimitedError", rep, http.StatusTooManyRequests)
		return
	case errors.Is(err, routers.ErrPathNotFound):
		checkSchema(t, doc, "NotFoundError", rep, http.StatusNotFound)
		return
	case errors.Is(err, routers.ErrMethodNotAllowed):
		checkSchema(t, doc, "MethodNotAllowedError", rep, http.StatusMethodNotAllowed)
		if rep.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", req.Method, req.URL.Path)
		}
		return
	case err != nil:
		t.Fatalf("find route %s %s: %v", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if rep.status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the server accepted a request openapi.yaml rejects: %.800s", req.Method, req.URL.Path, err.Error())
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rep.status, Header: rep.header, Options: opts}
	out.SetBodyBytes(rep.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: response does not match openapi.yaml: %.800s\nbody: %.500s", req.Method, req.URL.Path, err.Error(), rep.body)
	}
}

func checkSchema(t testing.TB, doc *openapi3.T, name string, rep reply, status int) {
	t.Helper()
	if rep.status != status {
		t.Errorf("status %d, want %d (%s); body %s", rep.status, status, name, rep.body)
	}
	var v any
	if err := json.Unmarshal(rep.body, &v); err != nil {
		t.Errorf("%s body is not JSON: %v: %s", name, err, rep.body)
		return
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(v); err != nil {
		t.Errorf("body does not match %s: %v: %s", name, err, rep.body)
	}
}

// checkFrame validates a WebSocket frame against a schema of openapi.yaml.
func checkFrame(t testing.TB, name string, frame []byte) {
	t.Helper()
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var v any
	if err := json.Unmarshal(frame, &v); err != nil {
		t.Fatalf("frame is not JSON: %v", err)
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(v); err != nil {
		t.Fatalf("frame does not match %s: %v: %.300s", name, err, frame)
	}
}

// logRecorder is a slog.Handler that keeps the messages, so tests can
// check what was logged (an internal error exactly once).
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// Short names for options.
type (
	apiConfig = api.Config
	apiDeps   = api.Deps
)
