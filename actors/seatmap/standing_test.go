package seatmap_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// standingLayout is a map of 4 seats, a standing area "Floor" of 6 places,
// 2 seats and an area "Pit" of 3 places.
var standingLayout = []boxoffice.StandingArea{{Name: "Floor", First: 4, Capacity: 6}, {Name: "Pit", First: 12, Capacity: 3}}

const standingSeats = 15

func newStandingMap(t *testing.T) *seatmap.Map {
	t.Helper()
	m := seatmap.New(modelEvent, standingSeats)
	if err := m.SetStanding(standingLayout); err != nil {
		t.Fatal(err)
	}
	return m
}

// standingModel is the naive model of the standing counters: per area its
// capacity minus the places in live holds and sold; per booking the
// places it holds or bought; per user what it holds and owns.
type standingModel struct {
	limit int
	holds map[uuid.UUID]*standingHold // live holds
	sold  map[uuid.UUID]*standingHold // sold bookings (until refunded)
}

type standingHold struct {
	owner  uuid.UUID
	places map[string]int
	seats  []int32 // as the map chose them, for pin, sell and refund
	exp    int64
	pinned bool
}

func (s *standingModel) left(area string, capacity int) int {
	n := capacity
	for _, h := range s.holds {
		n -= h.places[area]
	}
	for _, h := range s.sold {
		n -= h.places[area]
	}
	return n
}

func (s *standingModel) owned(u uuid.UUID) int {
	n := 0
	for _, m := range []map[uuid.UUID]*standingHold{s.holds, s.sold} {
		for _, h := range m {
			if h.owner == u {
				for _, q := range h.places {
					n += q
				}
			}
		}
	}
	return n
}

// TestStandingModel drives random reserves of standing places, releases,
// expiries, pins, sales, refunds and admissions on a map and on the naive
// model, and checks after every step that each area's places left, each
// user's count and every reserve's outcome agree, that the map passes
// Check, and finally that the journal replays and the snapshot round-trips
// to the same state.
func TestStandingModel(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runStandingModel(t, seed, 300) })
	}
}

func runStandingModel(t *testing.T, seed uint64, steps int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 19))
	m := newStandingMap(t)
	limit := []int{0, 3, 10}[r.IntN(3)]
	m.SetLimit(limit)
	ref := &standingModel{limit: limit, holds: map[uuid.UUID]*standingHold{}, sold: map[uuid.UUID]*standingHold{}}
	var journal []seatmap.Record
	now := modelStart
	areas := []string{"Floor", "Pit", "Stalls"} // Stalls is no standing area
	capOf := map[string]int{"Floor": 6, "Pit": 3}
	for step := range steps {
		bk := modelBookings[r.IntN(len(modelBookings))]
		owner := modelOwners[r.IntN(len(modelOwners))]
		var rec seatmap.Record
		var err error
		switch op := r.IntN(10); {
		case op < 4: // reserve
			if ref.sold[bk] != nil {
				continue // booking IDs are not reused
			}
			var wants []seatmap.Want
			places := map[string]int{}
			for _, a := range areas {
				if r.IntN(2) == 0 {
					q := r.IntN(5)
					wants = append(wants, seatmap.Want{Section: a, Quantity: q})
					places[a] += q
				}
			}
			rec, err = m.Reserve(owner, bk, nil, wants, time.Unix(0, now), time.Duration(1+r.IntN(3))*time.Minute)
			want := ""
			total := 0
			for _, w := range wants {
				total += w.Quantity
			}
			switch {
			case len(wants) == 0:
				want = boxoffice.EInvalid // Hold of no ticket
			case places["Stalls"] > 0 || func() bool {
				for _, w := range wants {
					if w.Quantity < 1 {
						return true
					}
				}
				return false
			}() || total > boxoffice.MaxSeatsPerHold:
				want = boxoffice.EInvalid
			case ref.holds[bk] != nil:
				want = boxoffice.EBookingState
			case limit > 0 && ref.owned(owner)+total > limit:
				want = boxoffice.ELimitReached
			case places["Floor"] > ref.left("Floor", 6) || places["Pit"] > ref.left("Pit", 3):
				want = boxoffice.ESeatUnavailable
			}
			if got := code(err); got != want && !(want == "" && got == "ok") {
				t.Fatalf("step %d: reserve %v by %s: %v, model says %q", step, wants, owner, err, want)
			}
			if err == nil {
				if want != "" {
					t.Fatalf("step %d: reserve %v succeeded, model says %q", step, wants, want)
				}
				ref.holds[bk] = &standingHold{owner: owner, places: places, seats: rec.Seats, exp: rec.ExpiresAt}
			}
		case op < 5:
			rec, err = m.Release(bk, owner)
			if h := ref.holds[bk]; h != nil && h.owner == owner && !h.pinned {
				if err != nil {
					t.Fatalf("step %d: release: %v", step, err)
				}
				delete(ref.holds, bk)
			} else if err == nil {
				t.Fatalf("step %d: release of a hold the model does not have", step)
			}
		case op < 6:
			now += int64(time.Minute)
			recs := m.ExpireDue(time.Unix(0, now))
			journal = append(journal, recs...)
			for b, h := range ref.holds {
				if !h.pinned && h.exp <= now {
					delete(ref.holds, b)
				}
			}
			if len(recs) == 0 {
				err = fmt.Errorf("nothing")
			}
		case op < 7:
			rec, err = m.PinForPayment(bk, owner, time.Unix(0, now))
			if h := ref.holds[bk]; err == nil {
				h.pinned = true
			}
		case op < 8:
			rec, err = m.Sell(bk)
			if h := ref.holds[bk]; h != nil {
				if err != nil {
					t.Fatalf("step %d: sell: %v", step, err)
				}
				delete(ref.holds, bk)
				ref.sold[bk] = h
			}
		case op < 9:
			h := ref.sold[bk]
			if h == nil {
				continue
			}
			rec, err = m.Refund(bk, h.owner, h.seats)
			if err != nil {
				t.Fatalf("step %d: refund: %v", step, err)
			}
			delete(ref.sold, bk)
		default:
			h := ref.sold[bk]
			if h == nil {
				continue
			}
			rec, err = m.Admit(bk, owner, int(h.seats[0]), time.Unix(0, now), time.Unix(0, now), "")
		}
		if err == nil && rec.Kind != 0 {
			journal = append(journal, rec)
		}
		if err := m.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, a := range m.Areas() {
			if want := ref.left(a.Name, capOf[a.Name]); a.Left != want || a.Left < 0 {
				t.Fatalf("step %d: %s has %d places left, model %d", step, a.Name, a.Left, want)
			}
		}
		for _, u := range modelOwners {
			if m.Owned(u) != ref.owned(u) {
				t.Fatalf("step %d: user %s owns %d, model %d", step, u, m.Owned(u), ref.owned(u))
			}
		}
	}
	// The journal rebuilds the same state, and so does the snapshot.
	want, _ := m.MarshalBinary()
	replayed := newStandingMap(t)
	for _, rec := range journal {
		if err := replayed.Apply(rec); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	if got, _ := replayed.MarshalBinary(); !bytes.Equal(got, want) {
		t.Fatal("the journal replays to another state")
	}
	dec, err := seatmap.Decode(modelEvent, want)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := dec.MarshalBinary(); !bytes.Equal(got, want) {
		t.Fatal("the snapshot does not round-trip")
	}
	if fmt.Sprint(dec.Areas()) != fmt.Sprint(m.Areas()) {
		t.Fatalf("decoded areas %v, want %v", dec.Areas(), m.Areas())
	}
}

