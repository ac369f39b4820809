package seatmap

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Best available (h19access, API.md issue 19): the grain picks a party's
// seats inside the same serialised reserve that holds them, so no other
// hold can take them between the pick and the hold. The venue's rows and
// their accessible seats are static data the grain declares at activation
// (SetRows); nothing of it is journalled or snapshotted.
//
// The choice, in order of preference:
//  1. a block of Quantity adjacent seats in one row that leaves no single
//     empty seat beside it (a run of one free seat that is hard to sell);
//  2. a block of adjacent seats in one row that does leave one;
//  3. the party split: the row with enough free seats that needs the fewest
//     runs (largest runs first), else the rows in venue order.
//
// Within a tier the earliest row in venue order wins (sections and rows as
// the venue lists them: a venue lists its best rows first, and a buyer who
// wants a price asks for a section), and within a row the block nearest
// the row's centre. A plain request never picks a wheelchair space or a
// companion seat; an accessible one picks one wheelchair space and, for the
// rest of the party, the seats beside it, companion seats first.

// Access flags of a seat in Map.access.
const (
	accWheelchair uint8 = 1
	accCompanion  uint8 = 2
)

// rowSpan is one seated row: seats first..first+n-1 of section sec (an
// index into Map.sections).
type rowSpan struct {
	first, n int32
	sec      int32
}

// BestWant asks for Quantity seats picked by the map: in Section, or in
// any seated section when it is ""; Accessible asks for a wheelchair space
// and companions beside it.
type BestWant struct {
	Section    string
	Quantity   int
	Accessible bool
}

// SetRows declares the map's seated rows and their accessible seats (from
// the venue, boxoffice.SeatMap.RowSpans), which best available picks from.
// Rows must lie inside the map, in index order, without overlap; the
// previous rows are replaced.
func (m *Map) SetRows(spans []boxoffice.RowSpan) error {
	rows := make([]rowSpan, 0, len(spans))
	var sections []string
	var access []uint8
	var wheel []int32
	end := 0
	for _, s := range spans {
		if s.Seats < 1 || s.First < end || s.First+s.Seats > len(m.status) {
			return fmt.Errorf("seatmap: row %q/%q [%d,+%d) outside the map or overlapping", s.Section, s.Row, s.First, s.Seats)
		}
		end = s.First + s.Seats
		if len(sections) == 0 || sections[len(sections)-1] != s.Section {
			sections = append(sections, s.Section)
		}
		rows = append(rows, rowSpan{first: int32(s.First), n: int32(s.Seats), sec: int32(len(sections) - 1)})
		for _, list := range []struct {
			seats []int
			flag  uint8
		}{{s.Wheelchair, accWheelchair}, {s.Companion, accCompanion}} {
			for _, n := range list.seats {
				if n < 1 || n > s.Seats {
					return fmt.Errorf("seatmap: row %q/%q has no seat %d", s.Section, s.Row, n)
				}
				if access == nil {
					access = make([]uint8, len(m.status))
				}
				i := s.First + n - 1
				access[i] = list.flag
				if list.flag == accWheelchair {
					wheel = append(wheel, int32(i))
				}
			}
		}
	}
	sort.Slice(wheel, func(a, b int) bool { return wheel[a] < wheel[b] })
	m.rows, m.sections, m.access, m.wheelchair = rows, sections, access, wheel
	m.rowBound, m.rowNoClean, m.rowPlain = make([]int32, len(rows)), make([]uint16, len(rows)), make([]int32, len(rows))
	m.indexRows()
	for k, r := range rows {
		m.rowBound[k] = r.n
		for i := r.first; i < r.first+r.n; i++ {
			if m.plain(i) {
				m.rowPlain[k]++
			}
		}
	}
	return nil
}

// sectionIndex is the index in m.sections of the seated section named
// name, or -1 for any ("").
func (m *Map) sectionIndex(name string) (int32, error) {
	if name == "" {
		return -1, nil
	}
	for k, s := range m.sections {
		if s == name {
			return int32(k), nil
		}
	}
	return 0, boxoffice.InvalidField("best_available.section", "section %q is not a seated section of this event", name)
}

