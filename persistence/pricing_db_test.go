package persistence_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestPricingColumnsRoundTrip: a booking's ticket types (any text, quotes
// and backslashes included) and price lines reach PostgreSQL as they are,
// and an unpriced booking writes NULLs.
func TestPricingColumnsRoundTrip(t *testing.T) {
	db := openRaw(t)
	ctx := context.Background()
	b := boxoffice.Booking{TicketTypes: []string{"adult", `a "quoted", {braced} \ one`, "NULL", ""},
		PriceLines: []boxoffice.PriceLine{{Kind: "tickets", Label: "adult × 1", Amount: 4000}, {Kind: "discount", Label: "Promo X", Amount: -1}},
		PromoCode:  "X"}
	types, lines, promo := persistence.PricingColumns(&b)
	var gotTypes []string
	var gotLines []byte
	var gotPromo string
	if err := db.Pool().QueryRow(ctx, `SELECT $1::text::text[], $2::text::jsonb, $3::text`, types, lines, promo).
		Scan(&gotTypes, &gotLines, &gotPromo); err != nil {
		t.Fatal(err)
	}
	var back []boxoffice.PriceLine
	if err := json.Unmarshal(gotLines, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotTypes, b.TicketTypes) || !slices.Equal(back, b.PriceLines) || gotPromo != "X" {
		t.Fatalf("got %q, %+v, %q", gotTypes, back, gotPromo)
	}
	if types, lines, promo := persistence.PricingColumns(&boxoffice.Booking{}); types != nil || lines != nil || promo != nil {
		t.Fatal("an unpriced booking writes pricing columns")
	}
}
