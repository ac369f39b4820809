package seatmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// soldMap is a map of n seats with seats 0..sold-1 sold to booking(1).
func soldMap(t *testing.T, n, sold int) *seatmap.Map {
	t.Helper()
	m := seatmap.New(eventID, n)
	idx := make([]int, sold)
	for i := range idx {
		idx[i] = i
	}
	mustOK(t, m)(m.Hold(alice, booking(1), tickets(m, idx...), t0, ttl))
	mustOK(t, m)(m.Sell(booking(1)))
	return m
}

func TestAdmit(t *testing.T) {
	door := uuid.MustParse("00000000-0000-4000-8000-0000000d0052")
	m := soldMap(t, 8, 3)
	m.Hold(bob, booking(2), tickets(m, 5), t0, ttl) // held, not sold
	offline := t0.Add(-time.Hour)
	r := mustOK(t, m)(m.Admit(booking(1), door, 0, t0, offline, "North 1"))
	if r.Kind != seatmap.KindAdmitted || r.Booking != booking(1) || r.Owner != door || len(r.Seats) != 1 || r.Seats[0] != 0 ||
		r.ExpiresAt != t0.UnixNano() || r.ScannedAt != offline.UnixNano() || r.Gate != "North 1" || r.Changes() != nil {
		t.Fatalf("record %+v", r)
	}
	a, ok := m.Admission(0)
	if !ok || !a.AdmittedAt.Equal(t0) || !a.ScannedAt.Equal(offline) || a.Gate != "North 1" || a.TicketID != m.TicketID(0) || m.Admitted() != 1 {
		t.Fatalf("admission %+v %v, %d admitted", a, ok, m.Admitted())
	}
	for _, tc := range []struct {
		name    string
		booking uuid.UUID
		seat    int
		gate    string
		code    string
	}{
		{"again", booking(1), 0, "South", boxoffice.EAlreadyAdmitted},
		{"a seat never sold", booking(1), 7, "", boxoffice.ETicketRevoked},
		{"a held seat", booking(2), 5, "", boxoffice.ETicketRevoked},
		{"past the venue", booking(1), 8, "", boxoffice.ENotFound},
		{"a negative seat", booking(1), -1, "", boxoffice.ENotFound},
		{"a long gate", booking(1), 1, strings.Repeat("g", boxoffice.MaxGateLen+1), boxoffice.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unchanged(t, m, tc.code, func() error {
				_, err := m.Admit(tc.booking, door, tc.seat, t0.Add(time.Minute), time.Time{}, tc.gate)
				return err
			})
		})
	}
	_, err := m.Admit(booking(1), door, 0, t0.Add(time.Minute), time.Time{}, "South")
	var e *boxoffice.Error
	if !errors.As(err, &e) || e.Details["gate"] != "North 1" || e.Details["admitted_at"] != t0.Format(time.RFC3339Nano) ||
		e.Details["scanned_at"] != offline.Format(time.RFC3339Nano) {
		t.Fatalf("already_admitted details %+v", e)
	}
}

// TestAdmitRefusedOnReplay: the journal refuses an admission of a seat
// that is not sold, of a seat admitted already, and a malformed one.
func TestAdmitRefusedOnReplay(t *testing.T) {
	m := soldMap(t, 4, 1)
	next := m.Version() + 1
	for _, r := range []seatmap.Record{
		{Version: next, Kind: seatmap.KindAdmitted, Booking: booking(1), Seats: []int32{2}},
		{Version: next, Kind: seatmap.KindAdmitted, Booking: booking(1), Seats: []int32{0, 0}},
		{Version: next, Kind: seatmap.KindAdmitted, Booking: booking(1), Seats: []int32{9}},
	} {
		if err := m.Apply(r); err == nil {
			t.Errorf("applied %+v", r)
		}
	}
	ok := seatmap.Record{Version: next, Kind: seatmap.KindAdmitted, Booking: booking(1), Seats: []int32{0}, ExpiresAt: t0.UnixNano(), Gate: "G"}
	if err := m.Apply(ok); err != nil {
		t.Fatal(err)
	}
	ok.Version++
	if err := m.Apply(ok); err == nil {
		t.Fatal("the same seat admitted twice on replay")
	}
	for _, bad := range []seatmap.Record{
		{Version: 1, Kind: seatmap.KindAdmitted, Booking: booking(1), Seats: []int32{0}, Gate: strings.Repeat("g", 65)},
		{Version: 1, Kind: seatmap.KindSold, Booking: booking(1), Seats: []int32{0}, Gate: "G"},
		{Version: 1, Kind: seatmap.KindHeld, Booking: booking(1), Seats: []int32{0}, ScannedAt: 1},
	} {
		if _, err := bad.MarshalBinary(); err == nil {
			t.Errorf("encoded %+v", bad)
		}
	}
}

