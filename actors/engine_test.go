package actors_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

func TestReserveRelease(t *testing.T) {
	c := newClock()
	e := newEnv(t, venue200(), actors.Config{HoldTTL: time.Minute, Now: c.Now})
	alice, bob := uuid.New(), uuid.New()

	b := e.mustReserve(t, alice, 0, 1, 150)
	if got, want := b.Status, boxoffice.BookingInProgress; got != want {
		t.Fatalf("status = %s, want %s", got, want)
	}
	if got, want := b.Total, boxoffice.Money(10000+10000+5000); got != want {
		t.Errorf("total = %s, want %s", got, want)
	}
	if want := c.Now().Add(time.Minute); !b.ExpiresAt.Equal(want) {
		t.Errorf("expires at %s, want %s (HoldTTL after the engine's clock)", b.ExpiresAt, want)
	}
	stored, err := e.db.Booking(context.Background(), b.ID)
	if err != nil || stored.Status != boxoffice.BookingInProgress || len(stored.TicketIDs) != 3 {
		t.Fatalf("stored booking = %+v, %v; want in-progress with 3 seats (durable before the reply)", stored, err)
	}

	// Overlap: all or nothing, and exactly the blocking seats are named.
	_, err = e.reserve(t, bob, 1, 2, 150)
	if codeOf(err) != boxoffice.ESeatUnavailable {
		t.Fatalf("overlapping reserve: %v, want seat_unavailable", err)
	}
	var be *boxoffice.Error
	errors.As(err, &be)
	got := be.Details["ticket_ids"].([]string)
	want := []string{e.ticket(1).String(), e.ticket(150).String()}
	if !slices.Equal(got, want) {
		t.Errorf("ticket_ids = %v, want %v", got, want)
	}
	if v := e.statuses(t); v.Statuses[2] != boxoffice.SeatAvailable {
		t.Errorf("seat 2 = %s after a refused hold, want available (nothing half-held)", v.Statuses[2])
	}

	// Another user's release is refused; the owner's works and frees the seats at once.
	if _, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, bob); codeOf(err) != boxoffice.EForbidden {
		t.Errorf("release by another user: %v, want forbidden", err)
	}
	rel, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, alice)
	if err != nil || rel.Status != boxoffice.BookingCancelled {
		t.Fatalf("release: %+v, %v; want cancelled", rel, err)
	}
	if v := e.statuses(t); v.Statuses[0] != boxoffice.SeatAvailable || v.Statuses[150] != boxoffice.SeatAvailable {
		t.Errorf("seats after release = %s, %s; want available", v.Statuses[0], v.Statuses[150])
	}
	if _, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, alice); codeOf(err) != boxoffice.EBookingState {
		t.Errorf("second release: %v, want booking_state", err)
	}
	e.mustReserve(t, bob, 1, 2, 150)
}

func TestReserveRejectsBadInput(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	user := uuid.New()
	other := boxoffice.NewTicketSpace(uuid.New()).ID(0)
	tests := []struct {
		name    string
		tickets []uuid.UUID
		code    string
	}{
		{"none", nil, boxoffice.EInvalid},
		{"eleven", e.tickets(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), boxoffice.EInvalid},
		{"duplicate", e.tickets(3, 3), boxoffice.EInvalid},
		{"another event's ticket", []uuid.UUID{other}, boxoffice.ENotFound},
		{"index past the venue", []uuid.UUID{e.space.ID(e.seats)}, boxoffice.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
				EventID: e.eventID, UserID: user, BookingID: uuid.New(), TicketIDs: tt.tickets})
			if got := codeOf(err); got != tt.code {
				t.Errorf("code = %s (%v), want %s", got, err, tt.code)
			}
		})
	}
	if v := e.statuses(t); v.Version != 0 {
		t.Errorf("version = %d after only bad requests, want 0", v.Version)
	}
	_, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
		EventID: uuid.New(), UserID: user, BookingID: uuid.New(), TicketIDs: e.tickets(0)})
	if codeOf(err) != boxoffice.ENotFound {
		t.Errorf("unknown event: %v, want not_found", err)
	}
}

