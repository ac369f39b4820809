package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// orgFixture is what one organisation built through the API as its
// organiser: a venue, a performer, an event on them, a webhook.
type orgFixture struct {
	org                              uuid.UUID
	token                            string
	venue, performer, event, webhook string
	bookingToken, booking, email     string
}

// organiserToken is a development token with the organiser role for org.
func (n *testNode) organiserToken(t testing.TB, email string, org uuid.UUID) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]any{"email": email, "roles": []string{"organiser"}, "org_id": org}
	if code := n.call(t, http.MethodPost, "/auth/token", "", body, &out); code != http.StatusOK {
		t.Fatalf("POST /auth/token (organiser): %d", code)
	}
	return out.Token
}

// buildOrg has an organiser create its organisation's catalog and, with
// booking, a confirmed booking on its event.
func buildOrg(t *testing.T, n *testNode, name string, booking bool) orgFixture {
	t.Helper()
	f := orgFixture{org: uuid.New()}
	f.token = n.organiserToken(t, "boss@"+name+".example", f.org)
	var v struct {
		VenueID string `json:"venue_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/venues", f.token, map[string]any{
		"name": name + " Hall", "city": "Leeds", "location": map[string]any{"lat": 53.8, "lon": -1.5},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 6}}}}},
	}, &v); code != http.StatusCreated {
		t.Fatalf("%s: create venue: %d", name, code)
	}
	var p struct {
		PerformerID string `json:"performer_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/performers", f.token, map[string]any{"name": name + " Band"}, &p); code != http.StatusCreated {
		t.Fatalf("%s: create performer: %d", name, code)
	}
	f.venue, f.performer = v.VenueID, p.PerformerID
	var e struct {
		Event struct {
			EventID string `json:"event_id"`
		} `json:"event"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/events", f.token, eventBody(name, f.venue, f.performer, ""), &e); code != http.StatusCreated {
		t.Fatalf("%s: create event: %d", name, code)
	}
	f.event = e.Event.EventID
	var w struct {
		WebhookID string `json:"webhook_id"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/webhooks", f.token,
		map[string]any{"url": "http://127.0.0.1:9/" + name, "events": []string{"event.cancelled"}}, &w); code != http.StatusCreated {
		t.Fatalf("%s: create webhook: %d", name, code)
	}
	f.webhook = w.WebhookID
	if !booking {
		return f
	}

	f.email = "fan@" + name + ".example"
	f.bookingToken = n.token(t, f.email)
	ids := n.ticketIDs(t, uuid.MustParse(f.event))
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", f.bookingToken, map[string]any{"event_id": f.event, "ticket_ids": ids[:1]}, &held); code != http.StatusCreated {
		t.Fatalf("%s: reserve: %d", name, code)
	}
	if status, code := n.confirmWithKey(t, f.bookingToken, "buy-"+held.BookingID, held.BookingID); status != http.StatusOK {
		t.Fatalf("%s: confirm: %d %s", name, status, code)
	}
	f.booking = held.BookingID
	return f
}

