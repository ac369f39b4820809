package seatmap_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// TestLimitCountsHoldsAndSales: max_tickets_per_user bounds a user's live
// holds plus bought seats; a release or expiry gives the room back, a sale
// keeps it, another user is not affected, and limit_reached is given before
// seat_unavailable.
func TestLimitCountsHoldsAndSales(t *testing.T) {
	m := seatmap.New(eventID, 100)
	m.SetLimit(4)
	mustOK(t, m)(m.Hold(alice, booking(1), tickets(m, 0, 1), t0, ttl))
	sold := mustOK(t, m)(m.Hold(alice, booking(2), tickets(m, 2), t0, ttl))
	mustOK(t, m)(m.Sell(sold.Booking))
	if got := m.Owned(alice); got != 3 {
		t.Fatalf("alice owns %d, want 3", got)
	}
	unchanged(t, m, boxoffice.ELimitReached, func() error {
		_, err := m.Hold(alice, booking(3), tickets(m, 3, 4), t0, ttl)
		return err
	})
	_, err := m.Hold(alice, booking(3), tickets(m, 3, 4), t0, ttl)
	var e *boxoffice.Error
	if !errors.As(err, &e) || e.Details["limit"] != 4 || e.Details["current"] != 3 {
		t.Fatalf("limit_reached details: %v", err)
	}
	// Over the limit and asking for a taken seat: limit_reached first.
	unchanged(t, m, boxoffice.ELimitReached, func() error {
		_, err := m.Hold(alice, booking(3), tickets(m, 0, 5), t0, ttl)
		return err
	})
	mustOK(t, m)(m.Hold(bob, booking(4), tickets(m, 10, 11, 12, 13), t0, ttl))
	mustOK(t, m)(m.Hold(alice, booking(5), tickets(m, 3), t0, ttl))
	mustOK(t, m)(m.Release(booking(1), alice))
	mustOK(t, m)(m.Hold(alice, booking(6), tickets(m, 20, 21), t0, ttl))
	m.ExpireDue(t0.Add(ttl))
	if got, want := m.Owned(alice), 1; got != want {
		t.Fatalf("after expiry alice owns %d, want %d (the sale)", got, want)
	}
	m.SetLimit(0)
	mustOK(t, m)(m.Hold(alice, booking(7), tickets(m, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39), t0, ttl))
}

// TestBuyersSurviveSnapshotAndReplay: the per-user counts come back from a
// snapshot plus the journal after it, so a restarted event keeps its limit.
func TestBuyersSurviveSnapshotAndReplay(t *testing.T) {
	m := seatmap.New(eventID, 50)
	var records []seatmap.Record
	do := func(r seatmap.Record, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
	}
	do(m.Hold(alice, booking(1), tickets(m, 0, 1, 2), t0, ttl))
	do(m.Sell(booking(1)))
	do(m.Hold(bob, booking(2), tickets(m, 5), t0, ttl))
	snap, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	do(m.Hold(alice, booking(3), tickets(m, 7), t0, ttl))
	do(m.Sell(booking(3)))
	do(m.Hold(bob, booking(4), tickets(m, 8), t0, ttl))

	r, err := seatmap.Decode(eventID, snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records[3:] {
		if err := r.Apply(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.Owned(alice) != 4 || r.Owned(bob) != 2 || r.Buyers()[alice] != 4 {
		t.Fatalf("restored: alice %d bob %d buyers %v", r.Owned(alice), r.Owned(bob), r.Buyers())
	}
	full := seatmap.New(eventID, 50)
	for _, rec := range records {
		if err := full.Apply(rec); err != nil {
			t.Fatal(err)
		}
	}
	if full.Owned(alice) != 4 || full.Owned(bob) != 2 {
		t.Fatalf("replayed: alice %d bob %d", full.Owned(alice), full.Owned(bob))
	}
}

// TestSnapshotV1WithSalesNeedsReplay: a BXS1 snapshot does not name the
// buyers of its sold seats, so Decode refuses it with ErrNoBuyers; one
// without sold seats still decodes.
func TestSnapshotV1WithSalesNeedsReplay(t *testing.T) {
	m := seatmap.New(eventID, 8)
	mustOK(t, m)(m.Hold(alice, booking(1), tickets(m, 0), t0, ttl))
	v1 := func(m *seatmap.Map) []byte {
		data, _ := m.MarshalBinary()
		// BXS5 ends the hold with its priced flags (0), then the buyer
		// list, the admissions, the standing areas and the promo codes;
		// with none of them they are five 0 bytes.
		if binary.AppendUvarint(nil, uint64(len(m.Buyers())))[0] != 0 {
			t.Fatal("v1 fixture needs a map without buyers")
		}
		return append([]byte("BXS1"), data[4:len(data)-5]...)
	}
	got, err := seatmap.Decode(eventID, v1(m))
	if err != nil || got.Owned(alice) != 1 {
		t.Fatalf("BXS1 without sales: %v", err)
	}
	mustOK(t, m)(m.Sell(booking(1)))
	data, _ := m.MarshalBinary()
	// The snapshot as BXS1 had it: without the buyer list (a count of 1,
	// 16 bytes of user, a count of 1 seat), the admissions (0), the
	// standing areas (0) and the promo codes (0).
	old := append([]byte("BXS1"), data[4:len(data)-21]...)
	if _, err := seatmap.Decode(eventID, old); !errors.Is(err, seatmap.ErrNoBuyers) {
		t.Fatalf("BXS1 with sales: %v, want ErrNoBuyers", err)
	}
}