func code(err error) string {
	if err == nil {
		return "ok"
	}
	return boxoffice.ErrorCode(err)
}

// TestStandingReserve covers the outcomes a reserve of places has, mixed
// with seats.
func TestStandingReserve(t *testing.T) {
	m := newStandingMap(t)
	now := time.Unix(0, modelStart)
	alice, bob := modelOwners[0], modelOwners[1]
	// Seats and places in one hold, all or nothing.
	r, err := m.Reserve(alice, modelBookings[0], []uuid.UUID{m.TicketID(0)}, []seatmap.Want{{Section: "Floor", Quantity: 4}}, now, time.Minute)
	if err != nil || len(r.Seats) != 5 {
		t.Fatalf("reserve: %v %v", r, err)
	}
	if got := m.StandingCount(r.Seats); fmt.Sprint(got) != "[4 0]" {
		t.Fatalf("standing count %v", got)
	}
	// Floor has 2 left: 3 more is refused, and the seat asked beside them
	// stays available.
	_, err = m.Reserve(bob, modelBookings[1], []uuid.UUID{m.TicketID(1)}, []seatmap.Want{{Section: "Floor", Quantity: 3}}, now, time.Minute)
	if e, ok := err.(*boxoffice.Error); !ok || e.Code != boxoffice.ESeatUnavailable || e.Details["left"] != 2 || e.Details["section"] != "Floor" {
		t.Fatalf("short area: %v", err)
	}
	if m.Status(1) != boxoffice.SeatAvailable {
		t.Fatal("a refused reserve held its seat")
	}
	// A taken seat refuses the places with it.
	_, err = m.Reserve(bob, modelBookings[1], []uuid.UUID{m.TicketID(0)}, []seatmap.Want{{Section: "Floor", Quantity: 2}}, now, time.Minute)
	if code(err) != boxoffice.ESeatUnavailable || m.Areas()[0].Left != 2 {
		t.Fatalf("taken seat: %v, %d left", err, m.Areas()[0].Left)
	}
	for _, c := range []struct {
		name  string
		wants []seatmap.Want
		code  string
	}{
		{"unknown area", []seatmap.Want{{Section: "Stalls", Quantity: 1}}, boxoffice.EInvalid},
		{"twice", []seatmap.Want{{Section: "Pit", Quantity: 1}, {Section: "Pit", Quantity: 1}}, boxoffice.EInvalid},
		{"zero", []seatmap.Want{{Section: "Pit", Quantity: 0}}, boxoffice.EInvalid},
		{"eleven", []seatmap.Want{{Section: "Floor", Quantity: 2}, {Section: "Pit", Quantity: 9}}, boxoffice.EInvalid},
	} {
		if _, err := m.Reserve(bob, modelBookings[2], nil, c.wants, now, time.Minute); code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// Expiry gives the places back.
	m.ExpireDue(now.Add(time.Hour))
	if a := m.Areas()[0]; a.Left != 6 {
		t.Fatalf("after expiry %d left", a.Left)
	}
}