// ReserveBest holds, for the booking, the seats PickBest picks. Errors:
// invalid_argument (field best_available.quantity: not 1..10;
// best_available.section: not a seated section of the event; ttl),
// booking_state (the booking already holds seats), limit_reached, and
// seat_unavailable (empty details.ticket_ids, details.quantity) when no
// seats fit, in that order, as for Hold.
func (m *Map) ReserveBest(owner, booking uuid.UUID, want BestWant, now time.Time, ttl time.Duration) (Record, error) {
	tickets, err := m.BestTickets(owner, booking, want)
	if err != nil {
		return Record{}, err
	}
	return m.Hold(owner, booking, tickets, now, ttl)
}

// BestTickets is ReserveBest's pick as ticket ids, for a caller that holds
// them itself (the grain, which prices them first). It changes nothing;
// when nothing fits it gives the error the hold would have given.
func (m *Map) BestTickets(owner, booking uuid.UUID, want BestWant) ([]uuid.UUID, error) {
	seats, err := m.PickBest(want)
	if err != nil {
		return nil, err
	}
	if seats == nil {
		if _, held := m.holdOf(booking); held {
			return nil, boxoffice.Errorf(boxoffice.EBookingState, "booking %s already holds seats", booking)
		}
		if err := m.checkLimit(owner, want.Quantity); err != nil {
			return nil, err
		}
		what := "seats"
		if want.Accessible {
			what = "accessible seats"
		}
		e := boxoffice.Errorf(boxoffice.ESeatUnavailable, "no %d %s are available together or apart", want.Quantity, what)
		e.Details = map[string]any{"ticket_ids": []string{}, "quantity": want.Quantity}
		return nil, e
	}
	tickets := make([]uuid.UUID, 0, len(seats))
	for _, i := range seats {
		tickets = append(tickets, m.TicketID(int(i)))
	}
	return tickets, nil
}

// PickBest chooses want.Quantity available seats as the file comment
// describes, in index order, or nil when there are not that many it may
// pick. It changes nothing. Errors: invalid_argument for the quantity or
// section.
func (m *Map) PickBest(want BestWant) ([]int32, error) {
	if want.Quantity < 1 || want.Quantity > boxoffice.MaxSeatsPerHold {
		return nil, boxoffice.InvalidField("best_available.quantity", "quantity must be 1..%d, not %d", boxoffice.MaxSeatsPerHold, want.Quantity)
	}
	sec, err := m.sectionIndex(want.Section)
	if err != nil {
		return nil, err
	}
	if m.counts.Available < want.Quantity {
		return nil, nil // sold out: refused without a scan
	}
	if want.Accessible {
		return m.pickAccessible(sec, want.Quantity), nil
	}
	return m.pickPlain(sec, want.Quantity), nil
}

// plain reports whether seat i may go to a plain request: available, not
// a wheelchair space or companion seat.
func (m *Map) plain(i int32) bool {
	return m.status[i] == boxoffice.SeatAvailable && (m.access == nil || m.access[i] == 0)
}

// inSection reports whether row r is one the request may pick from.
func inSection(r rowSpan, sec int32) bool { return sec < 0 || r.sec == sec }

// pickPlain is the plain request's choice (tiers 1..3).
func (m *Map) pickPlain(sec int32, q int) []int32 {
	gapRow, gapStart := -1, int32(0) // tier 2: the first block that leaves a gap
	bit := uint16(1) << q
	for k, r := range m.rows {
		if !inSection(r, sec) || m.rowBound[k] < int32(q) || m.rowPlain[k] < int32(q) {
			continue
		}
		if m.rowNoClean[k]&bit != 0 {
			if gapRow < 0 {
				gapRow, gapStart = k, -1 // found again below if tier 2 is needed
			}
			continue
		}
		best, bestDist, longest := int32(-1), int32(0), int32(0)
		gap := int32(-1)
		centre := r.first + (r.n-int32(q))/2 // the block start nearest the row's centre
		for a := r.first; a < r.first+r.n; {
			if !m.plain(a) {
				a++
				continue
			}
			b := a + 1
			for b < r.first+r.n && m.plain(b) {
				b++
			}
			longest = max(longest, b-a)
			if s, ok := placeInRun(a, b, int32(q), centre); ok {
				if d := abs32(s - centre); best < 0 || d < bestDist {
					best, bestDist = s, d
				}
			} else if b-a >= int32(q) && gap < 0 {
				gap = a
			}
			a = b
		}
		m.rowBound[k] = longest
		if best >= 0 {
			return seq(best, q)
		}
		m.rowNoClean[k] |= bit
		if gap >= 0 && gapRow < 0 {
			gapRow, gapStart = k, gap
		}
	}
	if gapRow >= 0 {
		if gapStart < 0 {
			gapStart = m.firstRun(m.rows[gapRow], int32(q))
		}
		if gapStart >= 0 {
			return seq(gapStart, q)
		}
	}
	return m.pickSplit(sec, q, m.plain)
}

