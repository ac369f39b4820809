package persistence_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestPendingPayments: reconciliation lists exactly the event's pending
// payments, in booking id order; finished ones and other events' are left
// out.
func TestPendingPayments(t *testing.T) {
	t.Parallel()
	db, ctx, event, _, epoch := ownedEvent(t)
	otherEvent := uuid.New()
	otherEpoch, err := db.Acquire(ctx, otherEvent, "n1")
	if err != nil {
		t.Fatal(err)
	}
	begin := func(ev uuid.UUID, ep int64) uuid.UUID {
		t.Helper()
		b := uuid.New()
		if _, err := db.BeginPayment(ctx, boxoffice.Payment{BookingID: b, EventID: ev, Epoch: ep, Amount: 100,
			Currency: "EUR", Method: "card", Token: "tok_visa"}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	p1, p2, done := begin(event, epoch), begin(event, epoch), begin(event, epoch)
	begin(otherEvent, otherEpoch)
	if err := db.FinishPayment(ctx, done, epoch, boxoffice.PaymentSucceeded, "ch_1"); err != nil {
		t.Fatal(err)
	}
	if p1.String() > p2.String() {
		p1, p2 = p2, p1
	}
	got, err := db.PendingPayments(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].BookingID != p1 || got[1].BookingID != p2 || got[0].Status != boxoffice.PaymentPending ||
		got[0].Key != boxoffice.PaymentKey(p1, 1) || got[0].Token != "tok_visa" {
		t.Fatalf("PendingPayments = %+v; want the pending rows of %s and %s", got, p1, p2)
	}
	if none, err := db.PendingPayments(ctx, uuid.New()); err != nil || len(none) != 0 {
		t.Fatalf("PendingPayments of an event without payments = %+v, %v; want none", none, err)
	}
}
