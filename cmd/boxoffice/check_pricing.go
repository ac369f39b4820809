package main

import (
	"context"

	"github.com/boxoffice/boxoffice/persistence"
)

// Pricing violations (issue 19, h19price).
const (
	kindPromoOverLimit = "promo_over_limit" // a promo code with more live uses than its limit
	kindPriceMismatch  = "price_mismatch"   // a booking whose price lines do not add up to its total
)

// pricing: no promo code has more live uses than its limit, and every
// priced booking's lines add up to its total, with one ticket type per
// ticket.
func (a *audit) pricing(ctx context.Context, db persistence.Querier) error {
	au := persistence.NewAudit(db)
	over, err := au.PromoOverLimit(ctx)
	if err != nil {
		return err
	}
	for _, o := range over {
		a.add(kindPromoOverLimit, "event %s promo code %q has %d live uses, limit %d", o.EventID, o.Code, o.Uses, o.Limit)
	}
	bad, err := au.PriceMismatches(ctx)
	for _, b := range bad {
		a.add(kindPriceMismatch, "booking %s: total %d, price lines add up to %d; %d ticket types for %d tickets",
			b.BookingID, b.Total, b.Sum, b.TicketTypes, b.Tickets)
	}
	return err
}
