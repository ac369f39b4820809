package seatmap_test

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// This file is a deliberately naive reference model of the seat map, written
// from the spec (issue 3) and not from the implementation: no heap, no slots,
// no incremental counts. A seat's status is found by scanning every hold,
// counts by scanning every seat, and due holds by scanning and sorting. The
// property test and FuzzCommands run the same commands on both and compare.

// refHold is one live hold of the model.
type refHold struct {
	owner   uuid.UUID
	seats   []int // request order
	expires int64 // Unix nanoseconds
	pinned  bool
}

// refModel is the model's whole state.
type refModel struct {
	event   uuid.UUID
	n       int
	sold    map[int]bool
	holds   map[uuid.UUID]*refHold
	version uint64
}

// refTicket is a requested ticket as the driver built it: any event's
// ticket space and any index, so the model decides validity on its own.
type refTicket struct {
	event uuid.UUID
	index int
}

func (t refTicket) id() uuid.UUID { return boxoffice.NewTicketSpace(t.event).ID(t.index) }

// String shows the index, marked when the ticket is another event's.
func (t refTicket) String() string {
	if t.event != modelEvent {
		return fmt.Sprintf("other:%d", t.index)
	}
	return fmt.Sprint(t.index)
}

// refOutcome is what the model expects of one operation: an error code
// (with its details) or the records of a success.
type refOutcome struct {
	code    string
	field   string   // details.field of invalid_argument
	ids     []string // details.ticket_ids of not_found and seat_unavailable
	records []seatmap.Record
}

func newRefModel(event uuid.UUID, n int) *refModel {
	return &refModel{event: event, n: n, sold: map[int]bool{}, holds: map[uuid.UUID]*refHold{}}
}

func (r *refModel) status(i int) boxoffice.SeatStatus {
	for _, h := range r.holds {
		for _, s := range h.seats {
			if s == i {
				return boxoffice.SeatReserved
			}
		}
	}
	if r.sold[i] {
		return boxoffice.SeatBooked
	}
	return boxoffice.SeatAvailable
}

func (r *refModel) counts() boxoffice.SeatCounts {
	var c boxoffice.SeatCounts
	for i := 0; i < r.n; i++ {
		switch r.status(i) {
		case boxoffice.SeatAvailable:
			c.Available++
		case boxoffice.SeatReserved:
			c.Reserved++
		case boxoffice.SeatBooked:
			c.Booked++
		}
	}
	return c
}

func refFail(code string) refOutcome { return refOutcome{code: code} }

// record stamps the next version on a record of hold h.
func (r *refModel) record(k seatmap.Kind, booking uuid.UUID, h *refHold) seatmap.Record {
	r.version++
	seats := make([]int32, len(h.seats))
	for k, s := range h.seats {
		seats[k] = int32(s)
	}
	return seatmap.Record{Version: r.version, Kind: k, Booking: booking, Owner: h.owner, Seats: seats, ExpiresAt: h.expires}
}

func (r *refModel) hold(owner, booking uuid.UUID, req []refTicket, now, ttl int64) refOutcome {
	if len(req) < 1 || len(req) > 10 {
		return refOutcome{code: boxoffice.EInvalid, field: "ticket_ids"}
	}
	if ttl <= 0 {
		return refOutcome{code: boxoffice.EInvalid, field: "ttl"}
	}
	for a := range req {
		for b := 0; b < a; b++ {
			if req[a] == req[b] {
				return refOutcome{code: boxoffice.EInvalid, field: "ticket_ids"}
			}
		}
	}
	if r.holds[booking] != nil {
		return refFail(boxoffice.EBookingState)
	}
	var unknown, taken []string
	for _, t := range req {
		if t.event != r.event || t.index < 0 || t.index >= r.n {
			unknown = append(unknown, t.id().String())
		}
	}
	if unknown != nil {
		return refOutcome{code: boxoffice.ENotFound, ids: unknown}
	}
	for _, t := range req {
		if r.status(t.index) != boxoffice.SeatAvailable {
			taken = append(taken, t.id().String())
		}
	}
	if taken != nil {
		return refOutcome{code: boxoffice.ESeatUnavailable, ids: taken}
	}
	h := &refHold{owner: owner, expires: now + ttl}
	for _, t := range req {
		h.seats = append(h.seats, t.index)
	}
	r.holds[booking] = h
	return refOutcome{records: []seatmap.Record{r.record(seatmap.KindHeld, booking, h)}}
}