func eventBody(name, venue, performer, org string) map[string]any {
	b := map[string]any{"name": name + " Live", "type": "concert", "starts_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"venue_id": venue, "performer_id": performer, "currency": "EUR", "prices": map[string]string{"A": "10.00"}}
	if org != "" {
		b["org_id"] = org
	}
	return b
}

// adminRoutePattern finds the admin routes the API registers: every
// "METHOD /admin/api/..." pattern in api's sources.
var adminRoutePattern = regexp.MustCompile(`"((?:GET|POST|PUT|PATCH|DELETE) /admin/api/[^"]*)"`)

// registeredAdminRoutes reads api/*.go (not tests) for admin patterns, so
// that a route added without an entry in the table below fails the test.
func registeredAdminRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "api", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("api sources: %v", err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range adminRoutePattern.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// orgRoute is one admin route as an organiser of A sees it. Kinds:
//   - scoped: B's resource is 403 forbidden, A's own is own (2xx);
//   - node: node-wide, 403 for every organiser, admin gets own;
//   - own: acts only within the caller's organisation by construction
//     (nothing of B's to name): A's own is own;
//   - list: 200 for both, showing A's and never B's.
type orgRoute struct {
	route string
	kind  string
	path  func(f orgFixture) string
	body  func(f orgFixture) any
	own   int
}

// TestOrganiserScopeEveryAdminRoute: on a real node, an organiser of A
// gets 403 forbidden (API.md's error body) for B's resources on every
// admin route, and 2xx on its own; node-wide routes are admin-only; the
// lists show A nothing of B's. The table must name every admin route the
// API registers.
func TestOrganiserScopeEveryAdminRoute(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "root@example.com", "admin")
	a, b := buildOrg(t, n, "alpha", true), buildOrg(t, n, "beta", true)
	ev := func(f orgFixture) string { return "/admin/api/events/" + f.event }
	fixed := func(p string) func(orgFixture) string { return func(orgFixture) string { return p } }
	table := []orgRoute{
		{"GET /admin/api/cluster", "node", fixed("/admin/api/cluster"), nil, 200},
		{"GET /admin/api/metrics", "node", fixed("/admin/api/metrics"), nil, 200},
		{"GET /admin/api/log-level", "node", fixed("/admin/api/log-level"), nil, 200},
		{"PUT /admin/api/log-level", "node", fixed("/admin/api/log-level"), func(orgFixture) any { return map[string]any{"level": "error"} }, 200},
		// A node that is not there: the admin's 404 shows the route ran,
		// without draining the test's node.
		{"POST /admin/api/nodes/{nodeId}/drain", "node", fixed("/admin/api/nodes/no-such-node/drain"), nil, 404},
		{"GET /admin/api/events/{eventId}", "scoped", ev, nil, 200},
		{"PATCH /admin/api/events/{eventId}", "scoped", ev, func(orgFixture) any { return map[string]any{"description": "edited"} }, 200},
		{"POST /admin/api/events/{eventId}/scanners", "scoped", func(f orgFixture) string { return ev(f) + "/scanners" },
			func(orgFixture) any { return map[string]any{"email": "door@example.com"} }, 201},
		{"POST /admin/api/events", "scoped", fixed("/admin/api/events"),
			// B's venue and performer are not A's to build on.
			func(f orgFixture) any { return eventBody("more", f.venue, f.performer, "") }, 201},
		{"POST /admin/api/venues", "scoped", fixed("/admin/api/venues"), func(f orgFixture) any {
			return map[string]any{"name": "Annex", "city": "York", "location": map[string]any{"lat": 1, "lon": 1}, "org_id": f.org,
				"seat_map": map[string]any{"sections": []any{map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 2}}}}}}
		}, 201},
		{"POST /admin/api/performers", "scoped", fixed("/admin/api/performers"),
			func(f orgFixture) any { return map[string]any{"name": "Support act", "org_id": f.org} }, 201},
		{"PATCH /admin/api/venues/{venueId}", "scoped", func(f orgFixture) string { return "/admin/api/venues/" + f.venue },
			func(orgFixture) any { return map[string]any{"city": "Bradford"} }, 200},
		{"PATCH /admin/api/performers/{performerId}", "scoped", func(f orgFixture) string { return "/admin/api/performers/" + f.performer },
			func(orgFixture) any { return map[string]any{"biography": "Loud."} }, 200},
		// A webhook names no organisation: it is the caller's by
		// construction (B's stay out of A's list below).
		{"POST /admin/api/webhooks", "own", fixed("/admin/api/webhooks"),
			func(orgFixture) any {
				return map[string]any{"url": "http://127.0.0.1:9/own", "events": []string{"booking.refunded"}}
			}, 201},
		{"GET /admin/api/webhooks", "list", fixed("/admin/api/webhooks"), nil, 200},
		{"GET /admin/api/events", "list", fixed("/admin/api/events"), nil, 200},
		{"GET /admin/api/venues", "list", fixed("/admin/api/venues"), nil, 200},
		{"GET /admin/api/performers", "list", fixed("/admin/api/performers"), nil, 200},
		{"GET /admin/api/audit", "list", fixed("/admin/api/audit"), nil, 200},
		{"GET /admin/api/events/{eventId}/report", "scoped", func(f orgFixture) string { return ev(f) + "/report" }, nil, 200},
		// Last: the event is cancelled for good.
		{"POST /admin/api/events/{eventId}/cancel", "scoped", func(f orgFixture) string { return ev(f) + "/cancel" }, nil, 200},
	}
	var listed []string
	for _, r := range table {
		listed = append(listed, r.route)
	}
	for _, r := range registeredAdminRoutes(t) {
		if !slices.Contains(listed, r) {
			t.Errorf("admin route %q has no entry in the organiser table: say what an organiser of another organisation gets", r)
		}
	}
	for _, r := range listed {
		if !slices.Contains(registeredAdminRoutes(t), r) {
			t.Errorf("table entry %q is not a registered route", r)
		}
	}

	for _, r := range table {
		method, _, _ := strings.Cut(r.route, " ")
		body := func(f orgFixture) any {
			if r.body == nil {
				return nil
			}
			return r.body(f)
		}
		t.Run(r.route, func(t *testing.T) {
			switch r.kind {
			case "scoped":
				wantForbidden(t, n, method, r.path(b), a.token, body(b))
				fallthrough
			case "own":
				if code := n.call(t, method, r.path(a), a.token, body(a), nil); code != r.own {
					t.Errorf("organiser A on its own: %d, want %d", code, r.own)
				}
			case "node":
				wantForbidden(t, n, method, r.path(a), a.token, body(a))
				if code := n.call(t, method, r.path(a), admin, body(a), nil); code != r.own {
					t.Errorf("admin: %d, want %d", code, r.own)
				}
			case "list":
				var raw map[string]any
				if code := n.call(t, method, r.path(a), a.token, nil, &raw); code != r.own {
					t.Fatalf("organiser A: %d, want %d", code, r.own)
				}
				text := fmt.Sprint(raw)
				for _, id := range []string{b.event, b.venue, b.performer, b.webhook, b.org.String()} {
					if strings.Contains(text, id) {
						t.Errorf("organiser A sees B's %s: %.300s", id, text)
					}
				}
				if code := n.call(t, method, r.path(a), admin, nil, nil); code != r.own {
					t.Errorf("admin: %d, want %d", code, r.own)
				}
			default:
				t.Fatalf("kind %q", r.kind)
			}
		})
	}

	// The lists show A its own things.
	var events struct {
		Events []struct {
			Event struct {
				EventID string `json:"event_id"`
			} `json:"event"`
			OrgID string `json:"org_id"`
		} `json:"events"`
	}
	if code := n.call(t, http.MethodGet, "/admin/api/events", a.token, nil, &events); code != 200 || len(events.Events) != 2 {
		t.Fatalf("A's events: %d %+v, want its 2", code, events)
	}
	for _, e := range events.Events {
		if e.OrgID != a.org.String() {
			t.Errorf("A's list has %+v", e)
		}
	}

	// Refunds: B's organiser may not refund A's buyer; A's may, at any time.
	wantForbidden(t, n, http.MethodPost, "/booking/"+a.booking+"/refund", b.token, nil)
	// (A's event is cancelled above, which refunds its bookings itself; B's
	// is not, so A and B swap roles here.)
	wantForbidden(t, n, http.MethodPost, "/booking/"+b.booking+"/refund", a.token, nil)
	if code := n.call(t, http.MethodPost, "/booking/"+b.booking+"/refund", b.token, nil, nil); code != http.StatusOK {
		t.Fatalf("B refunds its buyer: %d", code)
	}

	checkAudit(t, n, admin, a, b)
	checkWebhookTargets(t, n, admin, a)
}

