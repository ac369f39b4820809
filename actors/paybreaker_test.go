package actors_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// eventRecorder is the development provider that records the EventID of
// every charge and void it is asked for, and answers its first lost calls
// with an unknown outcome (so that the attempt is voided).
type eventRecorder struct {
	*devpay.Provider
	lost    atomic.Int32
	mu      sync.Mutex
	charged []uuid.UUID
	voided  []uuid.UUID
}

func (p *eventRecorder) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	p.mu.Lock()
	p.charged = append(p.charged, req.EventID)
	p.mu.Unlock()
	if p.lost.Add(-1) >= 0 {
		return boxoffice.PaymentResult{}, context.DeadlineExceeded
	}
	return p.Provider.Charge(ctx, req)
}

func (p *eventRecorder) Void(ctx context.Context, req boxoffice.VoidRequest) error {
	p.mu.Lock()
	p.voided = append(p.voided, req.EventID)
	p.mu.Unlock()
	return p.Provider.Void(ctx, req)
}

// TestPaymentRequestsCarryEventID: the charge and the void of one attempt
// both name the booking's event (the provider stores it as metadata, and
// a void must repeat the charge's request exactly).
func TestPaymentRequestsCarryEventID(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	dev := devpay.New()
	pay := &eventRecorder{Provider: dev}
	pay.lost.Store(3)
	e.node = startNodeWith(t, e.db, fastPayments(newMovable()), dev, pay)
	user := uuid.New()
	b := e.mustReserve(t, user, 7)
	if _, err := e.confirm(t, b, user, devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("confirm: %v, want unavailable (outcome unknown)", err)
	}
	require.Eventually(t, func() bool {
		p, err := e.db.Payment(context.Background(), b.ID)
		return err == nil && p.Status == boxoffice.PaymentVoided
	}, 10*time.Second, 20*time.Millisecond, "the unknown attempt is voided")
	pay.mu.Lock()
	defer pay.mu.Unlock()
	if len(pay.charged) == 0 || len(pay.voided) == 0 {
		t.Fatalf("charges %v voids %v", pay.charged, pay.voided)
	}
	for _, id := range append(append([]uuid.UUID(nil), pay.charged...), pay.voided...) {
		if id != e.eventID {
			t.Errorf("a request names event %s, want %s (charges %v, voids %v)", id, e.eventID, pay.charged, pay.voided)
		}
	}
}

// openBreaker is a provider whose circuit breaker is open while open is
// set: Charge sends nothing and answers unavailable; afterwards it charges
// through the development provider.
type openBreaker struct {
	*devpay.Provider
	open  atomic.Bool
	calls atomic.Int32
}

func (p *openBreaker) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	p.calls.Add(1)
	if p.open.Load() {
		return boxoffice.PaymentResult{}, boxoffice.Errorf(boxoffice.EUnavailable, "the payment provider is unavailable; try again shortly")
	}
	return p.Provider.Charge(ctx, req)
}

// TestOpenBreakerChargesNothing: a provider that answers unavailable (its
// breaker is open; nothing was sent) makes the confirm answer unavailable
// after one call, without retries or a void: the attempt is closed as
// not charged, the hold stays the buyer's, unpinned, until its expiry, and
// a confirm after the provider is back opens a new attempt and sells.
func TestOpenBreakerChargesNothing(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	pay := &openBreaker{Provider: dev}
	pay.open.Store(true)
	e.node = startNodeWith(t, e.db, fastPayments(clk), dev, pay)
	ctx := context.Background()
	alice, bob := uuid.New(), uuid.New()
	b := e.mustReserve(t, alice, 12)

	if _, err := e.confirm(t, b, alice, devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("confirm with the breaker open: %v, want unavailable", err)
	}
	if n := pay.calls.Load(); n != 1 {
		t.Errorf("provider calls = %d, want 1 (no retries)", n)
	}
	p, err := e.db.Payment(ctx, b.ID)
	if err != nil || p.Status != boxoffice.PaymentDeclined {
		t.Fatalf("payment = %+v, %v; want closed as declined (nothing charged)", p, err)
	}
	if dev.Charges(b.ID) != 0 || dev.Voids(b.ID) != 0 {
		t.Errorf("charges %d voids %d, want none", dev.Charges(b.ID), dev.Voids(b.ID))
	}
	if v := e.statuses(t); v.Statuses[12] != boxoffice.SeatReserved {
		t.Errorf("seat = %s, want still held", v.Statuses[12])
	}
	if _, err := e.reserve(t, bob, 12); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Errorf("another user's reserve of the held seat: %v, want seat_unavailable", err)
	}

	pay.open.Store(false)
	done, err := e.confirm(t, b, alice, devpay.TokenVisa)
	if err != nil || done.Status != boxoffice.BookingConfirmed {
		t.Fatalf("confirm after the provider is back: %+v, %v", done, err)
	}
	if p, err := e.db.Payment(ctx, b.ID); err != nil || p.Attempt != 2 || p.Status != boxoffice.PaymentSucceeded {
		t.Errorf("payment = %+v, %v; want attempt 2 succeeded", p, err)
	}

	// The hold of an unpinned, unpaid booking still expires at its time.
	pay.open.Store(true)
	c := e.mustReserve(t, alice, 13)
	if _, err := e.confirm(t, c, alice, devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("confirm with the breaker open: %v", err)
	}
	clk.Add(2 * time.Minute)
	require.Eventually(t, func() bool {
		return e.statuses(t).Statuses[13] == boxoffice.SeatAvailable
	}, 10*time.Second, 20*time.Millisecond, "the unpaid hold expires")
	auditPayments(t, e)
}