// owned is the lookup Release and PinForPayment share.
func (r *refModel) owned(booking, owner uuid.UUID) (*refHold, string) {
	h := r.holds[booking]
	switch {
	case h == nil:
		return nil, boxoffice.ENotFound
	case h.owner != owner:
		return nil, boxoffice.EForbidden
	}
	return h, ""
}

func (r *refModel) release(booking, owner uuid.UUID) refOutcome {
	h, code := r.owned(booking, owner)
	if code != "" {
		return refFail(code)
	}
	if h.pinned {
		return refFail(boxoffice.EBookingState)
	}
	delete(r.holds, booking)
	return refOutcome{records: []seatmap.Record{r.record(seatmap.KindReleased, booking, h)}}
}

func (r *refModel) pin(booking, owner uuid.UUID, now int64) refOutcome {
	h, code := r.owned(booking, owner)
	if code != "" {
		return refFail(code)
	}
	if h.pinned {
		return refFail(boxoffice.EBookingState)
	}
	if now >= h.expires {
		return refFail(boxoffice.EHoldExpired)
	}
	h.pinned = true
	return refOutcome{records: []seatmap.Record{r.record(seatmap.KindPinned, booking, h)}}
}

func (r *refModel) unpin(booking uuid.UUID) refOutcome {
	h := r.holds[booking]
	if h == nil {
		return refFail(boxoffice.ENotFound)
	}
	if !h.pinned {
		return refFail(boxoffice.EBookingState)
	}
	h.pinned = false
	return refOutcome{records: []seatmap.Record{r.record(seatmap.KindUnpinned, booking, h)}}
}

func (r *refModel) sell(booking uuid.UUID) refOutcome {
	h := r.holds[booking]
	if h == nil {
		return refFail(boxoffice.ENotFound)
	}
	for _, s := range h.seats {
		r.sold[s] = true
	}
	delete(r.holds, booking)
	return refOutcome{records: []seatmap.Record{r.record(seatmap.KindSold, booking, h)}}
}

// expire ends every unpinned hold due at now, earliest expiry first and
// equal expiries by booking ID.
func (r *refModel) expire(now int64) refOutcome {
	var due []uuid.UUID
	for b, h := range r.holds {
		if !h.pinned && h.expires <= now {
			due = append(due, b)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		a, b := r.holds[due[i]], r.holds[due[j]]
		if a.expires != b.expires {
			return a.expires < b.expires
		}
		return bytes.Compare(due[i][:], due[j][:]) < 0
	})
	var out refOutcome
	for _, b := range due {
		h := r.holds[b]
		delete(r.holds, b)
		out.records = append(out.records, r.record(seatmap.KindExpired, b, h))
	}
	return out
}

// nextExpiry is the earliest expiry of an unpinned hold.
func (r *refModel) nextExpiry() (int64, bool) {
	var best int64
	found := false
	for _, h := range r.holds {
		if !h.pinned && (!found || h.expires < best) {
			best, found = h.expires, true
		}
	}
	return best, found
}

