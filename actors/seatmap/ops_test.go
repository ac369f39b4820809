package seatmap_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

var (
	eventID = uuid.MustParse("7f0c2a4e-9a51-4d55-8c0e-2b1d6d9d1a01")
	alice   = uuid.MustParse("00000000-0000-4000-8000-00000000a11c")
	bob     = uuid.MustParse("00000000-0000-4000-8000-000000000b0b")
	t0      = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	ttl     = 10 * time.Minute
)

// booking returns a distinct, readable booking ID.
func booking(n int) uuid.UUID {
	var u uuid.UUID
	u[0], u[6], u[8], u[15] = 0xb0, 0x40, 0x80, byte(n)
	u[14] = byte(n >> 8)
	return u
}

// tickets returns the ticket IDs of seats idx of the map's event.
func tickets(m *seatmap.Map, idx ...int) []uuid.UUID {
	out := make([]uuid.UUID, len(idx))
	for k, i := range idx {
		out[k] = m.TicketID(i)
	}
	return out
}

func strs(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// mustOK returns a checker for an op's results: mustOK(t, m)(m.Hold(...))
// fails the test unless the op succeeded with the map's new version and
// left the map consistent.
func mustOK(t *testing.T, m *seatmap.Map) func(seatmap.Record, error) seatmap.Record {
	t.Helper()
	v := m.Version()
	return func(r seatmap.Record, err error) seatmap.Record {
		t.Helper()
		if err != nil {
			t.Fatalf("op failed: %v", err)
		}
		if r.Version != v+1 || m.Version() != v+1 {
			t.Fatalf("record v%d, map v%d, was v%d", r.Version, m.Version(), v)
		}
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// wantErr checks err's code and, when want is non-nil, its details.ticket_ids.
func wantErr(t *testing.T, err error, code string, ticketIDs []string) {
	t.Helper()
	if got := boxoffice.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if ticketIDs == nil {
		return
	}
	var e *boxoffice.Error
	errors.As(err, &e)
	if got, _ := e.Details["ticket_ids"].([]string); !slices.Equal(got, ticketIDs) {
		t.Fatalf("details.ticket_ids %v, want %v", got, ticketIDs)
	}
}

// unchanged runs op, which must fail with code, and checks that the map's
// snapshot bytes did not move at all.
func unchanged(t *testing.T, m *seatmap.Map, code string, op func() error) {
	t.Helper()
	before, _ := m.MarshalBinary()
	err := op()
	wantErr(t, err, code, nil)
	after, _ := m.MarshalBinary()
	if string(before) != string(after) {
		t.Fatal("a failed op changed the map")
	}
}

func TestNew(t *testing.T) {
	m := seatmap.New(eventID, 100)
	if m.EventID() != eventID || m.Len() != 100 || m.Version() != 0 || m.Holds() != 0 {
		t.Fatalf("new map: event %s len %d v%d holds %d", m.EventID(), m.Len(), m.Version(), m.Holds())
	}
	if got := m.Counts(); got != (boxoffice.SeatCounts{Available: 100}) {
		t.Fatalf("counts %+v", got)
	}
	if _, ok := m.NextExpiry(); ok {
		t.Fatal("a fresh map has an expiry")
	}
	st := m.Statuses(nil)
	if len(st) != 100 || slices.ContainsFunc(st, func(s boxoffice.SeatStatus) bool { return s != boxoffice.SeatAvailable }) {
		t.Fatalf("statuses %v", st)
	}
}

func TestIndex(t *testing.T) {
	m := seatmap.New(eventID, 100)
	other := boxoffice.NewTicketSpace(uuid.New())
	tests := []struct {
		name   string
		ticket uuid.UUID
		want   int
		ok     bool
	}{
		{"first", m.TicketID(0), 0, true},
		{"last", m.TicketID(99), 99, true},
		{"past the venue", m.TicketID(100), 0, false},
		{"far past", boxoffice.NewTicketSpace(eventID).ID(1 << 31), 0, false},
		{"other event", other.ID(5), 0, false},
		{"random", uuid.New(), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := m.Index(tt.ticket)
			if i != tt.want || ok != tt.ok {
				t.Fatalf("Index = %d, %v; want %d, %v", i, ok, tt.want, tt.ok)
			}
		})
	}
}

// fixture is a 20-seat map where bob holds seats 3 and 5 (booking 90) and
// seat 4 is sold (booking 91).
func fixture(t *testing.T) *seatmap.Map {
	t.Helper()
	m := seatmap.New(eventID, 20)
	mustOK(t, m)(m.Hold(bob, booking(90), tickets(m, 3, 5), t0, ttl))
	mustOK(t, m)(m.Hold(bob, booking(91), tickets(m, 4), t0, ttl))
	mustOK(t, m)(m.Sell(booking(91)))
	return m
}

func TestHold(t *testing.T) {
	m0 := seatmap.New(eventID, 20)
	foreign := boxoffice.NewTicketSpace(uuid.New()).ID(1)
	eleven := tickets(m0, 0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 13)
	tests := []struct {
		name    string
		booking uuid.UUID
		tickets []uuid.UUID
		ttl     time.Duration
		code    string   // "" for success
		ids     []string // details.ticket_ids expected, when set
	}{
		{"one seat", booking(1), tickets(m0, 0), ttl, "", nil},
		{"ten seats", booking(1), eleven[:10], ttl, "", nil},
		{"no seats", booking(1), nil, ttl, boxoffice.EInvalid, nil},
		{"eleven seats", booking(1), eleven, ttl, boxoffice.EInvalid, nil},
		{"zero ttl", booking(1), tickets(m0, 0), 0, boxoffice.EInvalid, nil},
		{"negative ttl", booking(1), tickets(m0, 0), -time.Second, boxoffice.EInvalid, nil},
		{"duplicate", booking(1), tickets(m0, 0, 1, 0), ttl, boxoffice.EInvalid, nil},
		{"duplicate unknown", booking(1), []uuid.UUID{foreign, foreign}, ttl, boxoffice.EInvalid, nil},
		{"booking already holds", booking(90), tickets(m0, 0), ttl, boxoffice.EBookingState, nil},
		{"other event", booking(1), []uuid.UUID{m0.TicketID(0), foreign}, ttl, boxoffice.ENotFound, strs([]uuid.UUID{foreign})},
		{"past the venue", booking(1), tickets(m0, 1, 20, 21), ttl, boxoffice.ENotFound, strs(tickets(m0, 20, 21))},
		{"unknown beats taken", booking(1), tickets(m0, 3, 20), ttl, boxoffice.ENotFound, strs(tickets(m0, 20))},
		{"held by another", booking(1), tickets(m0, 2, 3), ttl, boxoffice.ESeatUnavailable, strs(tickets(m0, 3))},
		{"sold", booking(1), tickets(m0, 4), ttl, boxoffice.ESeatUnavailable, strs(tickets(m0, 4))},
		{"all taken, request order", booking(1), tickets(m0, 5, 0, 4, 3), ttl, boxoffice.ESeatUnavailable, strs(tickets(m0, 5, 4, 3))},
		{"own booking's seat, other booking", booking(2), tickets(m0, 5), ttl, boxoffice.ESeatUnavailable, strs(tickets(m0, 5))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixture(t)
			if tt.code != "" {
				unchanged(t, m, tt.code, func() error {
					_, err := m.Hold(alice, tt.booking, tt.tickets, t0, tt.ttl)
					if tt.ids != nil {
						wantErr(t, err, tt.code, tt.ids)
					}
					return err
				})
				return
			}
			before := m.Counts()
			r := mustOK(t, m)(m.Hold(alice, tt.booking, tt.tickets, t0, tt.ttl))
			if r.Kind != seatmap.KindHeld || r.Booking != tt.booking || r.Owner != alice || r.ExpiresAt != t0.Add(tt.ttl).UnixNano() {
				t.Fatalf("record %+v", r)
			}
			for k, id := range tt.tickets {
				if i, _ := m.Index(id); r.Seats[k] != int32(i) || m.Status(i) != boxoffice.SeatReserved {
					t.Fatalf("seat %d of the record is %d, status %v", i, r.Seats[k], m.Status(i))
				}
			}
			n := len(tt.tickets)
			if got := m.Counts(); got.Reserved != before.Reserved+n || got.Available != before.Available-n {
				t.Fatalf("counts %+v after %+v", got, before)
			}
			info, ok := m.HoldInfo(tt.booking)
			if !ok || info.Owner != alice || !slices.Equal(info.Seats, r.Seats) || !info.ExpiresAt.Equal(t0.Add(tt.ttl)) || info.Pinned {
				t.Fatalf("hold info %+v, %v", info, ok)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name    string
		booking uuid.UUID
		owner   uuid.UUID
		pin     bool
		code    string
	}{
		{"owner", booking(90), bob, false, ""},
		{"unknown", booking(7), bob, false, boxoffice.ENotFound},
		{"sold", booking(91), bob, false, boxoffice.ENotFound},
		{"other owner", booking(90), alice, false, boxoffice.EForbidden},
		{"pinned", booking(90), bob, true, boxoffice.EBookingState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixture(t)
			if tt.pin {
				mustOK(t, m)(m.PinForPayment(booking(90), bob, t0))
			}
			if tt.code != "" {
				unchanged(t, m, tt.code, func() error { _, err := m.Release(tt.booking, tt.owner); return err })
				return
			}
			r := mustOK(t, m)(m.Release(tt.booking, tt.owner))
			if r.Kind != seatmap.KindReleased || !slices.Equal(r.Seats, []int32{3, 5}) || r.Owner != bob {
				t.Fatalf("record %+v", r)
			}
			if m.Status(3) != boxoffice.SeatAvailable || m.Status(5) != boxoffice.SeatAvailable || m.Holds() != 0 {
				t.Fatal("seats not released")
			}
			if _, ok := m.HoldInfo(tt.booking); ok {
				t.Fatal("hold still there")
			}
			if _, ok := m.NextExpiry(); ok {
				t.Fatal("released hold still expires")
			}
		})
	}
}

func TestPinForPayment(t *testing.T) {
	tests := []struct {
		name    string
		booking uuid.UUID
		owner   uuid.UUID
		now     time.Time
		twice   bool
		code    string
	}{
		{"in time", booking(90), bob, t0.Add(ttl - 1), false, ""},
		{"unknown", booking(7), bob, t0, false, boxoffice.ENotFound},
		{"other owner", booking(90), alice, t0, false, boxoffice.EForbidden},
		{"at expiry", booking(90), bob, t0.Add(ttl), false, boxoffice.EHoldExpired},
		{"after expiry", booking(90), bob, t0.Add(time.Hour), false, boxoffice.EHoldExpired},
		{"already pinned", booking(90), bob, t0, true, boxoffice.EBookingState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixture(t)
			if tt.twice {
				mustOK(t, m)(m.PinForPayment(tt.booking, tt.owner, tt.now))
			}
			if tt.code != "" {
				unchanged(t, m, tt.code, func() error { _, err := m.PinForPayment(tt.booking, tt.owner, tt.now); return err })
				if tt.code == boxoffice.EHoldExpired {
					if _, ok := m.HoldInfo(tt.booking); !ok {
						t.Fatal("Pin removed the expired hold; ExpireDue should")
					}
				}
				return
			}
			counts := m.Counts()
			r := mustOK(t, m)(m.PinForPayment(tt.booking, tt.owner, tt.now))
			if r.Kind != seatmap.KindPinned || len(r.Changes()) != 0 || m.Counts() != counts {
				t.Fatalf("record %+v changes %v", r, r.Changes())
			}
			if info, _ := m.HoldInfo(tt.booking); !info.Pinned {
				t.Fatal("hold not pinned")
			}
			if got := m.ExpireDue(t0.Add(24 * time.Hour)); len(got) != 0 {
				t.Fatalf("a pinned hold expired: %+v", got)
			}
			if _, ok := m.NextExpiry(); ok {
				t.Fatal("a pinned hold has an expiry for the timer")
			}
			if p := m.PinnedHolds(); len(p) != 1 || p[0].Booking != tt.booking {
				t.Fatalf("pinned holds %+v", p)
			}
		})
	}
}

func TestUnpin(t *testing.T) {
	m := fixture(t)
	unchanged(t, m, boxoffice.ENotFound, func() error { _, err := m.Unpin(booking(7)); return err })
	unchanged(t, m, boxoffice.EBookingState, func() error { _, err := m.Unpin(booking(90)); return err })
	mustOK(t, m)(m.PinForPayment(booking(90), bob, t0))
	late := t0.Add(time.Hour)
	if got := m.ExpireDue(late); len(got) != 0 {
		t.Fatalf("pinned hold expired: %+v", got)
	}
	r := mustOK(t, m)(m.Unpin(booking(90)))
	if r.Kind != seatmap.KindUnpinned || len(r.Changes()) != 0 {
		t.Fatalf("record %+v", r)
	}
	if at, ok := m.NextExpiry(); !ok || !at.Equal(t0.Add(ttl)) {
		t.Fatalf("next expiry %v %v", at, ok)
	}
	got := m.ExpireDue(late)
	if len(got) != 1 || got[0].Kind != seatmap.KindExpired || got[0].Booking != booking(90) || got[0].Version != m.Version() {
		t.Fatalf("overdue hold after unpin: %+v", got)
	}
	if m.Status(3) != boxoffice.SeatAvailable || m.Holds() != 0 {
		t.Fatal("seats not freed")
	}
}

func TestSell(t *testing.T) {
	for _, pin := range []bool{false, true} {
		m := fixture(t)
		if pin {
			mustOK(t, m)(m.PinForPayment(booking(90), bob, t0))
		}
		r := mustOK(t, m)(m.Sell(booking(90)))
		want := []seatmap.Change{{Index: 3, Status: boxoffice.SeatBooked}, {Index: 5, Status: boxoffice.SeatBooked}}
		if r.Kind != seatmap.KindSold || !slices.Equal(r.Changes(), want) {
			t.Fatalf("pinned=%v: record %+v", pin, r)
		}
		if got := m.Counts(); got != (boxoffice.SeatCounts{Available: 17, Booked: 3}) {
			t.Fatalf("counts %+v", got)
		}
		unchanged(t, m, boxoffice.ENotFound, func() error { _, err := m.Sell(booking(90)); return err })
	}
}

func TestExpireDue(t *testing.T) {
	m := seatmap.New(eventID, 20)
	// Holds 1..4 expire at t0+4m, +2m, +2m, +6m; 5 is pinned.
	for k, d := range []time.Duration{4, 2, 2, 6, 1} {
		mustOK(t, m)(m.Hold(alice, booking(4-k), tickets(m, k), t0, d*time.Minute))
	}
	mustOK(t, m)(m.PinForPayment(booking(0), alice, t0))
	if at, _ := m.NextExpiry(); !at.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("next expiry %v", at)
	}
	if got := m.ExpireDue(t0.Add(2*time.Minute - 1)); got != nil {
		t.Fatalf("expired early: %+v", got)
	}
	v := m.Version()
	got := m.ExpireDue(t0.Add(4 * time.Minute))
	// Ties (bookings 3 and 2 at +2m) go by booking ID.
	wantOrder := []uuid.UUID{booking(2), booking(3), booking(4)}
	if len(got) != 3 {
		t.Fatalf("expired %d holds, want 3", len(got))
	}
	for k, r := range got {
		if r.Kind != seatmap.KindExpired || r.Booking != wantOrder[k] || r.Version != v+uint64(k)+1 {
			t.Fatalf("record %d: %+v", k, r)
		}
	}
	if m.Version() != v+3 || m.Holds() != 2 || m.Counts().Reserved != 2 {
		t.Fatalf("after expiry: v%d holds %d counts %+v", m.Version(), m.Holds(), m.Counts())
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if at, _ := m.NextExpiry(); !at.Equal(t0.Add(6 * time.Minute)) {
		t.Fatalf("next expiry %v", at)
	}
}