// firstRun is the start of row r's first run of at least q seats a plain
// request may take (-1 for none: the caller knows there is one).
func (m *Map) firstRun(r rowSpan, q int32) int32 {
	n := int32(0)
	for i := r.first; i < r.first+r.n; i++ {
		if !m.plain(i) {
			n = 0
			continue
		}
		if n++; n == q {
			return i - q + 1
		}
	}
	return -1
}

// placeInRun places a block of q in the free run [a, b) leaving no single
// free seat on either side, as near centre as it can; ok is false when
// the run cannot take it so.
func placeInRun(a, b, q, centre int32) (start int32, ok bool) {
	room := b - a - q // free seats the block leaves in the run
	if room < 0 || room == 1 {
		return 0, false
	}
	target := min(max(centre-a, 0), room)
	o, found := int32(0), false
	for _, c := range [...]int32{target, target - 1, target + 1, target - 2, target + 2, 0, room} {
		if c < 0 || c > room || c == 1 || room-c == 1 {
			continue // offsets 1 and room-1 leave a single seat
		}
		if !found || abs32(c-target) < abs32(o-target) {
			o, found = c, true
		}
	}
	return a + o, true
}

// pickSplit splits a party no row can seat together: the first row (in
// venue order) with q free seats the request may take, largest runs
// first; else the rows in venue order. ok picks the seats the request may
// take (m.plain: rowPlain counts them per row, so finding the row costs
// one look per row).
func (m *Map) pickSplit(sec int32, q int, ok func(int32) bool) []int32 {
	total := 0
	for k, r := range m.rows {
		if !inSection(r, sec) {
			continue
		}
		free := int(m.rowPlain[k]) // the seats ok takes: m.plain's
		if free >= q {
			return m.takeRuns(r, q, ok)
		}
		total += free
	}
	if total < q {
		return nil
	}
	out := make([]int32, 0, q)
	for k, r := range m.rows {
		if !inSection(r, sec) || m.rowPlain[k] == 0 {
			continue
		}
		for i := r.first; i < r.first+r.n && len(out) < q; i++ {
			if ok(i) {
				out = append(out, i)
			}
		}
		if len(out) == q {
			break
		}
	}
	return out
}

