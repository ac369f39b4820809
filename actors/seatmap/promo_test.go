package seatmap_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// promoLimits are the codes of the promo model: a small limit, a larger
// one and none (0). "NOPE" is never declared.
var promoLimits = map[string]int{"TWO": 2, "FIVE": 5, "FREE": 0}

var promoCodes = []string{"", "TWO", "FIVE", "FREE", "NOPE"}

// promoModel is the naive model of promo uses: a code's uses are the live
// holds made with it plus its sold bookings not refunded.
type promoModel struct {
	holds map[uuid.UUID]*promoHold
	sold  map[uuid.UUID]*promoHold
}

type promoHold struct {
	owner  uuid.UUID
	promo  string
	types  []uint8
	seats  []int32
	exp    int64
	pinned bool
}

func (p *promoModel) uses(code string) int {
	n := 0
	for _, m := range []map[uuid.UUID]*promoHold{p.holds, p.sold} {
		for _, h := range m {
			if h.promo == code {
				n++
			}
		}
	}
	return n
}

// TestPromoModel drives random priced reserves (with types and codes),
// releases, expiries, pins, unpins, sales and refunds on a map and on the
// naive model, and checks after every step that every reserve's outcome
// and every code's uses agree, that no code passes its limit, that the map
// passes Check and, at the end, that the journal replays (through its
// encoding) and the snapshot round-trips to the same state.
func TestPromoModel(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runPromoModel(t, seed, 400) })
	}
}