// modelDiff compares everything the map exposes with the model and returns
// the first difference, or "" when they agree. bookings is every booking ID
// the driver ever uses, so that no hold can hide from the comparison.
func modelDiff(m *seatmap.Map, r *refModel, bookings []uuid.UUID) string {
	if m.Version() != r.version {
		return fmt.Sprintf("version %d, model %d", m.Version(), r.version)
	}
	if m.Len() != r.n || m.EventID() != r.event {
		return fmt.Sprintf("len %d event %s, model %d %s", m.Len(), m.EventID(), r.n, r.event)
	}
	st := m.Statuses(nil)
	if len(st) != r.n {
		return fmt.Sprintf("%d statuses for %d seats", len(st), r.n)
	}
	for i := 0; i < r.n; i++ {
		if want := r.status(i); st[i] != want || m.Status(i) != want {
			return fmt.Sprintf("seat %d: Statuses %s, Status %s, model %s", i, st[i], m.Status(i), want)
		}
		if id := (refTicket{r.event, i}).id(); m.TicketID(i) != id {
			return fmt.Sprintf("seat %d: ticket %s, model %s", i, m.TicketID(i), id)
		}
	}
	if got, want := m.Counts(), r.counts(); got != want {
		return fmt.Sprintf("counts %+v, model %+v", got, want)
	}
	if m.Holds() != len(r.holds) {
		return fmt.Sprintf("%d holds, model %d", m.Holds(), len(r.holds))
	}
	var pinned []uuid.UUID
	for _, b := range bookings {
		info, ok := m.HoldInfo(b)
		h := r.holds[b]
		if ok != (h != nil) {
			return fmt.Sprintf("booking %s: hold %v, model %v", b, ok, h != nil)
		}
		if !ok {
			continue
		}
		if h.pinned {
			pinned = append(pinned, b)
		}
		want := seatmap.HoldInfo{Booking: b, Owner: h.owner, Seats: modelSeats(h.seats), Pinned: h.pinned}
		if info.Booking != want.Booking || info.Owner != want.Owner || !slices.Equal(info.Seats, want.Seats) ||
			info.Pinned != want.Pinned || info.ExpiresAt.UnixNano() != h.expires {
			return fmt.Sprintf("booking %s: hold %+v, model %+v expiring %d", b, info, want, h.expires)
		}
	}
	var gotPinned []uuid.UUID
	for _, p := range m.PinnedHolds() {
		gotPinned = append(gotPinned, p.Booking)
	}
	modelSortIDs(pinned)
	modelSortIDs(gotPinned)
	if !slices.Equal(gotPinned, pinned) {
		return fmt.Sprintf("pinned holds %v, model %v", gotPinned, pinned)
	}
	next, ok := m.NextExpiry()
	wantNext, wantOK := r.nextExpiry()
	if ok != wantOK || (ok && next.UnixNano() != wantNext) {
		return fmt.Sprintf("next expiry %v %v, model %d %v", next, ok, wantNext, wantOK)
	}
	return ""
}

func modelSeats(seats []int) []int32 {
	out := make([]int32, len(seats))
	for k, s := range seats {
		out[k] = int32(s)
	}
	return out
}

func modelSortIDs(ids []uuid.UUID) {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
}

// modelInvariants checks, without the model, what must hold of any map:
// no seat in two holds, every held seat reserved and every reserved seat
// held, counts matching statuses, and the version equal to the number of
// successful changes.
func modelInvariants(m *seatmap.Map, bookings []uuid.UUID, changes uint64) string {
	st := m.Statuses(nil)
	var c boxoffice.SeatCounts
	for _, s := range st {
		switch s {
		case boxoffice.SeatAvailable:
			c.Available++
		case boxoffice.SeatReserved:
			c.Reserved++
		case boxoffice.SeatBooked:
			c.Booked++
		default:
			return fmt.Sprintf("status %d", s)
		}
	}
	if c != m.Counts() {
		return fmt.Sprintf("counts %+v, statuses say %+v", m.Counts(), c)
	}
	owner := map[int32]uuid.UUID{}
	holds := 0
	for _, b := range bookings {
		info, ok := m.HoldInfo(b)
		if !ok {
			continue
		}
		holds++
		for _, s := range info.Seats {
			if prev, dup := owner[s]; dup {
				return fmt.Sprintf("seat %d in holds %s and %s", s, prev, b)
			}
			owner[s] = b
			if st[s] != boxoffice.SeatReserved {
				return fmt.Sprintf("seat %d of hold %s is %s", s, b, st[s])
			}
		}
	}
	if len(owner) != c.Reserved || holds != m.Holds() {
		return fmt.Sprintf("%d seats in %d holds, %d reserved in %d holds", len(owner), holds, c.Reserved, m.Holds())
	}
	if m.Version() != changes {
		return fmt.Sprintf("version %d after %d changes", m.Version(), changes)
	}
	return ""
}
