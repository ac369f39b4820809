package api

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestSaleRecordDefusesFormulas: an organiser's section or row name that a
// spreadsheet would run as a formula is prefixed with a quote in the CSV
// export; ordinary names, numbers and times are written as they are, and
// a refunded_at is empty unless the sale was refunded.
func TestSaleRecordDefusesFormulas(t *testing.T) {
	at := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ in, want string }{
		{"Stalls", "Stalls"},
		{"", ""},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTab", "'\tTab"},
		{"A=B", "A=B"},
	} {
		rec := make([]string, len(csvHeader))
		row := boxoffice.SaleRow{BookingID: uuid.New(), UserID: uuid.New(), Status: boxoffice.BookingConfirmed, ConfirmedAt: at,
			TicketID: uuid.New(), Section: tc.in, Row: tc.in, Seat: 7, Price: 1050, Currency: "EUR", BookingTotal: 2100}
		saleRecord(rec, row)
		if rec[6] != tc.want || rec[7] != tc.want || rec[3] != "2026-05-01T20:00:00Z" || rec[4] != "" ||
			rec[8] != "7" || rec[9] != "1050" || rec[11] != "2100" {
			t.Errorf("%q: %q", tc.in, rec)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		back, err := csv.NewReader(&buf).Read()
		if err != nil || back[6] != tc.want {
			t.Errorf("%q: read back %q, %v", tc.in, back, err)
		}
	}
}
