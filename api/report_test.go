package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestReportWithoutStore: a node without a report store answers the
// report route 503 unavailable (documented), after the 400 of a bad
// bucket or format; a bad event id is 400 too. (The figures themselves
// are tested on a real node: cmd/boxoffice TestEventReportOnRealNode.)
func TestReportWithoutStore(t *testing.T) {
	h := newHarness(t)
	admin := auth(h.adminToken())
	ev := uuid.NewString()
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/admin/api/events/" + ev + "/report", http.StatusServiceUnavailable, boxoffice.EUnavailable},
		{"/admin/api/events/" + ev + "/report?format=csv", http.StatusServiceUnavailable, boxoffice.EUnavailable},
		{"/admin/api/events/" + ev + "/report?bucket=minute", http.StatusBadRequest, boxoffice.EInvalid},
		{"/admin/api/events/" + ev + "/report?format=pdf", http.StatusBadRequest, boxoffice.EInvalid},
		{"/admin/api/events/not-an-id/report", http.StatusBadRequest, boxoffice.EInvalid},
	} {
		wantError(t, h.do("GET", tc.path, nil, admin...), tc.status, tc.code)
	}
}
