package persistence_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// sellRows writes a booking row of the event directly (the report reads
// rows; the seat engine is not what is tested here) and returns its id.
func sellRows(tb testing.TB, db *persistence.DB, ev uuid.UUID, status string, total int64, confirmed time.Time, idx ...int) uuid.UUID {
	tb.Helper()
	id := uuid.New()
	var at *time.Time
	if !confirmed.IsZero() {
		at = &confirmed
	}
	if _, err := db.Pool().Exec(ctxT(tb), `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, confirmed_at, updated_at)
		SELECT $1, $2, $3, array_agg(ticket_id ORDER BY array_position($4::int[], idx)), $5, $6, 'EUR',
			coalesce($7, now()), $7, coalesce($7, now())
		FROM tickets WHERE event_id = $3 AND idx = ANY($4)`, id, uuid.New(), ev, idx, status, total, at); err != nil {
		tb.Fatalf("insert booking: %v", err)
	}
	return id
}

// TestEventReportFigures: the report's figures from booking rows, exact:
// sales by section (in map order) and in all, refunds, revenue, the one
// implicit ticket type, no fees and no promo uses yet, and the time
// buckets by confirmation (sales) and by refund (refunds), by day and by
// hour; holds that never sold count nowhere.
func TestEventReportFigures(t *testing.T) {
	db := openDB(t)
	ctx := ctxT(t)
	e, _ := mustEvent(t, db, 2, 1, 4) // A: 9900, B: 8900
	day1 := time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)
	day2 := time.Date(2026, 3, 2, 18, 40, 0, 0, time.UTC)
	sellRows(t, db, e.ID, "confirmed", 19800, day1, 0, 1)            // A×2
	sellRows(t, db, e.ID, "confirmed", 8900, day1.Add(time.Hour), 4) // B×1
	refunded := sellRows(t, db, e.ID, "refunded", 18800, day1, 2, 5) // A + B, refunded on day 2
	sellRows(t, db, e.ID, "in-progress", 9900, time.Time{}, 3)
	sellRows(t, db, e.ID, "expired", 8900, time.Time{}, 6)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO refunds (booking_id, event_id, reason, requested_at, refunded_at)
		VALUES ($1, $2, 'admin', $3, $3)`, refunded, e.ID, day2); err != nil {
		t.Fatal(err)
	}

	r, err := db.EventReport(ctx, e.ID, boxoffice.BucketDay)
	if err != nil {
		t.Fatal(err)
	}
	fig := func(b, tk int, amount boxoffice.Money) boxoffice.SalesFigure {
		return boxoffice.SalesFigure{Bookings: b, Tickets: tk, Amount: amount}
	}
	sold, back := fig(3, 5, 19800+8900+18800), fig(1, 2, 18800)
	if r.Currency != "EUR" || r.Sold != sold || r.Refunded != back || r.Revenue != 19800+8900 || r.Fees != 0 || len(r.PromoUses) != 0 {
		t.Fatalf("totals: %+v", r)
	}
	wantSections := []boxoffice.SectionSales{
		{Section: "A", Sold: fig(2, 3, 3*9900), Refunded: fig(1, 1, 9900)},
		{Section: "B", Sold: fig(2, 2, 2*8900), Refunded: fig(1, 1, 8900)},
	}
	if len(r.Sections) != 2 || r.Sections[0] != wantSections[0] || r.Sections[1] != wantSections[1] {
		t.Fatalf("sections: %+v, want %+v", r.Sections, wantSections)
	}
	if len(r.Types) != 1 || r.Types[0] != (boxoffice.TypeSales{Type: boxoffice.ImplicitTicketType, Sold: sold, Refunded: back}) {
		t.Fatalf("types: %+v", r.Types)
	}
	wantDays := []boxoffice.ReportBucketFigures{
		{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Sold: sold},
		{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Refunded: back},
	}
	if len(r.Buckets) != 2 || r.Buckets[0] != wantDays[0] || r.Buckets[1] != wantDays[1] {
		t.Fatalf("days: %+v, want %+v", r.Buckets, wantDays)
	}

	r, err = db.EventReport(ctx, e.ID, boxoffice.BucketHour)
	if err != nil {
		t.Fatal(err)
	}
	wantHours := []boxoffice.ReportBucketFigures{
		{Start: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Sold: fig(2, 4, 19800+18800)},
		{Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Sold: fig(1, 1, 8900)},
		{Start: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), Refunded: back},
	}
	if len(r.Buckets) != 3 || r.Buckets[0] != wantHours[0] || r.Buckets[1] != wantHours[1] || r.Buckets[2] != wantHours[2] {
		t.Fatalf("hours: %+v, want %+v", r.Buckets, wantHours)
	}

	// An event without sales has empty lists; an unknown one is not_found.
	empty, _ := mustEvent(t, db, 1, 1, 1)
	if r, err = db.EventReport(ctx, empty.ID, boxoffice.BucketDay); err != nil || r.Sold != (boxoffice.SalesFigure{}) ||
		len(r.Sections) != 0 || len(r.Types) != 0 || len(r.Buckets) != 0 {
		t.Fatalf("no sales: %+v %v", r, err)
	}
	_, err = db.EventReport(ctx, uuid.New(), boxoffice.BucketDay)
	wantCode(t, err, boxoffice.ENotFound)
}

// TestEventReportPricedFigures: with ticket types, fees and promo codes
// (the columns of migration 0600) the report splits the sales by type with
// each type's "tickets" line, sums the fee lines of the sales that stand,
// and counts each promo code's uses and discount; a refunded sale counts
// in neither fees nor promo uses.
func TestEventReportPricedFigures(t *testing.T) {
	db := openDB(t)
	ctx := ctxT(t)
	e, _ := mustEvent(t, db, 1, 1, 4)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	price := func(id uuid.UUID, types []string, lines string, promo any) {
		t.Helper()
		if _, err := db.Pool().Exec(ctx, `UPDATE bookings SET ticket_types = $2, price_lines = $3::jsonb, promo_code = $4
			WHERE id = $1`, id, types, lines, promo); err != nil {
			t.Fatal(err)
		}
	}
	// adult+child with a 2.00 fee per ticket and SPRING (−5.00).
	a := sellRows(t, db, e.ID, "confirmed", 9400+400-500, at, 0, 1)
	price(a, []string{"adult", "child"}, `[{"kind":"tickets","label":"adult × 1","amount_minor":5900},
		{"kind":"tickets","label":"child × 1","amount_minor":3500},{"kind":"discount","label":"Promo SPRING","amount_minor":-500},
		{"kind":"fee","label":"Service","amount_minor":400}]`, "SPRING")
	// two adults, refunded: in the types' sold and refunded, not in fees or uses.
	b := sellRows(t, db, e.ID, "refunded", 11800+400, at.Add(time.Hour), 2, 3)
	price(b, []string{"adult", "adult"}, `[{"kind":"tickets","label":"adult × 2","amount_minor":11800},
		{"kind":"fee","label":"Service","amount_minor":400}]`, "SPRING")

	r, err := db.EventReport(ctx, e.ID, boxoffice.BucketDay)
	if err != nil {
		t.Fatal(err)
	}
	fig := func(b, tk int, amount boxoffice.Money) boxoffice.SalesFigure {
		return boxoffice.SalesFigure{Bookings: b, Tickets: tk, Amount: amount}
	}
	want := []boxoffice.TypeSales{
		{Type: "adult", Sold: fig(2, 3, 5900+11800), Refunded: fig(1, 2, 11800)},
		{Type: "child", Sold: fig(1, 1, 3500)},
	}
	if len(r.Types) != 2 || r.Types[0] != want[0] || r.Types[1] != want[1] {
		t.Fatalf("types: %+v, want %+v", r.Types, want)
	}
	if r.Fees != 400 {
		t.Fatalf("fees = %d, want 400 (the refunded sale's fee is not kept)", r.Fees)
	}
	if len(r.PromoUses) != 1 || r.PromoUses[0] != (boxoffice.PromoUse{Code: "SPRING", Uses: 1, Discount: 500}) {
		t.Fatalf("promo uses: %+v", r.PromoUses)
	}
}

// TestEachSaleStreams: the export hands each ticket to fn while its query
// is still being read (the connection is held), never after collecting
// them all; the rows come in confirmation, booking and ticket order, and
// an error from fn stops the read and comes back as is.
func TestEachSaleStreams(t *testing.T) {
	db := openDB(t)
	ctx := ctxT(t)
	e, _ := mustEvent(t, db, 1, 40, 50) // 2,000 seats
	start := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, confirmed_at, updated_at)
		SELECT gen_random_uuid(), gen_random_uuid(), event_id, ARRAY[ticket_id], 'confirmed', price_minor, currency,
			$2::timestamptz + idx * interval '1 second', $2::timestamptz + idx * interval '1 second', now()
		FROM tickets WHERE event_id = $1`, e.ID, start); err != nil {
		t.Fatal(err)
	}
	db.Pool().Reset() // no idle connection left from the set-up
	n, held := 0, int32(0)
	err := db.EachSale(ctx, e.ID, func(s boxoffice.SaleRow) error {
		if n == 0 {
			held = db.Pool().Stat().AcquiredConns()
		}
		if want := start.Add(time.Duration(n) * time.Second); !s.ConfirmedAt.Equal(want) || s.Seat != n%50+1 || s.Price != 9900 ||
			s.Status != boxoffice.BookingConfirmed || !s.RefundedAt.IsZero() || s.BookingTotal != 9900 {
			t.Fatalf("row %d: %+v", n, s)
		}
		n++
		return nil
	})
	if err != nil || n != 2000 {
		t.Fatalf("EachSale: %d rows, %v", n, err)
	}
	if held != 1 {
		t.Fatalf("at the first row %d connections were in use, want 1 (the open query)", held)
	}
	stop := errors.New("stop")
	n = 0
	if err := db.EachSale(ctx, e.ID, func(boxoffice.SaleRow) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("a failing fn: %d rows, %v", n, err)
	}
}
