package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// reportFigure and reportBody are GET .../report's JSON (openapi
// EventReport).
type reportFigure struct {
	Bookings    int   `json:"bookings"`
	Tickets     int   `json:"tickets"`
	AmountMinor int64 `json:"amount_minor"`
}

type reportBody struct {
	EventID      string       `json:"event_id"`
	Currency     string       `json:"currency"`
	Sold         reportFigure `json:"sold"`
	Refunded     reportFigure `json:"refunded"`
	RevenueMinor int64        `json:"revenue_minor"`
	FeesMinor    int64        `json:"fees_minor"`
	CheckIns     int          `json:"check_ins"`
	BySection    []struct {
		Section  string       `json:"section"`
		Sold     reportFigure `json:"sold"`
		Refunded reportFigure `json:"refunded"`
	} `json:"by_section"`
	ByType []struct {
		Type     string       `json:"type"`
		Sold     reportFigure `json:"sold"`
		Refunded reportFigure `json:"refunded"`
	} `json:"by_type"`
	PromoUses []any  `json:"promo_uses"`
	Bucket    string `json:"bucket"`
	OverTime  []struct {
		Start    string       `json:"start"`
		Sold     reportFigure `json:"sold"`
		Refunded reportFigure `json:"refunded"`
	} `json:"over_time"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// getCSV fetches path and parses its CSV body.
func getCSV(t testing.TB, n *testNode, path, token string) (int, string, [][]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining only
		return resp.StatusCode, "", nil
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatalf("GET %s: not CSV: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), rows
}

// TestEventReportOnRealNode: on a real node (PostgreSQL, the event grain,
// the dev payment provider) an organiser's event sells through the API:
// three sales over two sections, one refunded, one hold never paid, one
// ticket checked in at the door. The report's figures and the CSV export's
// rows are exactly those; another organisation's organiser gets 403, and a
// bad format or bucket 400. A big export streams (csvStreams).
func TestEventReportOnRealNode(t *testing.T) {
	n := startSeededNode(t, withTicketKey)
	ctx := context.Background()
	admin := n.token(t, "admin@example.com", "admin")
	org := uuid.New()
	boss := n.organiserToken(t, "boss@report.example", org)
	stranger := n.organiserToken(t, "boss@other.example", uuid.New())
	ev := createEventThrough(t, n, boss, map[string]any{
		"name": "Report Hall", "city": "Leeds", "location": map[string]any{"lat": 53.8, "lon": -1.5},
		"seat_map": map[string]any{"sections": []any{
			map[string]any{"name": "A", "rows": []any{map[string]any{"name": "1", "seats": 3}}},
			map[string]any{"name": "B", "rows": []any{map[string]any{"name": "1", "seats": 3}}},
		}},
	}, map[string]any{"name": "Report Band"}, map[string]any{"name": "report Live", "type": "concert", "prices": map[string]string{"A": "10.00", "B": "25.50"}})
	tickets := n.ticketIDs(t, uuid.MustParse(ev)) // A1 A2 A3 B1 B2 B3
	alice, bob, carol := n.token(t, "alice@report.example"), n.token(t, "bob@report.example"), n.token(t, "carol@report.example")
	a, codes := soldCodes(t, n, alice, ev, tickets[0:2]) // A1 A2: 20.00
	b, _ := soldCodes(t, n, bob, ev, tickets[3:4])       // B1: 25.50
	c, _ := soldCodes(t, n, carol, ev, tickets[2:3:3])   // A3: 10.00, refunded
	reserveSeatsOK(t, n, carol, ev, tickets[4:5])        // B2: a hold, never paid
	if code := n.call(t, http.MethodPost, "/booking/"+c+"/refund", admin, nil, nil); code != http.StatusOK {
		t.Fatalf("refund: %d", code)
	}
	door := scannerToken(t, n, "door@report.example", ev)
	if code, r := scan(t, n, door, map[string]any{"code": codes[0]}); code != http.StatusOK {
		t.Fatalf("check-in: %d %+v", code, r.Error)
	}

	var r reportBody
	if code := n.call(t, http.MethodGet, "/admin/api/events/"+ev+"/report", boss, nil, &r); code != http.StatusOK {
		t.Fatalf("report: %d %s", code, r.Error.Code)
	}
	sold, back := reportFigure{3, 4, 2000 + 2550 + 1000}, reportFigure{1, 1, 1000}
	if r.EventID != ev || r.Currency != "EUR" || r.Sold != sold || r.Refunded != back || r.RevenueMinor != 4550 ||
		r.FeesMinor != 0 || r.CheckIns != 1 || r.Bucket != "day" || r.PromoUses == nil || len(r.PromoUses) != 0 {
		t.Fatalf("report totals: %+v", r)
	}
	if len(r.BySection) != 2 || r.BySection[0].Section != "A" || r.BySection[0].Sold != (reportFigure{2, 3, 3000}) ||
		r.BySection[0].Refunded != (reportFigure{1, 1, 1000}) || r.BySection[1].Section != "B" ||
		r.BySection[1].Sold != (reportFigure{1, 1, 2550}) || r.BySection[1].Refunded != (reportFigure{}) {
		t.Fatalf("by section: %+v", r.BySection)
	}
	if len(r.ByType) != 1 || r.ByType[0].Type != "standard" || r.ByType[0].Sold != sold || r.ByType[0].Refunded != back {
		t.Fatalf("by type: %+v", r.ByType)
	}
	var overSold, overBack reportFigure
	for _, o := range r.OverTime {
		if _, err := time.Parse(time.RFC3339, o.Start); err != nil {
			t.Fatalf("bucket start %q: %v", o.Start, err)
		}
		overSold = reportFigure{overSold.Bookings + o.Sold.Bookings, overSold.Tickets + o.Sold.Tickets, overSold.AmountMinor + o.Sold.AmountMinor}
		overBack = reportFigure{overBack.Bookings + o.Refunded.Bookings, overBack.Tickets + o.Refunded.Tickets, overBack.AmountMinor + o.Refunded.AmountMinor}
	}
	if overSold != sold || overBack != back {
		t.Fatalf("over time sums to %+v and %+v, want %+v and %+v", overSold, overBack, sold, back)
	}

	// The reply matches api/openapi.yaml's EventReport (by the hour too).
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "?bucket=hour"} {
		var raw map[string]any
		if code := n.call(t, http.MethodGet, "/admin/api/events/"+ev+"/report"+q, boss, nil, &raw); code != http.StatusOK {
			t.Fatalf("report%s: %d", q, code)
		}
		if err := doc.Components.Schemas["EventReport"].Value.VisitJSON(raw); err != nil {
			t.Errorf("report%s %v does not match EventReport: %v", q, raw, err)
		}
	}

	// The CSV: one row per ticket of a sale, in confirmation order.
	code, ctype, rows := getCSV(t, n, "/admin/api/events/"+ev+"/report?format=csv", boss)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") {
		t.Fatalf("CSV: %d %q", code, ctype)
	}
	want := [][]string{{"booking_id", "user_id", "status", "confirmed_at", "refunded_at", "ticket_id",
		"section", "row", "seat", "price_minor", "currency", "booking_total_minor"}}
	type sale struct {
		id      string
		at      time.Time
		tickets []int
	}
	var sales []sale
	for _, s := range []struct {
		id      string
		tickets []int
	}{{a, []int{0, 1}}, {b, []int{3}}, {c, []int{2}}} {
		bk, err := n.db.Booking(ctx, uuid.MustParse(s.id))
		if err != nil {
			t.Fatal(err)
		}
		at := bk.ConfirmedAt
		if at.IsZero() {
			at = bk.CreatedAt
		}
		sales = append(sales, sale{s.id, at, s.tickets})
	}
	slices.SortFunc(sales, func(x, y sale) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	for _, s := range sales {
		bk, _ := n.db.Booking(ctx, uuid.MustParse(s.id))
		refundedAt := ""
		if bk.Status == boxoffice.BookingRefunded {
			var at time.Time
			if err := n.db.Pool().QueryRow(ctx, `SELECT refunded_at FROM refunds WHERE booking_id = $1`, bk.ID).Scan(&at); err != nil {
				t.Fatal(err)
			}
			refundedAt = at.UTC().Format(time.RFC3339Nano)
		}
		for _, i := range s.tickets {
			section, price := "A", "1000"
			if i >= 3 {
				section, price = "B", "2550"
			}
			want = append(want, []string{s.id, bk.UserID.String(), string(bk.Status), s.at.UTC().Format(time.RFC3339Nano), refundedAt,
				tickets[i], section, "1", strconv.Itoa(i%3 + 1), price, "EUR", strconv.FormatInt(int64(bk.Total), 10)})
		}
	}
	if !slices.EqualFunc(rows, want, slices.Equal[[]string]) {
		t.Fatalf("CSV rows:\n%v\nwant\n%v", rows, want)
	}

	// Roles and bad input.
	for _, tc := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"another organisation", "/report", stranger, http.StatusForbidden, boxoffice.EForbidden},
		{"another organisation's CSV", "/report?format=csv", stranger, http.StatusForbidden, boxoffice.EForbidden},
		{"a buyer", "/report", alice, http.StatusForbidden, boxoffice.EForbidden},
		{"no token", "/report", "", http.StatusUnauthorized, boxoffice.EUnauthenticated},
		{"a bad format", "/report?format=xml", boss, http.StatusBadRequest, boxoffice.EInvalid},
		{"a bad bucket", "/report?bucket=week", boss, http.StatusBadRequest, boxoffice.EInvalid},
		{"an admin by the hour", "/report?bucket=hour", admin, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out reportBody
			if code := n.call(t, http.MethodGet, "/admin/api/events/"+ev+tc.path, tc.token, nil, &out); code != tc.status || out.Error.Code != tc.code {
				t.Fatalf("%d %q, want %d %q", code, out.Error.Code, tc.status, tc.code)
			}
		})
	}
	t.Run("the stadium's CSV streams", func(t *testing.T) { csvStreams(t, n) })
	var none reportBody
	if code := n.call(t, http.MethodGet, "/admin/api/events/"+uuid.NewString()+"/report?format=csv", admin, nil, &none); code != http.StatusNotFound {
		t.Fatalf("CSV of an unknown event: %d", code)
	}
}

// flushRecorder is a ResponseWriter that counts the CSV lines written and
// notes how many there were at each flush, keeping none of the body.
type flushRecorder struct {
	header  http.Header
	status  int
	lines   int
	flushes []int
}

func (f *flushRecorder) Header() http.Header { return f.header }
func (f *flushRecorder) WriteHeader(code int) {
	if f.status == 0 {
		f.status = code
	}
}
func (f *flushRecorder) Write(b []byte) (int, error) {
	f.WriteHeader(http.StatusOK)
	f.lines += strings.Count(string(b), "\n")
	return len(b), nil
}
func (f *flushRecorder) Flush() { f.flushes = append(f.flushes, f.lines) }

// csvStreams: the export of the seeded stadium with 10,000 seats sold
// leaves the handler in chunks while the rows are read (a flush at least
// every 512 rows, the first long before the last row), so the node never
// holds the whole export; with TestEachSaleStreams (the store hands rows
// over while its query is open) memory stays bounded whatever the event's
// size. (10,000 of the 50,000 seats keep the test short;
// docs/benchmarks.md times the sold-out stadium.)
func csvStreams(t *testing.T, n *testNode) {
	ctx := context.Background()
	ev := uuid.MustParse(stadiumEventID())
	tag, err := n.db.Pool().Exec(ctx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, confirmed_at, updated_at)
		SELECT gen_random_uuid(), gen_random_uuid(), event_id, ARRAY[ticket_id], 'confirmed', price_minor, currency, now(), now(), now()
		FROM tickets WHERE event_id = $1 AND idx < 10000`, ev)
	if err != nil {
		t.Fatal(err)
	}
	seats := int(tag.RowsAffected())
	if seats != 10_000 {
		t.Fatalf("sold %d seats, want 10,000", seats)
	}
	admin := n.token(t, "admin@example.com", "admin")
	start := time.Now()
	req := httptest.NewRequest(http.MethodGet, "/admin/api/events/"+ev.String()+"/report?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	w := &flushRecorder{header: http.Header{}}
	n.api.Handler().ServeHTTP(w, req)
	t.Logf("CSV export of %d sales: %v", seats, time.Since(start)) // information, not asserted
	if w.status != http.StatusOK || w.lines != seats+1 {
		t.Fatalf("export: %d, %d lines, want %d", w.status, w.lines, seats+1)
	}
	prev := 0
	for _, at := range w.flushes {
		if at-prev > 513 {
			t.Fatalf("%d lines between two flushes (at %d), want at most 513", at-prev, at)
		}
		prev = at
	}
	if len(w.flushes) < seats/512 || w.flushes[0] > 513 {
		t.Fatalf("%d flushes, the first after %d lines", len(w.flushes), w.flushes[0])
	}
}