func runPromoModel(t *testing.T, seed uint64, steps int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 19))
	const seats = 24
	m := seatmap.New(modelEvent, seats)
	m.SetPromos(promoLimits)
	model := &promoModel{holds: map[uuid.UUID]*promoHold{}, sold: map[uuid.UUID]*promoHold{}}
	owners := []uuid.UUID{alice, bob}
	now := time.Unix(1_800_000_000, 0)
	const hold = time.Minute
	var journal []seatmap.Record
	nextBooking := 0
	pick := func(from map[uuid.UUID]*promoHold) (uuid.UUID, *promoHold) {
		keys := make([]uuid.UUID, 0, len(from))
		for k := range from {
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			return uuid.Nil, nil
		}
		slices.SortFunc(keys, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		k := keys[r.IntN(len(keys))]
		return k, from[k]
	}
	for step := range steps {
		var recs []seatmap.Record
		var err error
		switch op := r.IntN(10); {
		case op < 5: // reserve 1..3 seats with types and maybe a code
			nextBooking++
			b, owner := booking(nextBooking), owners[r.IntN(len(owners))]
			n := 1 + r.IntN(3)
			idx := r.Perm(seats)[:n]
			var types []uint8
			if r.IntN(2) == 0 {
				types = make([]uint8, n)
				for k := range types {
					types[k] = uint8(r.IntN(3))
				}
			}
			code := promoCodes[r.IntN(len(promoCodes))]
			want := "ok"
			limit, known := promoLimits[code]
			switch {
			case code != "" && !known, code != "" && limit > 0 && model.uses(code) >= limit:
				want = boxoffice.EInvalid
			default:
				for _, i := range idx {
					if m.Status(i) != boxoffice.SeatAvailable {
						want = boxoffice.ESeatUnavailable
					}
				}
			}
			seatIdx := make([]int32, n)
			for k, i := range idx {
				seatIdx[k] = int32(i)
			}
			var rec seatmap.Record
			rec, err = m.ReservePriced(owner, b, tickets(m, idx...), nil, seatmap.Priced{Types: types, Promo: code}, now, hold)
			if got := code2(err); got != want {
				t.Fatalf("step %d: reserve %v promo %q: %s (%v), model says %s", step, idx, code, got, err, want)
			}
			if err == nil {
				recs = append(recs, rec)
				if slices.ContainsFunc(types, func(x uint8) bool { return x != 0 }) != (rec.Types != nil) || rec.Promo != code {
					t.Fatalf("step %d: record types %v promo %q, asked %v %q", step, rec.Types, rec.Promo, types, code)
				}
				model.holds[b] = &promoHold{owner: owner, promo: code, types: rec.Types, seats: seatIdx, exp: now.Add(hold).UnixNano()}
			}
		case op < 6: // release
			b, h := pick(model.holds)
			if h == nil {
				continue
			}
			var rec seatmap.Record
			rec, err = m.Release(b, h.owner)
			if (err == nil) == h.pinned {
				t.Fatalf("step %d: release pinned=%v: %v", step, h.pinned, err)
			}
			if err == nil {
				recs = append(recs, rec)
				delete(model.holds, b)
			}
		case op < 7: // time passes; due holds expire
			now = now.Add(time.Duration(r.IntN(40)) * time.Second)
			recs = m.ExpireDue(now)
			for b, h := range model.holds {
				if !h.pinned && h.exp <= now.UnixNano() {
					delete(model.holds, b)
				}
			}
			if len(recs) != 0 && len(model.holds) != m.Holds() {
				t.Fatalf("step %d: %d holds after expiry, model %d", step, m.Holds(), len(model.holds))
			}
		case op < 8: // pin or unpin
			b, h := pick(model.holds)
			if h == nil {
				continue
			}
			var rec seatmap.Record
			if h.pinned {
				rec, err = m.Unpin(b)
			} else if rec, err = m.PinForPayment(b, h.owner, now); err != nil {
				continue // overdue: the next expiry ends it
			}
			if err != nil {
				t.Fatalf("step %d: pin/unpin: %v", step, err)
			}
			recs = append(recs, rec)
			h.pinned = !h.pinned
		case op < 9: // sell
			b, h := pick(model.holds)
			if h == nil {
				continue
			}
			var rec seatmap.Record
			if rec, err = m.Sell(b); err != nil {
				t.Fatalf("step %d: sell: %v", step, err)
			}
			recs = append(recs, rec)
			delete(model.holds, b)
			model.sold[b] = h
		default: // refund a sale, giving its code's use back
			b, h := pick(model.sold)
			if h == nil {
				continue
			}
			var rec seatmap.Record
			if rec, err = m.RefundPromo(b, h.owner, h.seats, h.promo); err != nil {
				t.Fatalf("step %d: refund: %v", step, err)
			}
			recs = append(recs, rec)
			delete(model.sold, b)
		}
		journal = append(journal, recs...)
		for code, limit := range promoLimits {
			if got, want := m.PromoUses(code), model.uses(code); got != want || (limit > 0 && got > limit) {
				t.Fatalf("step %d: code %s has %d uses, model %d, limit %d", step, code, got, want, limit)
			}
		}
		if err := m.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	// The journal, through its encoding, rebuilds the same state.
	replayed := seatmap.New(modelEvent, seats)
	for _, rec := range journal {
		data, err := rec.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := seatmap.UnmarshalRecord(data)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back.Types, rec.Types) || back.Promo != rec.Promo {
			t.Fatalf("v%d: decoded types %v promo %q, want %v %q", rec.Version, back.Types, back.Promo, rec.Types, rec.Promo)
		}
		if err := replayed.Apply(back); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := m.MarshalBinary()
	got, _ := replayed.MarshalBinary()
	if !bytes.Equal(got, want) {
		t.Fatal("replayed journal differs from the live map")
	}
	dec, err := seatmap.Decode(modelEvent, want)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := dec.MarshalBinary()
	if !bytes.Equal(again, want) || dec.Check() != nil {
		t.Fatal("snapshot does not round-trip")
	}
	for code := range promoLimits {
		if dec.PromoUses(code) != m.PromoUses(code) {
			t.Fatalf("snapshot: %s has %d uses, live %d", code, dec.PromoUses(code), m.PromoUses(code))
		}
	}
}

func code2(err error) string {
	if err == nil {
		return "ok"
	}
	return boxoffice.ErrorCode(err)
}

// TestPricedRecordFastPath: a hold without types or promo journals no
// extra byte, and a priced one round-trips.
func TestPricedRecordFastPath(t *testing.T) {
	m := seatmap.New(modelEvent, 8)
	m.SetPromos(map[string]int{"X": 1})
	plain := mustOK(t, m)(m.ReservePriced(alice, booking(1), tickets(m, 0), nil, seatmap.Priced{}, t0, ttl))
	m2 := seatmap.New(modelEvent, 8)
	old := mustOK(t, m2)(m2.Hold(alice, booking(1), tickets(m2, 0), t0, ttl))
	a, _ := plain.MarshalBinary()
	b, _ := old.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatalf("an unpriced hold's record changed: %x vs %x", a, b)
	}
	priced := mustOK(t, m)(m.ReservePriced(bob, booking(2), tickets(m, 1, 2), nil, seatmap.Priced{Types: []uint8{0, 2}, Promo: "X"}, t0, ttl))
	data, _ := priced.MarshalBinary()
	back, err := seatmap.UnmarshalRecord(data)
	if err != nil || !slices.Equal(back.Types, []uint8{0, 2}) || back.Promo != "X" {
		t.Fatalf("priced record: %+v, %v", back, err)
	}
	if _, err := m.ReservePriced(bob, booking(3), tickets(m, 3), nil, seatmap.Priced{Promo: "X"}, t0, ttl); code2(err) != boxoffice.EInvalid {
		t.Fatalf("a used-up code: %v", err)
	}
	if info, _ := m.HoldInfo(booking(2)); !slices.Equal(info.Types, []uint8{0, 2}) || info.Promo != "X" {
		t.Fatalf("hold info %+v", info)
	}
	// Non-canonical extensions are refused.
	for _, tail := range [][]byte{{0}, {1, 0, 0}, {4}, {2, 0}} {
		if _, err := seatmap.UnmarshalRecord(append(b[:len(b):len(b)], tail...)); err == nil {
			t.Errorf("extension %x accepted", tail)
		}
	}
}
