package seatmap_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// TestExtendPinned: only a pinned hold's expiry moves, only later; the
// record round-trips through the journal encoding and replays to the same
// state, and a snapshot keeps the moved expiry.
func TestExtendPinned(t *testing.T) {
	event := uuid.New()
	space := boxoffice.NewTicketSpace(event)
	m, replica := seatmap.New(event, 10), seatmap.New(event, 10)
	owner, booking := uuid.New(), uuid.New()
	t0 := time.Unix(1_700_000_000, 0)
	var recs []seatmap.Record
	add := func(r seatmap.Record, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	add(m.Hold(owner, booking, []uuid.UUID{space.ID(2)}, t0, time.Minute))
	if _, err := m.ExtendPinned(booking, t0.Add(time.Hour)); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
		t.Fatalf("extend an unpinned hold: %v, want booking_state", err)
	}
	add(m.PinForPayment(booking, owner, t0))
	if _, err := m.ExtendPinned(booking, t0); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
		t.Fatalf("extend to an earlier time: %v, want booking_state", err)
	}
	until := t0.Add(15 * time.Minute)
	add(m.ExtendPinned(booking, until))
	if h, _ := m.HoldInfo(booking); !h.ExpiresAt.Equal(until) || !h.Pinned {
		t.Fatalf("hold %+v, want pinned until %s", h, until)
	}
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
	if h, _ := replica.HoldInfo(booking); !h.ExpiresAt.Equal(until) {
		t.Errorf("replayed hold expires at %s, want %s", h.ExpiresAt, until)
	}
	snap, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored, err := seatmap.Decode(event, snap)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := restored.HoldInfo(booking); !h.ExpiresAt.Equal(until) || !h.Pinned {
		t.Errorf("snapshot hold %+v, want pinned until %s", h, until)
	}
	// A replayed extension that does not move the expiry later is refused.
	bad := recs[len(recs)-1]
	bad.Version = replica.Version() + 1
	if err := replica.Apply(bad); err == nil {
		t.Error("a second extension to the same time was applied")
	}
	if s := seatmap.KindExtended.String(); s != "HoldExtended" {
		t.Errorf("kind name %q", s)
	}
}
