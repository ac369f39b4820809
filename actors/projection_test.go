package actors_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// projectionWindow is the tests' coalescing window: short, since the
// tests wait for conditions, never for the window itself.
const projectionWindow = 20 * time.Millisecond

// errProjectorStopped is what a stopped projector's hook answers.
var errProjectorStopped = errors.New("projector stopped by the test")

// projected starts a node whose bookings of holds are written behind the
// journal; its projector writes nothing while *stopped is true.
func projectedNode(t *testing.T, e *env, stopped *atomic.Bool, opts ...func(*actors.Config)) *node {
	t.Helper()
	cfg := actors.Config{BookingsWindow: projectionWindow}
	for _, o := range opts {
		o(&cfg)
	}
	return startNode(t, e.db, cfg, func(d *actors.Deps) {
		d.Projection = e.db
		d.BeforeProjection = func() error {
			if stopped.Load() {
				return errProjectorStopped
			}
			return nil
		}
	})
}

// waitBooking waits (with a deadline) until the bookings table has id in
// status want.
func waitBooking(t *testing.T, e *env, id uuid.UUID, want boxoffice.BookingStatus) {
	t.Helper()
	require.Eventually(t, func() bool {
		b, err := e.db.Booking(context.Background(), id)
		return err == nil && b.Status == want
	}, 10*time.Second, 5*time.Millisecond, "booking %s never reached %s in the bookings table", id, want)
}

func stored(t *testing.T, e *env, id uuid.UUID) bool {
	t.Helper()
	_, err := e.db.Booking(context.Background(), id)
	if err != nil && !errors.Is(err, boxoffice.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestProjectionCatchesUpAfterCrash: the journal commits a hold, a release
// and a hold released later, and the process dies before the projection
// writes any of them (the hook stops the projector after the journal
// commit). The next activation replays the journal after the watermark and
// the rows appear: a crash between the two writes loses nothing.
func TestProjectionCatchesUpAfterCrash(t *testing.T) {
	e := newBareEnv(t, venue200())
	ctx := context.Background()
	var stopped atomic.Bool
	stopped.Store(true)
	// A clock that moves on at every reading: a hold's creation time must
	// not depend on which reading it was taken from.
	var ticks atomic.Int64
	start := time.Now()
	clock := func(c *actors.Config) {
		c.Now = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }
	}
	e.node = projectedNode(t, e, &stopped, clock)

	held := e.mustReserve(t, uuid.New(), 1, 2)
	user := uuid.New()
	released := e.mustReserve(t, user, 3)
	if _, err := e.node.eng.Release(ctx, e.eventID, released.ID, user); err != nil {
		t.Fatal(err)
	}
	// The replies are durable (the journal), the rows are not written...
	for _, id := range []uuid.UUID{held.ID, released.ID} {
		if stored(t, e, id) {
			t.Fatalf("booking %s written although the projector is stopped", id)
		}
	}
	// ...yet the node answers the live hold exactly.
	if b, err := e.node.eng.Booking(ctx, held.ID); err != nil || b.Status != boxoffice.BookingInProgress {
		t.Fatalf("engine booking = %+v, %v; want the in-progress hold", b, err)
	}
	e.node.stop() // the pending rows die with the node

	e.node = projectedNode(t, e, new(atomic.Bool), clock)
	if err := e.node.eng.Touch(ctx, e.eventID); err != nil {
		t.Fatal(err)
	}
	waitBooking(t, e, held.ID, boxoffice.BookingInProgress)
	waitBooking(t, e, released.ID, boxoffice.BookingCancelled)
	require.Eventually(t, func() bool {
		v, ok, err := e.db.ProjectionWatermark(ctx, e.eventID)
		return err == nil && ok && v == 3
	}, 10*time.Second, 5*time.Millisecond, "the watermark reaches the journal's version 3")
	got, err := e.db.Booking(ctx, held.ID)
	if err != nil || got.Total != held.Total || len(got.TicketIDs) != 2 || got.UserID != held.UserID ||
		!got.CreatedAt.Equal(held.CreatedAt) || !got.ExpiresAt.Equal(held.ExpiresAt) {
		t.Fatalf("caught-up row = %+v, %v; want the hold %+v", got, err, held)
	}
}

// TestProjectionCoalescesEndedHolds: a hold released (or sold) while its row
// is pending is never written as a hold: the release drops it, the sale
// writes the confirmed row synchronously. A hold still live reaches the
// table once the projector runs again, within its bounded lag.
func TestProjectionCoalescesEndedHolds(t *testing.T) {
	e := newBareEnv(t, venue200())
	ctx := context.Background()
	var stopped atomic.Bool
	stopped.Store(true)
	e.node = projectedNode(t, e, &stopped)

	user := uuid.New()
	gone := e.mustReserve(t, user, 1)
	if _, err := e.node.eng.Release(ctx, e.eventID, gone.ID, user); err != nil {
		t.Fatal(err)
	}
	// On this node the released hold is still answered as cancelled.
	if _, err := e.node.eng.Release(ctx, e.eventID, gone.ID, user); codeOf(err) != boxoffice.EBookingState {
		t.Fatalf("second release of a coalesced hold = %v; want %s", err, boxoffice.EBookingState)
	}
	sold := e.mustReserve(t, user, 2)
	// Confirm reads the fresh hold from the engine, not the table.
	c, err := e.node.eng.Confirm(ctx, boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: sold.ID, UserID: user,
		Method: "card", Token: devpay.TokenVisa})
	if err != nil || c.Status != boxoffice.BookingConfirmed {
		t.Fatalf("confirm of a pending hold = %+v, %v", c, err)
	}
	// The sale is synchronous (I2): its row is there before the projector runs.
	if b, err := e.db.Booking(ctx, sold.ID); err != nil || b.Status != boxoffice.BookingConfirmed || !b.CreatedAt.Equal(sold.CreatedAt) {
		t.Fatalf("sold row = %+v, %v; want confirmed, created %s", b, err, sold.CreatedAt)
	}
	// The node answers the sale, not the pending hold row, at once.
	if b, err := e.node.eng.Booking(ctx, sold.ID); err != nil || b.Status != boxoffice.BookingConfirmed {
		t.Fatalf("engine booking after the sale = %+v, %v; want confirmed", b, err)
	}
	live := e.mustReserve(t, user, 4)

	stopped.Store(false)
	waitBooking(t, e, live.ID, boxoffice.BookingInProgress)
	e.node.eng.SyncProjection(ctx)
	if stored(t, e, gone.ID) {
		t.Errorf("the hold released within the window was written")
	}
	if b, err := e.db.Booking(ctx, sold.ID); err != nil || b.Status != boxoffice.BookingConfirmed {
		t.Errorf("sold row after the projection = %+v, %v; the hold row must not turn it back", b, err)
	}
	st := e.node.eng.ProjectionStats()
	if st.Coalesced < 1 || st.Failed < 1 || st.LagMax <= 0 {
		t.Errorf("stats = %+v; want a coalesced row, the stopped writes counted, a measured lag", st)
	}
}

