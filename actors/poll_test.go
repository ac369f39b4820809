package actors_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence"
)

// pollCounter counts the store reads of the periodic rules refresh and
// reconciliation: per event (Event, PendingPayments) and batched for the
// node's active events (ChangedEvents, PendingPaymentsFor).
type pollCounter struct {
	*persistence.DB
	events, pending       atomic.Int64
	changed, pendingFor   atomic.Int64
	changedN, pendingForN atomic.Int64 // events asked about by the last batched read
}

func (s *pollCounter) Event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error) {
	s.events.Add(1)
	return s.DB.Event(ctx, id)
}

func (s *pollCounter) PendingPayments(ctx context.Context, id uuid.UUID) ([]boxoffice.Payment, error) {
	s.pending.Add(1)
	return s.DB.PendingPayments(ctx, id)
}

func (s *pollCounter) ChangedEvents(ctx context.Context, ids []uuid.UUID, revs []int64) ([]boxoffice.Event, error) {
	s.changedN.Store(int64(len(ids)))
	s.changed.Add(1)
	return s.DB.ChangedEvents(ctx, ids, revs)
}

func (s *pollCounter) PendingPaymentsFor(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]boxoffice.Payment, error) {
	s.pendingForN.Store(int64(len(ids)))
	s.pendingFor.Add(1)
	return s.DB.PendingPaymentsFor(ctx, ids)
}

// TestNodeWidePolls (issue 22): with N active events, each round of the
// rules refresh reads all of them in one query and each periodic
// reconciliation lists their pending payments in one query, instead of
// one read per event; an event changed without a push (a PATCH through
// another node) still reaches its grain.
func TestNodeWidePolls(t *testing.T) {
	const n = 6
	e := newBareEnv(t, smallHall)
	clk := newMovable()
	s := &pollCounter{DB: e.db}
	e.node = startNode(t, e.db, actors.Config{RulesRefresh: 20 * time.Millisecond, TickInterval: 20 * time.Millisecond,
		ReconcileInterval: time.Minute, HoldTTL: time.Hour, IdleTimeout: time.Hour, Now: clk.Now},
		func(d *actors.Deps) { d.Store = s })
	ids := []uuid.UUID{e.eventID}
	for len(ids) < n {
		ids = append(ids, createEvent(t, e.db, smallHall))
	}
	ctx := context.Background()
	reserve := func(event uuid.UUID, user uuid.UUID, seats ...int) (boxoffice.Booking, error) {
		sp := boxoffice.NewTicketSpace(event)
		tickets := make([]uuid.UUID, len(seats))
		for i, k := range seats {
			tickets[i] = sp.ID(k)
		}
		return e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: event, UserID: user, BookingID: uuid.New(), TicketIDs: tickets})
	}
	for _, id := range ids {
		if _, err := reserve(id, uuid.New(), 0); err != nil {
			t.Fatalf("activating %s: %v", id, err)
		}
	}
	require.Equal(t, n, e.node.eng.Resident())

	events, pending, rounds := s.events.Load(), s.pending.Load(), s.changed.Load()
	require.Eventually(t, func() bool { return s.changed.Load() >= rounds+3 }, 10*time.Second, 5*time.Millisecond,
		"three rounds of the rules refresh, each one batched read")
	if got := s.events.Load() - events; got != 0 {
		t.Errorf("the rules refresh read %d events one by one, want none", got)
	}
	if got := s.changedN.Load(); got != n {
		t.Errorf("a refresh round asked about %d events, want the %d active ones", got, n)
	}

	clk.Add(2 * time.Minute) // past ReconcileInterval on the engine's clock
	require.Eventually(t, func() bool { return s.pendingFor.Load() >= 1 }, 10*time.Second, 5*time.Millisecond,
		"the periodic reconciliation lists the pending payments in one read")
	if got := s.pending.Load() - pending; got != 0 {
		t.Errorf("the reconciliation listed %d events' pending payments one by one, want none", got)
	}
	if got := s.pendingForN.Load(); got != n {
		t.Errorf("the reconciliation asked about %d events, want the %d active ones", got, n)
	}

	// No push: the refresh finds the changed event and gives its grain the
	// new limit.
	one := 1
	if _, err := e.db.UpdateEvent(ctx, ids[3], persistence.EventPatch{MaxTicketsPerUser: &one}); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		user := uuid.New()
		b, err := reserve(ids[3], user, 1, 2)
		if err == nil {
			if _, err := e.node.eng.Release(ctx, ids[3], b.ID, user); err != nil {
				t.Fatal(err)
			}
			return false
		}
		return codeOf(err) == boxoffice.ELimitReached
	}, 10*time.Second, 10*time.Millisecond, "the changed event's grain takes its new limit")
}
