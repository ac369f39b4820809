package actors_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestInterruptedPaymentSettles leaves a hold pinned in the journal with a
// succeeded payment row, as a crash between charge and sale would; the next
// activation sells the seats without charging again.
func TestInterruptedPaymentSettles(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	ctx := context.Background()
	user := uuid.New()
	b := e.mustReserve(t, user, 7, 8)
	e.node.stop()

	// What the crashed node had made durable: the pin, and the charge.
	m := restore(t, e)
	r, err := m.PinForPayment(b.ID, user, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	epoch, err := e.db.Acquire(ctx, e.eventID, "crashed")
	if err != nil {
		t.Fatal(err)
	}
	submit(t, e.db, boxoffice.Commit{EventID: e.eventID, Epoch: epoch, Entries: []boxoffice.Entry{entry(t, r)}})
	if _, err := e.db.BeginPayment(ctx, boxoffice.Payment{BookingID: b.ID, EventID: e.eventID, Epoch: epoch,
		Amount: b.Total, Currency: "EUR", Method: "card", Token: devpay.TokenVisa}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.FinishPayment(ctx, b.ID, epoch, boxoffice.PaymentSucceeded, "ch_1"); err != nil {
		t.Fatal(err)
	}

	n := startNode(t, e.db, actors.Config{})
	if err := n.eng.Touch(ctx, e.eventID); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(ctx, b.ID)
		return err == nil && s.Status == boxoffice.BookingConfirmed
	}, 5*time.Second, 20*time.Millisecond, "the interrupted sale completes")
	v, err := n.eng.Seats(ctx, e.eventID)
	if err != nil || v.Statuses[7] != boxoffice.SeatBooked {
		t.Fatalf("seat 7 = %v, %v; want booked", v.Statuses[7], err)
	}
	if got := n.pay.Charges(b.ID); got != 0 {
		t.Errorf("the new node charged %d times, want 0 (the charge had succeeded)", got)
	}
}

// TestSweeperExpiresHoldsAfterRestart: a hold that runs out while no actor
// is up is expired by the node's sweeper without any caller (I3).
func TestSweeperExpiresHoldsAfterRestart(t *testing.T) {
	// The first node's clock runs an hour behind, so its hold is already
	// overdue by PostgreSQL's clock (the sweeper's) when it stops: no
	// sleeping until it runs out.
	past := &clock{t: time.Now().UTC().Add(-time.Hour)}
	e := newEnv(t, venue200(), actors.Config{HoldTTL: time.Minute, Now: past.Now})
	ctx := context.Background()
	b := e.mustReserve(t, uuid.New(), 3)
	e.node.stop()

	n := startNode(t, e.db, actors.Config{TickInterval: 50 * time.Millisecond})
	sweep, cancel := context.WithCancel(ctx)
	defer cancel()
	go n.eng.RunSweeper(sweep, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(ctx, b.ID)
		return err == nil && s.Status == boxoffice.BookingExpired
	}, 30*time.Second, 20*time.Millisecond, "the overdue hold expires")
}

// restore rebuilds the event's seat map from PostgreSQL the way an
// activation does.
func restore(t *testing.T, e *env) *seatmap.Map {
	t.Helper()
	ctx := context.Background()
	m := seatmap.New(e.eventID, e.seats)
	if _, state, ok, err := e.db.LatestSnapshot(ctx, e.eventID); err != nil {
		t.Fatal(err)
	} else if ok {
		if m, err = seatmap.Decode(e.eventID, state); err != nil {
			t.Fatal(err)
		}
	}
	err := e.db.ReadJournal(ctx, e.eventID, m.Version(), func(en boxoffice.Entry) error {
		r, err := seatmap.UnmarshalRecord(en.Record)
		if err != nil {
			return err
		}
		return m.Apply(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func entry(t *testing.T, r seatmap.Record) boxoffice.Entry {
	t.Helper()
	data, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return boxoffice.Entry{Version: r.Version, Record: data}
}

func submit(t *testing.T, db *persistence.DB, c boxoffice.Commit) {
	t.Helper()
	jw := persistence.NewJournalWriter(db, persistence.DefaultJournalConfig())
	defer jw.Close()
	done := make(chan error, 1)
	jw.Submit(c, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatalf("submit: %v", err)
	}
}