// TestAdmitModel runs random sequences of sales, scans (of sold, unsold,
// admitted and missing seats, under the right or another booking),
// snapshots and restarts against a reference: a seat is admitted at most
// once per booking, every refusal changes nothing, and the journal (from
// version 0, or after any snapshot) rebuilds exactly the live map,
// admissions included.
func TestAdmitModel(t *testing.T) {
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seatmap.seed=%d)", seed, seed)
	for i := range 500 {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		if err := admitRun(rng, 1+rng.IntN(24), 80); err != nil {
			t.Fatalf("seed %d, sequence %d: %v", seed, i, err)
		}
	}
}

func admitRun(rng *rand.Rand, n, steps int) error {
	m := seatmap.New(modelEvent, n)
	soldTo := map[int]uuid.UUID{}
	admitted := map[int]uuid.UUID{}
	var journal []seatmap.Record
	snap, _ := m.MarshalBinary()
	snapAt := 0
	now := time.Unix(0, modelStart)
	nextBooking := 0
	for step := range steps {
		now = now.Add(time.Second)
		before, _ := m.MarshalBinary()
		switch op := rng.IntN(10); {
		case op < 3: // a sale of 1..3 available seats
			var free []int
			for i := range n {
				if m.Status(i) == boxoffice.SeatAvailable {
					free = append(free, i)
				}
			}
			if len(free) == 0 {
				continue
			}
			rng.Shuffle(len(free), func(a, b int) { free[a], free[b] = free[b], free[a] })
			free = free[:1+rng.IntN(min(3, len(free)))]
			nextBooking++
			b := booking(nextBooking)
			ids := make([]uuid.UUID, len(free))
			for k, s := range free {
				ids[k] = m.TicketID(s)
			}
			h, err := m.Hold(alice, b, ids, now, time.Hour)
			if err != nil {
				return fmt.Errorf("step %d hold: %w", step, err)
			}
			s, err := m.Sell(b)
			if err != nil {
				return fmt.Errorf("step %d sell: %w", step, err)
			}
			journal = append(journal, h, s)
			for _, i := range free {
				soldTo[i] = b
			}
		case op < 8: // a scan
			seat := rng.IntN(n+2) - 1
			b, ok := soldTo[seat]
			if !ok || rng.IntN(5) == 0 {
				b = booking(1 + rng.IntN(nextBooking+1))
			}
			gate := []string{"", "A", "B"}[rng.IntN(3)]
			r, err := m.Admit(b, alice, seat, now, time.Time{}, gate)
			var want string
			switch {
			case seat < 0 || seat >= n:
				want = boxoffice.ENotFound
			case admitted[seat] == b && b != uuid.Nil:
				want = boxoffice.EAlreadyAdmitted
			case !ok:
				want = boxoffice.ETicketRevoked
			}
			if got := boxoffice.ErrorCode(err); err != nil && got != want || err == nil && want != "" {
				return fmt.Errorf("step %d: Admit(seat %d) = %v, want %q", step, seat, err, want)
			}
			if err != nil {
				if after, _ := m.MarshalBinary(); !bytes.Equal(before, after) {
					return fmt.Errorf("step %d: a refused Admit changed the map", step)
				}
				continue
			}
			back, err := roundTrip(r)
			if err != nil {
				return fmt.Errorf("step %d: %w", step, err)
			}
			journal = append(journal, back)
			admitted[seat] = b
		case op < 9:
			snap, snapAt = before, len(journal)
		default: // restart from the snapshot and the journal after it
			restored, err := seatmap.Decode(modelEvent, snap)
			if err != nil {
				return fmt.Errorf("step %d decode: %w", step, err)
			}
			if err := replay(restored, journal[snapAt:]); err != nil {
				return fmt.Errorf("step %d: %w", step, err)
			}
			if err := sameBytes("restart", restored, m); err != nil {
				return err
			}
			m = restored
		}
		if m.Admitted() != len(admitted) {
			return fmt.Errorf("step %d: %d admitted, want %d", step, m.Admitted(), len(admitted))
		}
		for s, b := range admitted {
			if a, ok := m.Admission(s); !ok || a.BookingID != b {
				return fmt.Errorf("step %d: seat %d admission %+v %v, want booking %s", step, s, a, ok, b)
			}
		}
	}
	fresh := seatmap.New(modelEvent, n)
	if err := replay(fresh, journal); err != nil {
		return err
	}
	return sameBytes("replay from version 0", fresh, m)
}

func roundTrip(r seatmap.Record) (seatmap.Record, error) {
	data, err := r.MarshalBinary()
	if err != nil {
		return seatmap.Record{}, err
	}
	back, err := seatmap.UnmarshalRecord(data)
	if err != nil || back.Gate != r.Gate || back.ScannedAt != r.ScannedAt || back.ExpiresAt != r.ExpiresAt {
		return seatmap.Record{}, fmt.Errorf("round trip of %+v: %+v, %v", r, back, err)
	}
	return back, nil
}
