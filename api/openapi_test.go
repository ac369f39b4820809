package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIDocument checks the document is valid OpenAPI 3.0.3 and
// describes exactly the routes the server registers (plus the plugs').
func TestOpenAPIDocument(t *testing.T) {
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	want := []string{
		"GET /search", "GET /events/{eventId}", "GET /events/{eventId}/seats/ws",
		"GET /events/{eventId}/layout", "GET /events/{eventId}/availability", "GET /events/{eventId}/seats/sse",
		"POST /events/{eventId}/queue", "GET /events/{eventId}/queue/{queueId}", "GET /events/{eventId}/queue/{queueId}/ws",
		"POST /booking/reserve", "POST /booking/confirm", "PUT /booking/confirm",
		"GET /booking/{bookingId}", "DELETE /booking/{bookingId}", "GET /user/bookings",
		"GET /booking/{bookingId}/tickets", "GET /booking/{bookingId}/tickets.pdf",
		"GET /booking/{bookingId}/tickets/{ticketId}/qr.png", "GET /tickets/keys",
		"POST /checkin",
		"POST /auth/token",
		"GET /admin/api/cluster", "GET /admin/api/metrics", "GET /admin/api/events/{eventId}", "PATCH /admin/api/events/{eventId}",
		"POST /admin/api/events", "POST /admin/api/venues", "POST /admin/api/performers",
		"POST /admin/api/webhooks", "GET /admin/api/webhooks",
		"GET /admin/", "GET /", "GET /static/{path}", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml",
		"POST /payments/stripe/webhook",
		"GET /admin/api/log-level", "PUT /admin/api/log-level",
		"POST /booking/{bookingId}/refund", "POST /admin/api/events/{eventId}/cancel",
		"GET /door/", "GET /door/sw.js",
		"GET /admin/api/events", "GET /admin/api/venues", "GET /admin/api/performers",
		"PATCH /admin/api/venues/{venueId}", "PATCH /admin/api/performers/{performerId}",
		"POST /admin/api/events/{eventId}/scanners", "GET /admin/api/audit",
		"POST /admin/api/nodes/{nodeId}/drain",
		"GET /admin/api/events/{eventId}/report",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("operations differ from API.md's routes:\n got %v\nwant %v", got, want)
	}
	for _, op := range got {
		method, path, _ := strings.Cut(op, " ")
		o := doc.Paths.Value(path).GetOperation(method)
		for _, status := range []string{"429", "500"} {
			if o.Responses.Value(status) == nil {
				t.Errorf("%s does not document %s", op, status)
			}
		}
		if o.RequestBody != nil && o.Responses.Value("413") == nil {
			t.Errorf("%s takes a body but does not document 413", op)
		}
	}
}

// TestServesOpenAPI checks GET /openapi.yaml serves the embedded document.
func TestServesOpenAPI(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, "/openapi.yaml", nil)
	mustStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), "openapi: 3.0.3") {
		t.Errorf("body starts %.40q", r.body)
	}
}
