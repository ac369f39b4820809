package persistence_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestAuditReadsTheSchema runs every audit query on a clean database (it
// finds nothing), then plants one charge paying for two bookings (I6), which
// SharedCharges reports. cmd/boxoffice's check tests plant the rest.
func TestAuditReadsTheSchema(t *testing.T) {
	t.Parallel()
	db, ctx, event, booking, epoch := ownedEvent(t)
	audit := persistence.NewAudit(db.Pool())
	statuses, err := audit.BookingStatuses(ctx, []uuid.UUID{booking})
	if err != nil || len(statuses) != 0 {
		t.Fatalf("statuses = %v, %v; want none", statuses, err)
	}
	rows := 0
	if err := audit.Journal(ctx, func(uuid.UUID, int64, []byte) error { rows++; return nil }); err != nil || rows != 0 {
		t.Fatalf("journal: %d rows, %v; want none", rows, err)
	}
	for name, query := range map[string]func() (int, error){
		"SharedTickets": func() (int, error) { r, err := audit.SharedTickets(ctx); return len(r), err },
		"UnsoldSeats":   func() (int, error) { r, err := audit.UnsoldSeats(ctx); return len(r), err },
		"LateHolds":     func() (int, error) { r, err := audit.LateHolds(ctx, 0); return len(r), err },
		"UnpaidSales":   func() (int, error) { r, err := audit.UnpaidSales(ctx); return len(r), err },
		"SharedCharges": func() (int, error) { r, err := audit.SharedCharges(ctx); return len(r), err },
	} {
		if n, err := query(); err != nil || n != 0 {
			t.Errorf("%s on a clean database: %d rows, %v; want none", name, n, err)
		}
	}

	for _, b := range []uuid.UUID{booking, uuid.New()} {
		if _, err := db.BeginPayment(ctx, boxoffice.Payment{BookingID: b, EventID: event, Epoch: epoch,
			Amount: 100, Currency: "EUR", Method: "card", Token: "tok_visa"}); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishPayment(ctx, b, epoch, boxoffice.PaymentSucceeded, "ch_shared"); err != nil {
			t.Fatal(err)
		}
	}
	shared, err := audit.SharedCharges(ctx)
	if err != nil || len(shared) != 1 || shared[0] != (persistence.SharedCharge{ChargeID: "ch_shared", Bookings: 2}) {
		t.Fatalf("shared charges = %+v, %v; want ch_shared on 2 bookings", shared, err)
	}
}
