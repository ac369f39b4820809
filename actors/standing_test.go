package actors_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// TestStandingNeverOversold has 24 buyers reserve 1..3 places of a standing
// section of 7 at once through the grain, and pay for what they got at once:
// the places acknowledged never pass the capacity, every acknowledged place
// is distinct and taken in the seat statuses, and a fresh node rebuilt from
// the journal refuses one place more.
func TestStandingNeverOversold(t *testing.T) {
	const capacity = 7
	sm := boxoffice.SeatMap{Sections: []boxoffice.Section{
		{Name: "Floor", Standing: capacity}, {Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 5}}},
	}}
	e := newEnv(t, sm, actors.Config{})
	ctx := context.Background()
	type held struct {
		b    boxoffice.Booking
		user uuid.UUID
	}
	// A retried reserve (the same booking ID, as the engine resends after
	// a grain moved) gets its hold back; another quantity does not.
	first, again := uuid.New(), uuid.New()
	want := []boxoffice.StandingWant{{Section: "Floor", Quantity: 2}}
	b1, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: first, BookingID: again, Standing: want})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: first, BookingID: again, Standing: want})
	if err != nil || fmt.Sprint(b2.TicketIDs) != fmt.Sprint(b1.TicketIDs) {
		t.Fatalf("retried reserve: %v %v, want %v", err, b2.TicketIDs, b1.TicketIDs)
	}
	if _, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: first, BookingID: again,
		Standing: []boxoffice.StandingWant{{Section: "Floor", Quantity: 3}}}); boxoffice.ErrorCode(err) != boxoffice.EBookingState {
		t.Fatalf("a retry asking for more: %v, want booking_state", err)
	}
	if _, err := e.node.eng.Release(ctx, e.eventID, again, first); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []held
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			user := uuid.New()
			b, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: user, BookingID: uuid.New(),
				Standing: []boxoffice.StandingWant{{Section: "Floor", Quantity: 1 + c%3}}})
			switch {
			case err == nil:
				mu.Lock()
				got = append(got, held{b, user})
				mu.Unlock()
			case boxoffice.ErrorCode(err) != boxoffice.ESeatUnavailable:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	places := map[uuid.UUID]bool{}
	for _, h := range got {
		for _, id := range h.b.TicketIDs {
			i, ok := e.space.Index(id)
			if !ok || i >= capacity || places[id] {
				t.Fatalf("place %s (index %d) acknowledged twice or outside the floor", id, i)
			}
			places[id] = true
		}
	}
	// Eight buyers want one place each, so some of them are refused, and
	// a refusal of one place means none was left: the floor sold out.
	if len(places) != capacity {
		t.Fatalf("%d places acknowledged, capacity %d", len(places), capacity)
	}
	for _, h := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.node.eng.Confirm(ctx, boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: h.b.ID, UserID: h.user,
				Method: "card", Token: devpay.TokenVisa}); err != nil {
				t.Errorf("confirm: %v", err)
			}
		}()
	}
	wg.Wait()
	v := e.statuses(t)
	sold := 0
	for _, st := range v.Statuses[:capacity] {
		if st == boxoffice.SeatBooked {
			sold++
		}
	}
	if sold != len(places) {
		t.Fatalf("%d places booked, %d acknowledged", sold, len(places))
	}

	// A fresh node replays the journal: the floor's counter is rebuilt.
	e.node.stop()
	n := startNode(t, e.db, actors.Config{})
	_, err = n.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: uuid.New(), BookingID: uuid.New(),
		Standing: []boxoffice.StandingWant{{Section: "Floor", Quantity: 1}}})
	var be *boxoffice.Error
	if !errors.As(err, &be) || be.Code != boxoffice.ESeatUnavailable || be.Details["left"] != 0 {
		t.Fatalf("after a restart, a place of a sold-out floor: %v", err)
	}
}
