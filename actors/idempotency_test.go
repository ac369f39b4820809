package actors_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// keyedReserve reserves seats idx with an Idempotency-Key; the fingerprint
// stands for the body, so the same seats give the same one.
func (e *env) keyedReserve(t testing.TB, n *node, user uuid.UUID, key string, idx ...int) (boxoffice.Booking, error) {
	t.Helper()
	fp := sha256.Sum256([]byte(fmt.Sprint(e.eventID, idx)))
	return n.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
		EventID: e.eventID, UserID: user, BookingID: uuid.New(), TicketIDs: e.tickets(idx...),
		IdempotencyKey: key, Fingerprint: fp[:]})
}

// sameFirstReply fails unless got is the first reply want again.
func sameFirstReply(t testing.TB, got boxoffice.Booking, err error, want boxoffice.Booking) {
	t.Helper()
	if err != nil {
		t.Fatalf("repeated keyed reserve: %v; want the first reply again", err)
	}
	if got.ID != want.ID || got.Status != boxoffice.BookingInProgress || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.Total != want.Total || got.Currency != want.Currency ||
		fmt.Sprint(got.TicketIDs) != fmt.Sprint(want.TicketIDs) || !got.ConfirmedAt.IsZero() {
		t.Fatalf("repeated keyed reserve = %+v; want the first reply %+v", got, want)
	}
}

// holdsOf is how many holds the event's grain has.
func holdsOf(t testing.TB, e *env, n *node) int {
	t.Helper()
	st, err := n.eng.Stats(context.Background(), e.eventID)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st.Holds
}

// TestKeyedReserveRepeats: a repeated reserve with the same user, key and
// body gets the first 201 (same booking) and never a second hold, whether
// the first hold is live, expired, released or sold, and also from a
// restarted node (the keyed holds are rebuilt from PostgreSQL).
func TestKeyedReserveRepeats(t *testing.T) {
	cases := []struct {
		name string
		end  func(t *testing.T, e *env, c *clock, b boxoffice.Booking, user uuid.UUID) boxoffice.BookingStatus
	}{
		{"live", func(*testing.T, *env, *clock, boxoffice.Booking, uuid.UUID) boxoffice.BookingStatus {
			return boxoffice.BookingInProgress
		}},
		{"expired", func(t *testing.T, e *env, c *clock, b boxoffice.Booking, _ uuid.UUID) boxoffice.BookingStatus {
			c.add(11 * time.Minute)
			return boxoffice.BookingExpired
		}},
		{"released", func(t *testing.T, e *env, _ *clock, b boxoffice.Booking, user uuid.UUID) boxoffice.BookingStatus {
			if _, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, user); err != nil {
				t.Fatalf("release: %v", err)
			}
			return boxoffice.BookingCancelled
		}},
		{"confirmed", func(t *testing.T, e *env, _ *clock, b boxoffice.Booking, user uuid.UUID) boxoffice.BookingStatus {
			if _, err := e.confirm(t, b, user, devpay.TokenVisa); err != nil {
				t.Fatalf("confirm: %v", err)
			}
			return boxoffice.BookingConfirmed
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			cfg := actors.Config{Now: c.Now, TickInterval: 20 * time.Millisecond}
			e := newEnv(t, venue200(), cfg)
			ctx := context.Background()
			user := uuid.New()
			first, err := e.keyedReserve(t, e.node, user, "k-1", 3, 4)
			if err != nil {
				t.Fatalf("first keyed reserve: %v", err)
			}
			want := tc.end(t, e, c, first, user)
			require.Eventually(t, func() bool {
				b, err := e.db.Booking(ctx, first.ID)
				return err == nil && b.Status == want
			}, 5*time.Second, 20*time.Millisecond, "the booking is "+string(want))
			version := e.statuses(t).Version

			again, err := e.keyedReserve(t, e.node, user, "k-1", 3, 4)
			sameFirstReply(t, again, err, first)
			fp := sha256.Sum256([]byte(fmt.Sprint(e.eventID, []int{3, 4})))
			replayed, done, err := e.node.eng.ReplayReserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID,
				UserID: user, TicketIDs: e.tickets(3, 4), IdempotencyKey: "k-1", Fingerprint: fp[:]})
			if !done {
				t.Errorf("ReplayReserve did not answer a repeat of a durable hold (%v)", err)
			}
			sameFirstReply(t, replayed, err, first)
			if v := e.statuses(t).Version; v != version {
				t.Errorf("version %d after the repeat, want %d (nothing held again)", v, version)
			}
			if b, _ := e.db.Booking(ctx, first.ID); b.Status != want {
				t.Errorf("booking is %s after the repeat, want %s", b.Status, want)
			}

			e.node.stop()
			n := startNode(t, e.db, cfg)
			again, err = e.keyedReserve(t, n, user, "k-1", 3, 4)
			sameFirstReply(t, again, err, first)
			wantHolds := 0
			if want == boxoffice.BookingInProgress {
				wantHolds = 1
			}
			if h := holdsOf(t, e, n); h != wantHolds {
				t.Errorf("holds after the repeat on a restarted node = %d, want %d", h, wantHolds)
			}
		})
	}
}

