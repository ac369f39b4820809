package seatmap

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestRecordSeatsAreTheirOwn: records cut their seats from one slab
// (seatsOf), so a caller that appends to or overwrites one record's seats
// must never reach the next record's, nor the holds'.
func TestRecordSeatsAreTheirOwn(t *testing.T) {
	m := New(uuid.New(), 2*seatSlabSize+8)
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	owner := uuid.New()
	var recs []Record
	// Enough records to cross two slabs, of 1 to 3 seats each.
	for i := 0; i+3 <= m.Len(); i += 3 {
		n := 1 + i%3
		tickets := make([]uuid.UUID, n)
		for k := range tickets {
			tickets[k] = m.TicketID(i + k)
		}
		r, err := m.Hold(owner, uuid.New(), tickets, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	want := make([][]int32, len(recs))
	for k, r := range recs {
		want[k] = slices.Clone(r.Seats)
	}
	for k := range recs {
		recs[k].Seats = append(recs[k].Seats, -1) // must not write into the next record's seats
	}
	released, err := m.Release(recs[0].Booking, owner)
	if err != nil {
		t.Fatal(err)
	}
	for i := range released.Seats {
		released.Seats[i] = -2 // must not write into a hold or a record
	}
	for k, r := range recs {
		if got := r.Seats[:len(r.Seats)-1]; !slices.Equal(got, want[k]) {
			t.Fatalf("record %d: seats %v, want %v", k, got, want[k])
		}
		if k > 0 {
			if h, ok := m.HoldInfo(r.Booking); !ok || !slices.Equal(h.Seats, want[k]) {
				t.Fatalf("hold %d: seats %v, want %v", k, h.Seats, want[k])
			}
		}
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotSizeBound: snapshotSize is an upper bound of the snapshot's
// length for states with holds of every size, priced holds, sales and
// admissions, so MarshalBinary writes into one buffer without growing it.
func TestSnapshotSizeBound(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for _, seats := range []int{4, 1000, 50_000} {
		m := New(uuid.New(), seats)
		m.SetPromos(map[string]int{"SPRING-SALE-2027": 0})
		for i, k := 0, 0; i+10 <= seats && k < 2000; i, k = i+10, k+1 {
			n := 1 + k%10
			tickets := make([]uuid.UUID, n)
			types := make([]uint8, n)
			for j := range tickets {
				tickets[j] = m.TicketID(i + j)
				types[j] = uint8(j % 2)
			}
			p := Priced{}
			if k%3 == 0 {
				p = Priced{Types: types, Promo: "SPRING-SALE-2027"}
			}
			booking, buyer := uuid.New(), uuid.New()
			if _, err := m.ReservePriced(buyer, booking, tickets, nil, p, now, time.Hour); err != nil {
				t.Fatal(err)
			}
			if k%2 == 0 {
				if _, err := m.Sell(booking); err != nil {
					t.Fatal(err)
				}
				if _, err := m.Admit(booking, uuid.New(), i, now, now, "North gate 12"); err != nil {
					t.Fatal(err)
				}
			}
		}
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if bound := m.snapshotSize(); len(data) > bound {
			t.Fatalf("%d seats: snapshot of %d bytes, bound %d", seats, len(data), bound)
		}
		back, err := Decode(m.eventID, data)
		if err != nil {
			t.Fatal(err)
		}
		again, err := back.MarshalBinary()
		if err != nil || !slices.Equal(again, data) {
			t.Fatalf("%d seats: decode and encode again differ (%v)", seats, err)
		}
	}
}