func TestRetriedReserveReturnsSameHold(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	user := uuid.New()
	req := boxoffice.ReserveRequest{EventID: e.eventID, UserID: user, BookingID: uuid.New(), TicketIDs: e.tickets(5, 6)}
	first, err := e.node.eng.Reserve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.node.eng.Reserve(context.Background(), req)
	if err != nil || again.ID != first.ID || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("retry = %+v, %v; want the same hold %+v", again, err, first)
	}
	if v := e.statuses(t); v.Version != 1 {
		t.Errorf("version = %d, want 1 (the retry changed nothing)", v.Version)
	}
}

func TestConfirm(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	alice, bob := uuid.New(), uuid.New()
	ctx := context.Background()

	b := e.mustReserve(t, alice, 10, 11)
	if _, err := e.confirm(t, b, bob, devpay.TokenVisa); codeOf(err) != boxoffice.EForbidden {
		t.Errorf("confirm by another user: %v, want forbidden", err)
	}
	if _, err := e.confirm(t, b, alice, devpay.TokenDeclined); codeOf(err) != boxoffice.EPaymentFailed {
		t.Fatalf("declined card: %v, want payment_failed", err)
	}
	if v := e.statuses(t); v.Statuses[10] != boxoffice.SeatReserved {
		t.Errorf("seat after decline = %s, want reserved until the hold expires", v.Statuses[10])
	}
	if _, err := e.confirm(t, b, alice, "tok_bogus"); codeOf(err) != boxoffice.EPaymentFailed {
		t.Errorf("unknown token: %v, want payment_failed", err)
	}
	done, err := e.confirm(t, b, alice, devpay.TokenVisa)
	if err != nil || done.Status != boxoffice.BookingConfirmed || done.ConfirmedAt.IsZero() {
		t.Fatalf("confirm: %+v, %v; want confirmed", done, err)
	}
	again, err := e.confirm(t, b, alice, devpay.TokenVisa)
	if err != nil || again.Status != boxoffice.BookingConfirmed || !again.ConfirmedAt.Equal(done.ConfirmedAt) {
		t.Fatalf("repeated confirm: %+v, %v; want the same confirmed booking", again, err)
	}
	if got := e.node.pay.Charges(b.ID); got != 1 {
		t.Errorf("charges = %d, want exactly 1 (I6)", got)
	}
	if v := e.statuses(t); v.Statuses[10] != boxoffice.SeatBooked || v.Statuses[11] != boxoffice.SeatBooked {
		t.Errorf("seats = %s %s, want booked", v.Statuses[10], v.Statuses[11])
	}
	var sold int
	if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM sold_seats WHERE booking_id = $1`, b.ID).Scan(&sold); err != nil || sold != 2 {
		t.Errorf("sold_seats rows = %d, %v; want 2", sold, err)
	}
	if _, err := e.node.eng.Release(ctx, e.eventID, b.ID, alice); codeOf(err) != boxoffice.EBookingState {
		t.Errorf("release of a sold booking: %v, want booking_state", err)
	}
	if _, err := e.reserve(t, bob, 11); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Errorf("reserve of a sold seat: %v, want seat_unavailable", err)
	}
}

func TestConcurrentConfirmsChargeOnce(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	user := uuid.New()
	b := e.mustReserve(t, user, 20)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := e.confirm(t, b, user, devpay.TokenVisa)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent confirm: %v", err)
		}
	}
	if got := e.node.pay.Charges(b.ID); got != 1 {
		t.Errorf("charges = %d, want 1", got)
	}
}

// TestHoldExpires moves the engine's clock to just before and then just
// past a hold's expiry: the hold stands until its moment, and the first
// tick after it ends it (I3), so it is never late on the engine's clock.
func TestHoldExpires(t *testing.T) {
	c := newClock()
	e := newEnv(t, venue200(), actors.Config{HoldTTL: time.Minute, TickInterval: 20 * time.Millisecond, Now: c.Now})
	ticks := countTicks(t)
	user := uuid.New()
	b := e.mustReserve(t, user, 30, 31)

	c.add(time.Minute - time.Nanosecond)
	ticks.waitMore(t, 3)
	if s, err := e.db.Booking(context.Background(), b.ID); err != nil || s.Status != boxoffice.BookingInProgress {
		t.Fatalf("hold a nanosecond before its expiry = %+v, %v; want in-progress", s, err)
	}
	c.add(time.Nanosecond) // the clock now reads exactly ExpiresAt, and stays there
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(context.Background(), b.ID)
		return err == nil && s.Status == boxoffice.BookingExpired
	}, 10*time.Second, 20*time.Millisecond, "hold expired in PostgreSQL")
	if v := e.statuses(t); v.Statuses[30] != boxoffice.SeatAvailable {
		t.Errorf("seat after expiry = %s, want available", v.Statuses[30])
	}
	if _, err := e.confirm(t, b, user, devpay.TokenVisa); codeOf(err) != boxoffice.EHoldExpired {
		t.Errorf("confirm after expiry: %v, want hold_expired", err)
	}
	if _, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, user); codeOf(err) != boxoffice.EHoldExpired {
		t.Errorf("release after expiry: %v, want hold_expired", err)
	}
	require.Eventually(t, func() bool {
		last := e.node.pub.all()
		return len(last) == 2 && len(last[1].Changes) == 2 && last[1].Changes[0].Status == boxoffice.SeatAvailable
	}, 10*time.Second, 20*time.Millisecond, "the expiry published")
}

func TestDeltasFollowJournal(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	var user uuid.UUID
	for i := range 20 {
		if i%5 == 0 { // max_tickets_per_user (10) bounds each user
			user = uuid.New()
		}
		b := e.mustReserve(t, user, i)
		if i%3 == 0 {
			if _, err := e.confirm(t, b, user, devpay.TokenVisa); err != nil {
				t.Fatal(err)
			}
		}
	}
	versions, err := e.db.JournalVersions(context.Background(), e.eventID)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range versions {
		if v != uint64(i+1) {
			t.Fatalf("journal versions %v have a gap at %d (I5)", versions, i)
		}
	}
	require.Eventually(t, func() bool { return len(e.node.pub.all()) == len(versions) }, 10*time.Second, 20*time.Millisecond, "every version published")
	for i, d := range e.node.pub.all() {
		if d.Version != uint64(i+1) || d.EventID != e.eventID {
			t.Fatalf("delta %d = %+v, want version %d in order", i, d, i+1)
		}
	}
}

// TestLingerNeverStrands checks group-commit pacing: after a commit of
// many callers' holds the grain waits for them to come back, but callers
// who do not come back still get their replies (the wait is bounded by
// MaxLinger's timer, not by ticks or by more traffic), and every hold is in
// the journal with consecutive versions. The journal gate sets the scene
// deterministically: one hold in flight and seven staged behind it, so the
// commit ends with eight expected back and none coming.
func TestLingerNeverStrands(t *testing.T) {
	g := &gate{}
	e := newEnv(t, venue200(), actors.Config{HoldTTL: time.Minute, MaxLinger: 50 * time.Millisecond})
	e.node.stop()
	e.node = startNode(t, e.db, actors.Config{HoldTTL: time.Minute, MaxLinger: 50 * time.Millisecond}, gated(g))
	e.statuses(t) // activate the grain before counting its messages
	reserves := countReserves(t)
	g.close()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := e.reserve(t, uuid.New(), i)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool {
		return reserves.n() >= 8 && g.pending() == 1
	}, 20*time.Second, 20*time.Millisecond, "eight reserves in the grain, one commit held at the gate")
	g.open()
	for range 8 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("reserve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("callers stranded: the linger after a commit never ended")
		}
	}
	e.mustReserve(t, uuid.New(), 100) // a lone caller after a busy group
	v := e.statuses(t)
	if v.Version != 9 {
		t.Errorf("version = %d, want 9 (one record per hold)", v.Version)
	}
	versions, err := e.db.JournalVersions(context.Background(), e.eventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 9 {
		t.Errorf("journal holds %d records, want 9", len(versions))
	}
	for i, v := range versions {
		if v != uint64(i+1) {
			t.Fatalf("journal entry %d has version %d: a gap", i, v)
		}
	}
}