// takeRuns takes q seats of row r, which has that many, from its largest
// runs first (whole runs, so fewer pieces and fewer single seats left).
func (m *Map) takeRuns(r rowSpan, q int, ok func(int32) bool) []int32 {
	type run struct{ a, n int32 }
	var runs []run
	for a := r.first; a < r.first+r.n; {
		if !ok(a) {
			a++
			continue
		}
		b := a + 1
		for b < r.first+r.n && ok(b) {
			b++
		}
		runs = append(runs, run{a, b - a})
		a = b
	}
	sort.SliceStable(runs, func(x, y int) bool { return runs[x].n > runs[y].n })
	out := make([]int32, 0, q)
	for _, rn := range runs {
		for i := rn.a; i < rn.a+rn.n && len(out) < q; i++ {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// pickAccessible chooses one available wheelchair space and, for the rest
// of the party, seats beside it: the block of q holding it with the most
// companion seats that leaves no single free seat, the earliest space in
// venue order on a tie; when no space has q-1 free seats beside it, the
// nearest free seats of its row (companion seats first).
func (m *Map) pickAccessible(sec int32, q int) []int32 {
	const none = -1
	bestStart, bestScore := int32(none), -1
	for _, w := range m.wheelchair {
		if m.status[w] != boxoffice.SeatAvailable {
			continue
		}
		r := m.rows[m.rowOf(w)]
		if !inSection(r, sec) {
			continue
		}
		end := r.first + r.n
		// Blocks [s, s+q) holding w, inside the row, every other seat free
		// and not a wheelchair space.
		for s := max(r.first, w-int32(q)+1); s <= w && s+int32(q) <= end; s++ {
			companions, fits := 0, true
			for i := s; i < s+int32(q); i++ {
				if i == w {
					continue
				}
				if m.status[i] != boxoffice.SeatAvailable || m.access[i] == accWheelchair {
					fits = false
					break
				}
				if m.access[i] == accCompanion {
					companions++
				}
			}
			if !fits {
				continue
			}
			score := 2 * companions
			if !m.leavesSingle(r, s, s+int32(q)) {
				score++
			}
			if score > bestScore {
				bestStart, bestScore = s, score
			}
		}
		if bestScore >= 2*(q-1) {
			break // all companions: the first such space wins
		}
	}
	if bestStart != none {
		return seq(bestStart, q)
	}
	// Split: the space and the nearest free seats of its row.
	for _, w := range m.wheelchair {
		if m.status[w] != boxoffice.SeatAvailable {
			continue
		}
		r := m.rows[m.rowOf(w)]
		if !inSection(r, sec) {
			continue
		}
		out := []int32{w}
		for _, pass := range []uint8{accCompanion, 0} {
			for d := int32(1); d < r.n && len(out) < q; d++ {
				for _, i := range []int32{w - d, w + d} {
					if len(out) < q && i >= r.first && i < r.first+r.n && m.status[i] == boxoffice.SeatAvailable && m.access[i] == pass {
						out = append(out, i)
					}
				}
			}
		}
		if len(out) == q {
			slices.Sort(out)
			return out
		}
	}
	return nil
}

// leavesSingle reports whether holding [s, e) of row r leaves a single
// free seat right beside the block (free, with no free seat beyond it).
func (m *Map) leavesSingle(r rowSpan, s, e int32) bool {
	free := func(i int32) bool {
		return i >= r.first && i < r.first+r.n && m.status[i] == boxoffice.SeatAvailable
	}
	return (free(s-1) && !free(s-2)) || (free(e) && !free(e+1))
}

// rowChanged forgets what pickPlain learnt of seat i's row, whose status
// becomes to: any change may make a clean block (a run of q+1 shortened
// to q), and a seat made available may lengthen a run.
func (m *Map) rowChanged(i int32, to boxoffice.SeatStatus) {
	k := m.rowOf(i)
	if k == len(m.rows) || m.rows[k].first > i {
		return // a standing place
	}
	m.rowNoClean[k] = 0
	if to == boxoffice.SeatAvailable {
		m.rowBound[k] = m.rows[k].n
	}
	if m.access == nil || m.access[i] == 0 { // the caller has not changed the status yet
		if m.status[i] == boxoffice.SeatAvailable {
			m.rowPlain[k]--
		}
		if to == boxoffice.SeatAvailable {
			m.rowPlain[k]++
		}
	}
}

// rowBlockBits sizes the blocks of rowStart: 64 seats.
const rowBlockBits = 6

// rowOf is the index in m.rows of the first row that ends after seat i
// (the row holding it, for a seated seat; len(m.rows) past the last row).
// Every status change of a seated event asks it (rowChanged), so it starts
// from the first row of i's 64-seat block (rowStart) and steps forward,
// usually not at all, rather than binary-searching all rows.
func (m *Map) rowOf(i int32) int {
	k := int(m.rowStart[i>>rowBlockBits])
	for k < len(m.rows) && m.rows[k].first+m.rows[k].n <= i {
		k++
	}
	return k
}

// indexRows fills rowStart: per 64-seat block, the first row ending after
// the block's first seat.
func (m *Map) indexRows() {
	m.rowStart = nil
	if len(m.rows) == 0 {
		return // rowOf is asked only of maps with rows
	}
	m.rowStart = make([]int32, (len(m.status)>>rowBlockBits)+1)
	k := 0
	for b := range m.rowStart {
		for k < len(m.rows) && int(m.rows[k].first+m.rows[k].n) <= b<<rowBlockBits {
			k++
		}
		m.rowStart[b] = int32(k)
	}
}

// checkRows verifies each row's plain-seat counter against the statuses.
func (m *Map) checkRows() error {
	for k, r := range m.rows {
		n := int32(0)
		for i := r.first; i < r.first+r.n; i++ {
			if m.plain(i) {
				n++
			}
		}
		if n != m.rowPlain[k] {
			return fmt.Errorf("seatmap: row %d counts %d plain seats free, statuses say %d", k, m.rowPlain[k], n)
		}
	}
	return nil
}

func seq(start int32, q int) []int32 {
	out := make([]int32, q)
	for k := range out {
		out[k] = start + int32(k)
	}
	return out
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}
