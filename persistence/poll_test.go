package persistence_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestChangedEvents: the node's rules refresh gets exactly the events whose
// revision is above the caller's copy, with their current rules.
func TestChangedEvents(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	a, _ := mustEvent(t, db, 1, 1, 10)
	b, _ := mustEvent(t, db, 1, 1, 10)
	two := 2
	b2, err := db.UpdateEvent(ctx, b.ID, persistence.EventPatch{MaxTicketsPerUser: &two})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		revs []int64 // of a, b, a missing event
		want []uuid.UUID
	}{
		{"none changed", []int64{a.Revision, b2.Revision, 0}, nil},
		{"b changed", []int64{a.Revision, b.Revision, 0}, []uuid.UUID{b.ID}},
		{"newer copy than stored", []int64{a.Revision + 5, b2.Revision, 0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ChangedEvents(ctx, []uuid.UUID{a.ID, b.ID, uuid.New()}, tc.revs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ChangedEvents = %d events, want %v", len(got), tc.want)
			}
			for i, ev := range got {
				if ev.ID != tc.want[i] || ev.Revision != b2.Revision || ev.TicketLimit() != 2 {
					t.Errorf("event %d = %s revision %d limit %d; want %s revision %d limit 2",
						i, ev.ID, ev.Revision, ev.TicketLimit(), tc.want[i], b2.Revision)
				}
			}
		})
	}
}

// TestPendingPaymentsFor: the node's reconciliation lists each event's
// pending payments, as PendingPayments does, in one read.
func TestPendingPaymentsFor(t *testing.T) {
	t.Parallel()
	db, ctx, event, _, epoch := ownedEvent(t)
	other := uuid.New()
	otherEpoch, err := db.Acquire(ctx, other, "n1")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []struct {
		id    uuid.UUID
		epoch int64
	}{{event, epoch}, {event, epoch}, {other, otherEpoch}} {
		if _, err := db.BeginPayment(ctx, boxoffice.Payment{BookingID: uuid.New(), EventID: ev.id, Epoch: ev.epoch, Amount: 100,
			Currency: "EUR", Method: "card", Token: "tok_visa"}); err != nil {
			t.Fatal(err)
		}
	}
	quiet := uuid.New()
	got, err := db.PendingPaymentsFor(ctx, []uuid.UUID{event, other, quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{event, other, quiet} {
		one, err := db.PendingPayments(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got[id]) != len(one) {
			t.Fatalf("event %s: %d pending payments batched, %d alone", id, len(got[id]), len(one))
		}
		for i := range one {
			if got[id][i] != one[i] {
				t.Errorf("event %s row %d: batched %+v, alone %+v", id, i, got[id][i], one[i])
			}
		}
	}
	if len(got[event]) != 2 || len(got[other]) != 1 || len(got) != 2 {
		t.Errorf("PendingPaymentsFor = %d events (%d, %d rows); want 2 events of 2 and 1 rows", len(got), len(got[event]), len(got[other]))
	}
}
