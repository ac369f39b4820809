package actors_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// readCounter is the real store counting the reads of one booking's row.
type readCounter struct {
	boxoffice.EventStore
	booking atomic.Value // uuid.UUID
	reads   atomic.Int64
}

func (s *readCounter) Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	if b, _ := s.booking.Load().(uuid.UUID); b == id {
		s.reads.Add(1)
	}
	return s.EventStore.Booking(ctx, id)
}

// TestConfirmReadsBookingOnce: a confirm reads its booking's row once,
// whoever reads it, and answers with what a later read of the row returns
// (issue 15: it used to read the row three times, once in the API, once
// before the grain and once after the sale).
func TestConfirmReadsBookingOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// carried: the caller read the row and passes it along.
		carried   bool
		wantReads int64
	}{
		{"the engine reads it", false, 1},
		{"the caller carries it", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &readCounter{}
			e := newEnv(t, venue200(), actors.Config{})
			e.node.stop()
			e.node = startNode(t, e.db, actors.Config{}, func(d *actors.Deps) { s.EventStore, d.Store = d.Store, s })
			alice := uuid.New()
			held := e.mustReserve(t, alice, 3, 1, 2)
			ctx := context.Background()
			stored, err := e.db.Booking(ctx, held.ID)
			if err != nil {
				t.Fatal(err)
			}
			req := boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: held.ID, UserID: alice,
				Method: "card", Token: devpay.TokenVisa}
			if tc.carried {
				req.Booking = &stored
			}
			s.booking.Store(held.ID)
			got, err := e.node.eng.Confirm(ctx, req)
			if err != nil {
				t.Fatalf("confirm: %v", err)
			}
			if n := s.reads.Load(); n != tc.wantReads {
				t.Errorf("the engine read the booking %d times, want %d", n, tc.wantReads)
			}
			after, err := e.db.Booking(ctx, held.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, after) {
				t.Errorf("confirm answered\n%+v\nthe stored row is\n%+v", got, after)
			}
			req.Booking = nil
			again, err := e.node.eng.Confirm(ctx, req)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("repeated confirm: %+v, %v; want the first answer %+v", again, err, got)
			}
		})
	}
}
