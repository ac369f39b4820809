package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
)

// TestRenderReportCheckIns: the report's check-in breakdowns render as
// openapi's EventReport says: arrays even when the engine reported none
// (an engine without boxoffice.CheckInReporter gives only the total), a
// check_ins in every over_time bucket, and the names as given ("" a scan
// without a gate).
func TestRenderReportCheckIns(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		r    boxoffice.EventReport
		want []string
	}{
		{"total only", boxoffice.EventReport{CheckIns: 3, Buckets: []boxoffice.ReportBucketFigures{{Start: at}}},
			[]string{`"check_ins":3`, `"check_ins_by_section":[]`, `"check_ins_by_gate":[]`, `"refunded":{"bookings":0,"tickets":0,"amount_minor":0},"check_ins":0}`}},
		{"broken down", boxoffice.EventReport{CheckIns: 3,
			CheckInSections: []boxoffice.CheckInCount{{Name: "Floor", CheckIns: 2}, {Name: "A", CheckIns: 1}},
			CheckInGates:    []boxoffice.CheckInCount{{Name: "", CheckIns: 1}, {Name: "North", CheckIns: 2}},
			Buckets:         []boxoffice.ReportBucketFigures{{Start: at, CheckIns: 3}}},
			[]string{`"check_ins_by_section":[{"section":"Floor","check_ins":2},{"section":"A","check_ins":1}]`,
				`"check_ins_by_gate":[{"gate":"","check_ins":1},{"gate":"North","check_ins":2}]`,
				`"start":"2026-12-07T18:00:00Z"`, `"check_ins":3}]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(renderReport(tc.r))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s\nlacks %s", b, w)
				}
			}
		})
	}
}
