package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestMetricsOffTheAPIPort: with MetricsOnAPI off (BOXOFFICE_METRICS_ADDR
// set), GET /metrics is not served on the API, and admins read the same
// exposition at GET /admin/api/metrics, which the dashboard uses (issue 13).
func TestMetricsOffTheAPIPort(t *testing.T) {
	for _, onAPI := range []bool{true, false} {
		h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.MetricsOnAPI = onAPI })
		r := h.do("GET", "/metrics", nil)
		if onAPI {
			mustStatus(t, r, http.StatusOK)
		} else {
			wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
		}
		ada, _ := h.userToken("ada")
		wantError(t, h.do("GET", "/admin/api/metrics", nil), http.StatusUnauthorized, boxoffice.EUnauthenticated)
		wantError(t, h.do("GET", "/admin/api/metrics", nil, auth(ada)...), http.StatusForbidden, boxoffice.EForbidden)
		r = h.do("GET", "/admin/api/metrics", nil, auth(h.adminToken())...)
		mustStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "boxoffice_http_requests_total") {
			t.Errorf("admin metrics: %.300s", r.body)
		}
	}
}
