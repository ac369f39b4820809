package seatmap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// bestMap builds a map from rows drawn as strings, one per row of section
// "A" (or "B" after a "|" row): '.' a free seat, 'x' a taken one, 'w' a
// free wheelchair space, 'W' a taken one, 'c' a free companion seat, 'C' a
// taken one.
func bestMap(t *testing.T, rows ...string) *seatmap.Map {
	t.Helper()
	var spans []boxoffice.RowSpan
	var taken []int
	n, sec := 0, "A"
	for k, r := range rows {
		if r == "|" {
			sec = "B"
			continue
		}
		span := boxoffice.RowSpan{Section: sec, Row: fmt.Sprint(k + 1), First: n, Seats: len(r)}
		for p, c := range r {
			switch c {
			case 'w', 'W':
				span.Wheelchair = append(span.Wheelchair, p+1)
			case 'c', 'C':
				span.Companion = append(span.Companion, p+1)
			}
			if strings.ContainsRune("xWC", c) {
				taken = append(taken, n+p)
			}
		}
		spans = append(spans, span)
		n += len(r)
	}
	m := seatmap.New(modelEvent, n)
	if err := m.SetRows(spans); err != nil {
		t.Fatal(err)
	}
	for k, i := range taken {
		if _, err := m.Hold(modelOwners[0], uuid.NewSHA1(modelEvent, []byte(fmt.Sprint(k))), []uuid.UUID{m.TicketID(i)},
			time.Unix(0, modelStart), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestPickBest(t *testing.T) {
	cases := []struct {
		name string
		rows []string
		want seatmap.BestWant
		pick []int32 // nil: nothing fits
	}{
		{"empty row, centre", []string{"........"}, seatmap.BestWant{Quantity: 2}, []int32{3, 4}},
		{"first row wins", []string{"..........", ".........."}, seatmap.BestWant{Quantity: 4}, []int32{3, 4, 5, 6}},
		{"no single seat beside the block", []string{"xx......xx"}, seatmap.BestWant{Quantity: 4}, []int32{2, 3, 4, 5}},
		{"run of q+1 leaves a gap: a later row without one wins", []string{"x.....x", "......"}, seatmap.BestWant{Quantity: 4}, []int32{7, 8, 9, 10}},
		{"together with a gap beats split", []string{"x.....x", "..x..x"}, seatmap.BestWant{Quantity: 4}, []int32{1, 2, 3, 4}},
		{"split when no block", []string{"..x..x..", "x.x.x.x."}, seatmap.BestWant{Quantity: 4}, []int32{0, 1, 3, 4}},
		{"split across rows", []string{".x.x", "x.xx"}, seatmap.BestWant{Quantity: 3}, []int32{0, 2, 5}},
		{"not enough", []string{".x.x", "xxxx"}, seatmap.BestWant{Quantity: 3}, nil},
		{"plain skips wheelchair and companion", []string{"wc..", "...."}, seatmap.BestWant{Quantity: 3}, []int32{4, 5, 6}},
		{"plain never takes a wheelchair space", []string{"wcc."}, seatmap.BestWant{Quantity: 2}, nil},
		{"section B", []string{"....", "|", "...."}, seatmap.BestWant{Section: "B", Quantity: 2}, []int32{4, 5}},
		{"accessible: space and companions", []string{"........", "..cwc..."}, seatmap.BestWant{Quantity: 2, Accessible: true}, []int32{10, 11}},
		{"accessible of 3", []string{"........", "..cwc..."}, seatmap.BestWant{Quantity: 3, Accessible: true}, []int32{10, 11, 12}},
		{"accessible alone", []string{"..w.."}, seatmap.BestWant{Quantity: 1, Accessible: true}, []int32{2}},
		{"accessible: taken space skipped", []string{"cWc.", "cw.."}, seatmap.BestWant{Quantity: 2, Accessible: true}, []int32{4, 5}},
		{"accessible: nothing", []string{"cWc.", "...."}, seatmap.BestWant{Quantity: 1, Accessible: true}, nil},
		{"accessible split", []string{"cxwxc"}, seatmap.BestWant{Quantity: 3, Accessible: true}, []int32{0, 2, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := bestMap(t, c.rows...)
			got, err := m.PickBest(c.want)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.pick) {
				t.Fatalf("picked %v, want %v", got, c.pick)
			}
		})
	}
}

func TestReserveBestErrors(t *testing.T) {
	m := bestMap(t, "x..x", "|", "....")
	now := time.Unix(0, modelStart)
	cases := []struct {
		want  seatmap.BestWant
		code  string
		field string
	}{
		{seatmap.BestWant{Quantity: 0}, boxoffice.EInvalid, "best_available.quantity"},
		{seatmap.BestWant{Quantity: 11}, boxoffice.EInvalid, "best_available.quantity"},
		{seatmap.BestWant{Quantity: 1, Section: "Z"}, boxoffice.EInvalid, "best_available.section"},
		{seatmap.BestWant{Quantity: 3, Section: "A"}, boxoffice.ESeatUnavailable, ""},
		{seatmap.BestWant{Quantity: 1, Accessible: true}, boxoffice.ESeatUnavailable, ""},
	}
	for _, c := range cases {
		_, err := m.ReserveBest(modelOwners[1], modelBookings[0], c.want, now, time.Minute)
		var be *boxoffice.Error
		if !errors.As(err, &be) || be.Code != c.code {
			t.Fatalf("%+v: got %v, want %s", c.want, err, c.code)
		}
		if c.field != "" && be.Details["field"] != c.field {
			t.Fatalf("%+v: field %v, want %s", c.want, be.Details["field"], c.field)
		}
	}
	r, err := m.ReserveBest(modelOwners[1], modelBookings[0], seatmap.BestWant{Quantity: 4}, now, time.Minute)
	if err != nil || !slices.Equal(r.Seats, []int32{4, 5, 6, 7}) {
		t.Fatalf("reserve best: %v %v", r.Seats, err)
	}
	if _, err := m.ReserveBest(modelOwners[1], modelBookings[0], seatmap.BestWant{Quantity: 2}, now, time.Minute); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
		t.Fatalf("second reserve of the booking: %v", err)
	}
	m.SetLimit(5)
	if _, err := m.ReserveBest(modelOwners[1], modelBookings[1], seatmap.BestWant{Quantity: 2}, now, time.Minute); boxoffice.ErrorCode(err) != boxoffice.ELimitReached {
		t.Fatalf("past the limit: %v", err)
	}
}

// TestPickBestProperties checks PickBest against a brute-force model on
// random small venues: it never picks a taken seat (nor, for a plain
// request, an accessible one), never splits a party when some row has a
// contiguous block for it, never leaves a single free seat beside its block
// when some block would not, and fails only when there are too few seats.
func TestPickBestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	for iter := range 3000 {
		var rows []string
		for range 1 + rng.IntN(4) {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				switch v := rng.IntN(20); {
				case v < 1:
					b.WriteByte("wW"[rng.IntN(2)])
				case v < 2:
					b.WriteByte("cC"[rng.IntN(2)])
				case v < 10:
					b.WriteByte('x')
				default:
					b.WriteByte('.')
				}
			}
			rows = append(rows, b.String())
		}
		m := bestMap(t, rows...)
		// Several reserves and releases in turn on one map, so that what
		// the map remembers of its rows between picks is checked too.
		cur := []byte(strings.Join(rows, ""))
		var held [][]int32
		now := time.Unix(0, modelStart)
		for step := range 6 {
			if k := rng.IntN(max(len(held), 1)); len(held) > 0 && held[k] != nil && rng.IntN(3) == 0 {
				if _, err := m.Release(modelBookings[k], modelOwners[1]); err != nil {
					t.Fatal(err)
				}
				for _, i := range held[k] {
					cur[i] = map[byte]byte{'x': '.', 'W': 'w', 'C': 'c'}[cur[i]]
				}
				held[k] = nil
				if err := m.Check(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if len(held) == len(modelBookings) {
				break
			}
			want := seatmap.BestWant{Quantity: 1 + rng.IntN(5), Accessible: rng.IntN(4) == 0}
			got, err := m.PickBest(want)
			if err != nil {
				t.Fatal(err)
			}
			var now2 []string
			at := 0
			for _, r := range rows {
				now2 = append(now2, string(cur[at:at+len(r)]))
				at += len(r)
			}
			desc := fmt.Sprintf("iteration %d step %d, rows %q, %+v: picked %v", iter, step, now2, want, got)
			checkBest(t, desc, now2, want, got)
			if got == nil {
				continue
			}
			r, err := m.ReserveBest(modelOwners[1], modelBookings[len(held)], want, now, time.Hour)
			if err != nil || !slices.Equal(r.Seats, got) {
				t.Fatalf("%s: reserve best held %v, %v", desc, r.Seats, err)
			}
			for _, i := range got {
				cur[i] = map[byte]byte{'.': 'x', 'w': 'W', 'c': 'C'}[cur[i]]
			}
			held = append(held, got)
			if err := m.Check(); err != nil {
				t.Fatalf("%s: %v", desc, err)
			}
		}
	}
}

// checkBest is the model the property test holds PickBest to.
func checkBest(t *testing.T, desc string, rows []string, want seatmap.BestWant, got []int32) {
	t.Helper()
	var flat []byte
	var rowOf []int
	for k, r := range rows {
		flat = append(flat, r...)
		for range r {
			rowOf = append(rowOf, k)
		}
	}
	q := want.Quantity
	usable := func(c byte) bool { return c == '.' || (want.Accessible && c == 'c') }
	// blocks: every contiguous block of q in one row the request may take,
	// and whether it leaves a single free seat (of the kind it may take)
	// beside it.
	free := func(i int, row int) bool { return i >= 0 && i < len(flat) && rowOf[i] == row && usable(flat[i]) }
	single := func(s, e int) bool {
		r := rowOf[s]
		return (free(s-1, r) && !free(s-2, r)) || (free(e, r) && !free(e+1, r))
	}
	blockOK := func(s int) bool {
		if s+q > len(flat) || rowOf[s] != rowOf[s+q-1] {
			return false
		}
		wheel := 0
		for i := s; i < s+q; i++ {
			switch {
			case want.Accessible && flat[i] == 'w':
				wheel++
			case !usable(flat[i]):
				return false
			}
		}
		return wheel == map[bool]int{true: 1, false: 0}[want.Accessible]
	}
	anyBlock, anyClean := false, false
	for s := range flat {
		if blockOK(s) {
			anyBlock = true
			if !want.Accessible && !single(s, s+q) {
				anyClean = true
			}
		}
	}
	if got == nil {
		if anyBlock {
			t.Fatalf("%s: nothing picked though a block exists", desc)
		}
		plain := 0
		for _, c := range flat {
			if c == '.' {
				plain++
			}
		}
		if !want.Accessible && plain >= q {
			t.Fatalf("%s: nothing picked though %d plain seats are free", desc, plain)
		}
		return
	}
	if len(got) != q {
		t.Fatalf("%s: picked %d seats, want %d", desc, len(got), q)
	}
	wheel := 0
	for k, i := range got {
		if k > 0 && got[k-1] >= i {
			t.Fatalf("%s: seats not distinct and ordered", desc)
		}
		switch c := flat[i]; {
		case c == 'w' && want.Accessible:
			wheel++
		case c == 'c' && want.Accessible:
		case c != '.':
			t.Fatalf("%s: picked seat %d (%c), which it may not", desc, i, c)
		}
	}
	if want.Accessible && wheel != 1 {
		t.Fatalf("%s: %d wheelchair spaces, want 1", desc, wheel)
	}
	together := int(got[q-1]-got[0]) == q-1 && rowOf[got[0]] == rowOf[got[q-1]]
	if anyBlock && !together {
		t.Fatalf("%s: party split though a block exists", desc)
	}
	if anyClean && single(int(got[0]), int(got[0])+q) {
		t.Fatalf("%s: leaves a single seat though a block without one exists", desc)
	}
}

// The best-available benchmarks run on the 50,000-seat stadium as the demo
// seeds it (20 sections of 50 rows of 50 here, a wheelchair space and a
// companion seat at each end of every row), 20% held at random.

// BenchmarkBestAvailable4 is a best-available hold of 4, each iteration a
// new hold, as the venue fills from 20% to 80% (then a fresh map).
func BenchmarkBestAvailable4(b *testing.B) {
	benchBest(b, seatmap.BestWant{Quantity: 4})
}

// BenchmarkBestAvailable4Section asks for a section of the stadium.
func BenchmarkBestAvailable4Section(b *testing.B) {
	benchBest(b, seatmap.BestWant{Quantity: 4, Section: "J"})
}

// BenchmarkBestAvailableAccessible2 asks for a wheelchair space and a
// companion.
func BenchmarkBestAvailableAccessible2(b *testing.B) {
	benchBest(b, seatmap.BestWant{Quantity: 2, Accessible: true})
}

// BenchmarkBestAvailable4Scattered is the worst case: one plain seat free
// in each row, so no row seats 4 and every pick scans the whole venue
// before it splits the party; each iteration holds 4 and releases them.
func BenchmarkBestAvailable4Scattered(b *testing.B) {
	m := stadiumRows(b, seatmap.New(benchEvent, benchSeats))
	for first := 0; first < benchSeats; first += 50 {
		for k := 0; k < 50; k += 10 {
			var req []uuid.UUID
			for i := first + k; i < first+k+10; i++ {
				if i != first+25 {
					req = append(req, m.TicketID(i))
				}
			}
			if _, err := m.Hold(benchOwner, uuid.New(), req, benchStart, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uuid.New()
		if _, err := m.ReserveBest(benchOwner, id, seatmap.BestWant{Quantity: 4}, benchStart, time.Hour); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Release(id, benchOwner); err != nil {
			b.Fatal(err)
		}
	}
}

// stadiumRows declares the benchmark stadium's rows on m.
func stadiumRows(b *testing.B, m *seatmap.Map) *seatmap.Map {
	b.Helper()
	var spans []boxoffice.RowSpan
	for s := range 20 {
		for r := range 50 {
			spans = append(spans, boxoffice.RowSpan{Section: string(rune('A' + s)), Row: fmt.Sprint(r + 1),
				First: (s*50 + r) * 50, Seats: 50, Wheelchair: []int{1, 50}, Companion: []int{2, 49}})
		}
	}
	if err := m.SetRows(spans); err != nil {
		b.Fatal(err)
	}
	return m
}

func benchBest(b *testing.B, want seatmap.BestWant) {
	fresh := func() *seatmap.Map {
		m, _ := populated(rand.New(rand.NewPCG(1, 2)))
		return stadiumRows(b, m)
	}
	m := fresh()
	now := benchStart
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Microsecond)
		_, err := m.ReserveBest(benchOwner, uuid.New(), want, now, 10*time.Minute)
		if boxoffice.ErrorCode(err) == boxoffice.ESeatUnavailable || m.Counts().Available < benchSeats/5 {
			b.StopTimer()
			m = fresh()
			b.StartTimer()
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
