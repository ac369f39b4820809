package seatmap_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// TestRefund: a sold booking's seats become available again and leave the
// buyer's per-user count; only sold seats can be refunded, never twice;
// the record round-trips through the journal encoding, replays to the same
// state, and the seats can then be held and sold again.
func TestRefund(t *testing.T) {
	event := uuid.New()
	space := boxoffice.NewTicketSpace(event)
	m, replica := seatmap.New(event, 10), seatmap.New(event, 10)
	m.SetLimit(2)
	owner, booking, other := uuid.New(), uuid.New(), uuid.New()
	t0 := time.Unix(1_700_000_000, 0)
	var recs []seatmap.Record
	add := func(r seatmap.Record, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	tickets := []uuid.UUID{space.ID(3), space.ID(4)}
	add(m.Hold(owner, booking, tickets, t0, time.Minute))
	if _, err := m.Refund(booking, owner, []int32{3, 4}); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
		t.Fatalf("refund of a hold: %v, want booking_state", err)
	}
	add(m.PinForPayment(booking, owner, t0))
	add(m.Sell(booking))
	if _, err := m.Hold(owner, uuid.New(), []uuid.UUID{space.ID(5)}, t0, time.Minute); boxoffice.ErrorCode(err) != boxoffice.ELimitReached {
		t.Fatalf("a third seat before the refund: %v, want limit_reached", err)
	}
	for _, bad := range [][]int32{{3, 5}, {3, 3}, {3, 4, 5}, {}} {
		if _, err := m.Refund(booking, owner, bad); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
			t.Errorf("refund of seats %v: %v, want booking_state", bad, err)
		}
	}
	add(m.Refund(booking, owner, []int32{3, 4}))
	if c := m.Counts(); c.Available != 10 || c.Booked != 0 || m.Owned(owner) != 0 {
		t.Fatalf("after the refund: %+v, owner has %d", c, m.Owned(owner))
	}
	if ch := recs[len(recs)-1].Changes(); len(ch) != 2 || ch[0].Status != boxoffice.SeatAvailable {
		t.Errorf("refund changes %+v, want two seats available", ch)
	}
	if _, err := m.Refund(booking, owner, []int32{3, 4}); err == nil {
		t.Fatal("a second refund was accepted")
	}
	add(m.Hold(other, uuid.New(), tickets, t0, time.Minute)) // sold again
	for _, r := range recs {
		data, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := seatmap.UnmarshalRecord(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := replica.Apply(back); err != nil {
			t.Fatalf("replay %s: %v", back.Kind, err)
		}
	}
	if replica.Counts() != m.Counts() || replica.Owned(owner) != 0 || replica.Owned(other) != 2 {
		t.Errorf("replica %+v, want %+v", replica.Counts(), m.Counts())
	}
	if s := seatmap.KindRefunded.String(); s != "SeatsRefunded" || seatmap.KindRefunded != 8 {
		t.Errorf("kind %d named %q", seatmap.KindRefunded, s)
	}
}