type auditPage struct {
	Entries []struct {
		ID         int64          `json:"id"`
		At         string         `json:"at"`
		ActorID    string         `json:"actor_id"`
		OrgID      string         `json:"org_id"`
		Action     string         `json:"action"`
		TargetType string         `json:"target_type"`
		TargetID   string         `json:"target_id"`
		Before     map[string]any `json:"before"`
		After      map[string]any `json:"after"`
	} `json:"entries"`
	NextCursor string `json:"next_cursor"`
}

// checkAudit reads the audit log the table's actions wrote: A sees its own
// organisation's entries only (paged), with before and after; the admin
// sees B's too.
func checkAudit(t *testing.T, n *testNode, admin string, a, b orgFixture) {
	t.Helper()
	var all []string
	cursor := ""
	for range 100 {
		var p auditPage
		path := "/admin/api/audit?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := n.call(t, http.MethodGet, path, a.token, nil, &p); code != http.StatusOK || len(p.Entries) > 3 {
			t.Fatalf("audit page: %d, %d entries", code, len(p.Entries))
		}
		for _, e := range p.Entries {
			if e.OrgID != a.org.String() {
				t.Errorf("A reads an entry of org %q: %+v", e.OrgID, e)
			}
			all = append(all, e.Action)
			if e.Action == "PATCH /admin/api/events/{eventId}" {
				if e.TargetID != a.event || e.Before["description"] == "edited" || e.After["description"] != "edited" {
					t.Errorf("event edit entry: %+v", e)
				}
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	for _, want := range []string{"POST /admin/api/venues", "POST /admin/api/events", "PATCH /admin/api/events/{eventId}",
		"POST /admin/api/events/{eventId}/cancel", "PATCH /admin/api/venues/{venueId}", "POST /admin/api/webhooks",
		"POST /admin/api/events/{eventId}/scanners", "POST /booking/{bookingId}/refund"} {
		if want == "POST /booking/{bookingId}/refund" {
			continue // B's refund is B's entry
		}
		if !slices.Contains(all, want) {
			t.Errorf("A's audit log lacks %q: %v", want, all)
		}
	}
	if slices.Contains(all, "GET /admin/api/events") {
		t.Errorf("reads are not actions: %v", all)
	}
	var p auditPage
	if code := n.call(t, http.MethodGet, "/admin/api/audit?limit=200", admin, nil, &p); code != http.StatusOK {
		t.Fatalf("admin audit: %d", code)
	}
	orgs := map[string]bool{}
	refund := false
	for _, e := range p.Entries {
		orgs[e.OrgID] = true
		refund = refund || (e.Action == "POST /booking/{bookingId}/refund" && e.TargetID == b.booking && e.OrgID == b.org.String() &&
			e.Before["status"] == "confirmed" && e.After["status"] == "refunded")
	}
	if !orgs[a.org.String()] || !orgs[b.org.String()] || !orgs[""] || !refund {
		t.Errorf("admin's audit log: orgs %v, B's refund entry %v", orgs, refund)
	}
	if code := n.call(t, http.MethodGet, "/admin/api/audit?cursor=forged", a.token, nil, nil); code != http.StatusBadRequest {
		t.Errorf("forged cursor: %d, want 400", code)
	}
}

// checkWebhookTargets: an organiser's webhook may not point into the
// node's network (outside BOXOFFICE_WEBHOOK_ALLOW_CIDRS, which the tests
// set to loopback); an admin's may.
func checkWebhookTargets(t *testing.T, n *testNode, admin string, a orgFixture) {
	t.Helper()
	for _, u := range []string{"http://10.1.2.3/x", "http://192.168.0.1:8080/x", "http://169.254.169.254/latest/meta-data",
		"http://[fd00::1]/x", "http://0.0.0.0/x", "http://100.64.0.1/x", "http://[::ffff:10.0.0.1]/x"} {
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		code := n.call(t, http.MethodPost, "/admin/api/webhooks", a.token, map[string]any{"url": u, "events": []string{"event.cancelled"}}, &e)
		if code != http.StatusBadRequest || e.Error.Code != "invalid_argument" || e.Error.Details["field"] != "url" {
			t.Errorf("organiser webhook to %s: %d %+v, want 400 on url", u, code, e.Error)
		}
	}
	if code := n.call(t, http.MethodPost, "/admin/api/webhooks", admin, map[string]any{"url": "http://10.1.2.3/x", "events": []string{"event.cancelled"}}, nil); code != http.StatusCreated {
		t.Errorf("admin webhook to a private address: %d, want 201", code)
	}
}

// wantForbidden checks API.md's 403 body.
func wantForbidden(t testing.TB, n *testNode, method, path, token string, body any) {
	t.Helper()
	var e struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	if code := n.call(t, method, path, token, body, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" || e.Error.Message == "" || e.Error.RequestID == "" {
		t.Errorf("%s %s: %d %+v, want 403 forbidden with a message", method, path, code, e.Error)
	}
}
