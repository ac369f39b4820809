package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// checkInsReport is the check-in part of GET .../report's JSON.
type checkInsReport struct {
	Sold     reportFigure `json:"sold"`
	CheckIns int          `json:"check_ins"`
	Bucket   string       `json:"bucket"`
	OverTime []struct {
		Start    string       `json:"start"`
		Sold     reportFigure `json:"sold"`
		Refunded reportFigure `json:"refunded"`
		CheckIns int          `json:"check_ins"`
	} `json:"over_time"`
	BySection []checkInsOf `json:"check_ins_by_section"`
	ByGate    []checkInsOf `json:"check_ins_by_gate"`
	Error     struct {
		Code string `json:"code"`
	} `json:"error"`
}

// checkInsOf is one entry of check_ins_by_section or check_ins_by_gate.
type checkInsOf struct {
	Section  string `json:"section"`
	Gate     string `json:"gate"`
	CheckIns int    `json:"check_ins"`
}

// soldPlaces buys quantity places of a standing section for tok and
// returns the booking and its ticket codes.
func soldPlaces(t testing.TB, n *testNode, tok, ev, section string, quantity int) (string, []string) {
	t.Helper()
	var b struct {
		BookingID string   `json:"booking_id"`
		TicketIDs []string `json:"ticket_ids"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev,
		"standing": []any{map[string]any{"section": section, "quantity": quantity}}}, &b); code != http.StatusCreated || len(b.TicketIDs) != quantity {
		t.Fatalf("reserve %d places of %s: %d %+v", quantity, section, code, b)
	}
	confirmOK(t, n, tok, b.BookingID)
	var got struct {
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+b.BookingID+"/tickets", tok, nil, &got); code != http.StatusOK || len(got.Tickets) != quantity {
		t.Fatalf("GET tickets of %s: %d, %d codes", b.BookingID, code, len(got.Tickets))
	}
	codes := make([]string, quantity)
	for i, tk := range got.Tickets {
		codes[i] = tk.Code
	}
	return b.BookingID, codes
}

// TestCheckInsInReportOnRealNode: on a real node an organiser's event with
// a standing Floor and a seated section A sells in both; tickets are
// scanned in at the door at two gates and without one, some offline with
// an earlier scanned_at (so they fall in chosen buckets without moving any
// clock), one of them refunded afterwards (its admission goes with the
// sale). GET .../report counts the check-ins per section (both sections,
// seat-map order), per gate and per hour and day bucket, where the buckets
// with check-ins but no sales appear with zero sales; the reply matches
// openapi's EventReport, and another organisation's organiser, a buyer and
// the door's scanner get 403.
func TestCheckInsInReportOnRealNode(t *testing.T) {
	n := startSeededNode(t, withTicketKey)
	admin := n.token(t, "admin@example.com", "admin")
	org := uuid.New()
	boss := n.organiserToken(t, "boss@checkins.example", org)
	stranger := n.organiserToken(t, "boss@elsewhere.example", uuid.New())
	ev := createEventThrough(t, n, boss, map[string]any{
		"name": "Check-in Hall", "city": "Leeds", "location": map[string]any{"lat": 53.8, "lon": -1.5},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "Floor", "standing": 4},
			map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 3}}},
		}},
	}, map[string]any{"name": "Door Band"}, map[string]any{"name": "checkins Live", "type": "concert", "prices": map[string]string{"Floor": "20.00", "A": "10.00"}})
	tickets := n.ticketIDs(t, uuid.MustParse(ev)) // Floor places 0-3, then A1 A2 A3
	alice, bob, carol := n.token(t, "alice@checkins.example"), n.token(t, "bob@checkins.example"), n.token(t, "carol@checkins.example")
	_, seats := soldCodes(t, n, alice, ev, tickets[4:6]) // A1 A2
	_, places := soldPlaces(t, n, bob, ev, "Floor", 3)
	refunded, carols := soldCodes(t, n, carol, ev, tickets[6:7]) // A3, refunded after its check-in

	// Offline scans land in chosen hours two days ago; the online one
	// where the node's clock admits it (its admitted_at).
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)
	door := scannerToken(t, n, "door@checkins.example", ev)
	type admitted struct {
		section, gate string
		at            time.Time
	}
	var want []admitted
	for _, s := range []struct {
		code, section, gate string
		scannedAt           time.Time // zero: online
	}{
		{seats[0], "A", "North", base.Add(10 * time.Minute)},
		{places[0], "Floor", "North", base.Add(50 * time.Minute)},
		{places[1], "Floor", "South", base.Add(65 * time.Minute)},
		{places[2], "Floor", "South", base.Add(130 * time.Minute)},
		{seats[1], "A", "", time.Time{}},
		{carols[0], "A", "South", base.Add(20 * time.Minute)},
	} {
		req := map[string]any{"code": s.code}
		if s.gate != "" {
			req["gate"] = s.gate
		}
		if !s.scannedAt.IsZero() {
			req["scanned_at"] = s.scannedAt.Format(time.RFC3339Nano)
		}
		code, r := scan(t, n, door, req)
		if code != http.StatusOK || r.Section != s.section {
			t.Fatalf("scan in %s: %d %+v", s.section, code, r)
		}
		at := s.scannedAt
		if at.IsZero() {
			at = mustTime(t, r.AdmittedAt)
		}
		if s.code != carols[0] {
			want = append(want, admitted{s.section, s.gate, at})
		}
	}
	if code := n.call(t, http.MethodPost, "/booking/"+refunded+"/refund", admin, nil, nil); code != http.StatusOK {
		t.Fatalf("refund: %d", code)
	}

	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []boxoffice.ReportBucket{boxoffice.BucketHour, boxoffice.BucketDay} {
		path := "/admin/api/events/" + ev + "/report?bucket=" + string(bucket)
		var r checkInsReport
		if code := n.call(t, http.MethodGet, path, boss, nil, &r); code != http.StatusOK {
			t.Fatalf("report by %s: %d %s", bucket, code, r.Error.Code)
		}
		if r.CheckIns != len(want) || r.Bucket != string(bucket) {
			t.Fatalf("by %s: check_ins %d, want %d", bucket, r.CheckIns, len(want))
		}
		if w := []checkInsOf{{Section: "Floor", CheckIns: 3}, {Section: "A", CheckIns: 2}}; !slices.Equal(r.BySection, w) {
			t.Fatalf("by %s: check_ins_by_section %+v, want %+v", bucket, r.BySection, w)
		}
		if w := []checkInsOf{{Gate: "", CheckIns: 1}, {Gate: "North", CheckIns: 2}, {Gate: "South", CheckIns: 2}}; !slices.Equal(r.ByGate, w) {
			t.Fatalf("by %s: check_ins_by_gate %+v, want %+v", bucket, r.ByGate, w)
		}
		perBucket := map[time.Time]int{}
		for _, a := range want {
			perBucket[a.at.Truncate(bucket.Width())]++ // from the zero time: UTC hours and days
		}
		got := map[time.Time]int{}
		sold, prev := 0, time.Time{}
		for _, o := range r.OverTime {
			start := mustTime(t, o.Start)
			if !start.After(prev) {
				t.Fatalf("by %s: over_time not oldest first at %s", bucket, o.Start)
			}
			prev = start
			if o.CheckIns > 0 {
				got[start] = o.CheckIns
			}
			if start.Before(base.Add(3*time.Hour)) && (o.Sold != reportFigure{} || o.Refunded != reportFigure{}) {
				t.Fatalf("by %s: a bucket of check-ins only has sales: %+v", bucket, o)
			}
			sold += o.Sold.Tickets
		}
		if len(got) != len(perBucket) || sold != r.Sold.Tickets || r.Sold.Tickets != 6 {
			t.Fatalf("by %s: check-ins per bucket %v, want %v; %d tickets sold over time of %d", bucket, got, perBucket, sold, r.Sold.Tickets)
		}
		for start, c := range perBucket {
			if got[start] != c {
				t.Fatalf("by %s: check-ins per bucket %v, want %v", bucket, got, perBucket)
			}
		}
		var raw map[string]any
		n.call(t, http.MethodGet, path, boss, nil, &raw)
		if err := doc.Components.Schemas["EventReport"].Value.VisitJSON(raw); err != nil {
			t.Errorf("by %s: %v does not match EventReport: %v", bucket, raw, err)
		}
	}

	// Only the event's organisation (and admins) read its check-ins.
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"another organisation", stranger, http.StatusForbidden},
		{"a buyer", alice, http.StatusForbidden},
		{"the door's scanner", door, http.StatusForbidden},
		{"an admin", admin, http.StatusOK},
	} {
		var r checkInsReport
		if code := n.call(t, http.MethodGet, "/admin/api/events/"+ev+"/report?bucket=hour", tc.token, nil, &r); code != tc.status ||
			(code == http.StatusOK) != (r.CheckIns == len(want)) {
			t.Errorf("%s: %d %q, %d check-ins; want %d", tc.name, code, r.Error.Code, r.CheckIns, tc.status)
		}
	}
}