// TestKeyedReserveConflictsAndUsers: the same key with another body is
// idempotency_conflict and holds nothing; another user's same key is a
// request of its own.
func TestKeyedReserveConflictsAndUsers(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	alice, bob := uuid.New(), uuid.New()
	first, err := e.keyedReserve(t, e.node, alice, "shared", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.keyedReserve(t, e.node, alice, "shared", 2); codeOf(err) != boxoffice.EIdempotencyConflict {
		t.Errorf("same key, other body: %v; want idempotency_conflict", err)
	}
	if v := e.statuses(t); v.Statuses[2] != boxoffice.SeatAvailable || v.Version != 1 {
		t.Errorf("the conflicting request changed seats: seat 2 %s, version %d", v.Statuses[2], v.Version)
	}
	other, err := e.keyedReserve(t, e.node, bob, "shared", 2)
	if err != nil || other.ID == first.ID || other.UserID != bob {
		t.Fatalf("other user, same key: %+v, %v; want a booking of their own", other, err)
	}
	if _, err := e.keyedReserve(t, e.node, bob, "shared", 1); codeOf(err) != boxoffice.EIdempotencyConflict {
		t.Errorf("bob's key with alice's body: %v; want idempotency_conflict (bob's key belongs to bob's body)", err)
	}
	again, err := e.keyedReserve(t, e.node, alice, "shared", 1)
	sameFirstReply(t, again, err, first)
}

// TestKeyedReserveErrorNotKept: a keyed reserve that failed is decided
// afresh when repeated.
func TestKeyedReserveErrorNotKept(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	alice, bob := uuid.New(), uuid.New()
	blocker := e.mustReserve(t, bob, 9)
	if _, err := e.keyedReserve(t, e.node, alice, "k", 9); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Fatalf("keyed reserve of a held seat: %v; want seat_unavailable", err)
	}
	if _, err := e.node.eng.Release(context.Background(), e.eventID, blocker.ID, bob); err != nil {
		t.Fatal(err)
	}
	got, err := e.keyedReserve(t, e.node, alice, "k", 9)
	if err != nil || got.UserID != alice {
		t.Fatalf("retry after the error: %+v, %v; want a new hold", got, err)
	}
	again, err := e.keyedReserve(t, e.node, alice, "k", 9)
	sameFirstReply(t, again, err, got)
}

// TestKeyedReserveWindow: after 24 hours the key is free again, and the
// claims out of the window are pruned.
func TestKeyedReserveWindow(t *testing.T) {
	c := newClock()
	e := newEnv(t, venue200(), actors.Config{Now: c.Now})
	ctx := context.Background()
	user := uuid.New()
	first, err := e.keyedReserve(t, e.node, user, "day", 5)
	if err != nil {
		t.Fatal(err)
	}
	c.add(boxoffice.IdempotencyWindow + time.Second)
	require.Eventually(t, func() bool {
		b, err := e.db.Booking(ctx, first.ID)
		return err == nil && b.Status == boxoffice.BookingExpired
	}, 5*time.Second, 20*time.Millisecond, "the first hold expired")
	next, err := e.keyedReserve(t, e.node, user, "day", 5)
	if err != nil || next.ID == first.ID {
		t.Fatalf("the key after its window: %+v, %v; want a new booking", next, err)
	}
	c.add(boxoffice.IdempotencyWindow / 2)
	other, err := e.keyedReserve(t, e.node, user, "other", 6)
	if err != nil {
		t.Fatal(err)
	}
	c.add(boxoffice.IdempotencyWindow/2 + time.Second)
	n, err := e.db.PruneReserveClaims(ctx, c.Now().Add(-boxoffice.IdempotencyWindow), 100)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the one claim out of its window", n, err)
	}
	claims, err := e.db.ClaimedHolds(ctx, e.eventID, time.Time{})
	if err != nil || len(claims) != 1 || claims[0].BookingID != other.ID {
		t.Errorf("claims left = %+v, %v; want only the one in its window", claims, err)
	}
}

// TestKeyedReserveInFlight: a repeat that arrives while the first hold is
// not yet durable waits for it and gets the same reply.
func TestKeyedReserveInFlight(t *testing.T) {
	g, o := &gate{}, &outcomes{}
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	e.node = startNode(t, e.db, actors.Config{}, gated(g), counting(o))
	if err := e.node.eng.Touch(context.Background(), e.eventID); err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	g.close()
	type result struct {
		b   boxoffice.Booking
		err error
	}
	res := make(chan result, 2)
	go func() {
		b, err := e.keyedReserve(t, e.node, user, "slow", 7, 8)
		res <- result{b, err}
	}()
	require.Eventually(t, func() bool { return g.pending() == 1 }, 5*time.Second, 20*time.Millisecond, "the first hold is staged")
	go func() {
		b, err := e.keyedReserve(t, e.node, user, "slow", 7, 8)
		res <- result{b, err}
	}()
	waitOutcome(t, o, "reserve replayed", 1)
	select {
	case r := <-res:
		t.Fatalf("a reply came before the hold was durable: %+v, %v", r.b, r.err)
	default:
	}
	g.open()
	a, b := <-res, <-res
	if a.err != nil || b.err != nil || a.b.ID != b.b.ID {
		t.Fatalf("replies %+v %v / %+v %v; want one booking twice", a.b, a.err, b.b, b.err)
	}
	if h := holdsOf(t, e, e.node); h != 1 {
		t.Errorf("holds = %d, want 1", h)
	}
}

// TestKeyedReserveConcurrent: many identical keyed reserves at once make
// one hold, and every one of them gets it.
func TestKeyedReserveConcurrent(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	for round := range 10 {
		user := uuid.New() // max_tickets_per_user (10) bounds each user
		key, seats := fmt.Sprint("round-", round), []int{10 * round, 10*round + 1}
		ids := make(chan uuid.UUID, 12)
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := e.keyedReserve(t, e.node, user, key, seats...)
				if err != nil {
					t.Errorf("round %d: %v", round, err)
				}
				ids <- b.ID
			}()
		}
		wg.Wait()
		close(ids)
		first := <-ids
		for id := range ids {
			if id != first {
				t.Fatalf("round %d: bookings %s and %s for one key", round, first, id)
			}
		}
	}
	if h := holdsOf(t, e, e.node); h != 10 {
		t.Errorf("holds = %d, want 10 (one per key)", h)
	}
}