// TestBookingReadsExactFromAnyNode: with the bookings of holds written
// behind (and the projector held back, so no row reaches the table), every
// node of a two-node cluster reads a hold made through either node exactly
// as its reply gave it, then its release and its sale, through the event
// fingerprint its booking ID carries and the event's grain; once the
// projector writes, the table answers the same.
func TestBookingReadsExactFromAnyNode(t *testing.T) {
	e := newBareEnv(t, venue200())
	ctx := context.Background()
	agent := test.NewInMemAgent()
	var stopped atomic.Bool
	stopped.Store(true)
	start := func(name string) *node {
		return startNodeIn(t, agent, e.db, actors.Config{NodeName: name, BookingsWindow: projectionWindow},
			devpay.New(), nil, func(d *actors.Deps) {
				d.Projection = e.db
				d.BeforeProjection = func() error {
					if stopped.Load() {
						return errProjectorStopped
					}
					return nil
				}
			})
	}
	nodes := []*node{start("a"), start("b")}
	require.Eventually(t, func() bool {
		return nodes[0].cluster.MemberList.Members().Len() == 2 && nodes[1].cluster.MemberList.Members().Len() == 2
	}, 10*time.Second, 20*time.Millisecond, "both members see each other")

	user := uuid.New()
	holds := make([]boxoffice.Booking, 2)
	for i, via := range nodes {
		b, err := via.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID, UserID: user,
			BookingID: boxoffice.NewBookingID(e.eventID), TicketIDs: e.tickets(2*i, 2*i+1)})
		if err != nil {
			t.Fatalf("reserve through node %d: %v", i, err)
		}
		holds[i] = b
	}
	expect := func(step string, want boxoffice.Booking) {
		t.Helper()
		for i, n := range nodes {
			got, err := n.eng.Booking(ctx, want.ID)
			if err != nil {
				t.Fatalf("%s: node %d: booking %s: %v", step, i, want.ID, err)
			}
			if got.Status != want.Status || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
				got.Total != want.Total || got.UserID != want.UserID || got.EventID != e.eventID || len(got.TicketIDs) != len(want.TicketIDs) {
				t.Errorf("%s: node %d reads %+v; want %+v", step, i, got, want)
			}
		}
	}
	for i, h := range holds {
		if stored(t, e, h.ID) {
			t.Fatalf("hold %d written although the projector is stopped", i)
		}
		expect("live hold", h)
	}
	released, err := nodes[1].eng.Release(ctx, e.eventID, holds[0].ID, user)
	if err != nil {
		t.Fatal(err)
	}
	released.CreatedAt = holds[0].CreatedAt
	expect("released hold", released)
	sold, err := nodes[0].eng.Confirm(ctx, boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: holds[1].ID,
		UserID: user, Method: "card", Token: devpay.TokenVisa})
	if err != nil {
		t.Fatal(err)
	}
	expect("sold hold", sold)
	for i, n := range nodes {
		for _, id := range []uuid.UUID{uuid.New(), boxoffice.NewBookingID(e.eventID), boxoffice.NewBookingID(uuid.New())} {
			if _, err := n.eng.Booking(ctx, id); codeOf(err) != boxoffice.ENotFound {
				t.Errorf("node %d: unknown booking %s = %v; want not_found", i, id, err)
			}
		}
	}

	stopped.Store(false)
	for _, n := range nodes {
		n.eng.SyncProjection(ctx)
	}
	if b, err := e.db.Booking(ctx, sold.ID); err != nil || b.Status != boxoffice.BookingConfirmed {
		t.Errorf("sold row = %+v, %v", b, err)
	}
	expect("after the projection", sold)
}
