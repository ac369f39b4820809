package main

import (
	"context"

	"github.com/boxoffice/boxoffice/persistence"
)

// Violation kinds of the payments audit.
const (
	kindUnpaidSale   = "unpaid_sale"   // a confirmed booking without its own succeeded charge of its total (I7)
	kindSharedCharge = "shared_charge" // one charge confirmed two bookings (I6)
	kindBadRefund    = "bad_refund"    // a refund that did not end its sale, or ended a sale that was not its own (I1)
	kindPaidUnsold   = "paid_unsold"   // a succeeded charge whose booking ended unsold and unrefunded (I7)
)

// payments: every confirmed booking has a succeeded payment of its own
// total (I7), no charge id pays for two bookings (I6), every refunded
// booking's refund finished (I1), and no succeeded charge is kept for a
// booking that ended without its sale (I7; see Audit.PaidUnsolds for why a
// booking still in progress is not judged).
func (a *audit) payments(ctx context.Context, db persistence.Querier) error {
	audit := persistence.NewAudit(db)
	unpaid, err := audit.UnpaidSales(ctx)
	if err != nil {
		return err
	}
	for _, u := range unpaid {
		a.add(kindUnpaidSale, "booking %s is confirmed for %d but its payment is %s for %d", u.BookingID, u.Total, u.Status, u.Amount)
	}
	shared, err := audit.SharedCharges(ctx)
	for _, c := range shared {
		a.add(kindSharedCharge, "charge %s paid for %d bookings", c.ChargeID, c.Bookings)
	}
	if err != nil {
		return err
	}
	bad, err := audit.UnfinishedRefunds(ctx)
	for _, r := range bad {
		a.add(kindBadRefund, "booking %s is refunded but %s", r.BookingID, r.Problem)
	}
	if err != nil {
		return err
	}
	kept, err := audit.PaidUnsolds(ctx)
	for _, p := range kept {
		a.add(kindPaidUnsold, "booking %s is %s but its charge %s of %d succeeded and was not refunded", p.BookingID, p.Status, p.ChargeID, p.Amount)
	}
	return err
}
