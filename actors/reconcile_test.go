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

// lookupProvider is the development provider with a PaymentLookup, as the
// Stripe provider has: Lookup answers what a key's charge did without
// charging (devpay replays a seen key's outcome; a key never charged is
// "nothing charged"). With action set, every charge needs the buyer's
// action (3-D Secure); answer, when set, is what Lookup says instead.
type lookupProvider struct {
	*devpay.Provider
	action  bool
	lookups atomic.Int32
	mu      sync.Mutex
	seen    map[string]bool
	answer  func(req boxoffice.VoidRequest) (boxoffice.PaymentResult, error)
}

func newLookupProvider(dev *devpay.Provider) *lookupProvider {
	return &lookupProvider{Provider: dev, seen: map[string]bool{}}
}

func (p *lookupProvider) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	if p.action {
		return boxoffice.PaymentResult{}, &boxoffice.PaymentActionRequired{ChargeID: "pi_action", Type: "redirect", URL: "https://bank.example/3ds"}
	}
	p.mu.Lock()
	p.seen[req.IdempotencyKey] = true
	p.mu.Unlock()
	return p.Provider.Charge(ctx, req)
}

func (p *lookupProvider) Lookup(ctx context.Context, req boxoffice.VoidRequest) (boxoffice.PaymentResult, error) {
	p.lookups.Add(1)
	p.mu.Lock()
	answer, seen := p.answer, p.seen[req.IdempotencyKey]
	p.mu.Unlock()
	if answer != nil {
		return answer(req)
	}
	if !seen {
		return boxoffice.PaymentResult{}, boxoffice.Errorf(boxoffice.EPaymentFailed, "the payment was never confirmed")
	}
	return p.Provider.Charge(ctx, boxoffice.PaymentRequest{BookingID: req.BookingID, EventID: req.EventID,
		IdempotencyKey: req.IdempotencyKey, Amount: req.Amount, Currency: req.Currency, Method: "card", Token: devpay.TokenVisa})
}

func (p *lookupProvider) setAnswer(fn func(req boxoffice.VoidRequest) (boxoffice.PaymentResult, error)) {
	p.mu.Lock()
	p.answer = fn
	p.mu.Unlock()
}

// ownerEpoch is the event's current ownership epoch.
func ownerEpoch(t *testing.T, e *env) int64 {
	t.Helper()
	var epoch int64
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT epoch FROM event_ownership WHERE event_id = $1`,
		e.eventID).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	return epoch
}

// beginCharged writes the booking's pending payment row as the activation
// epoch and, when charged, charges it at the provider under the row's key:
// a charge that succeeded just before the database or the node died.
func beginCharged(t *testing.T, e *env, pay *lookupProvider, b boxoffice.Booking, epoch int64, charged bool) {
	t.Helper()
	ctx := context.Background()
	row, err := e.db.BeginPayment(ctx, boxoffice.Payment{BookingID: b.ID, EventID: e.eventID, Epoch: epoch,
		Amount: b.Total, Currency: b.Currency, Method: "card", Token: devpay.TokenVisa})
	if err != nil {
		t.Fatal(err)
	}
	if charged {
		if _, err := pay.Charge(ctx, boxoffice.PaymentRequest{BookingID: b.ID, EventID: e.eventID, IdempotencyKey: row.Key,
			Amount: row.Amount, Currency: row.Currency, Method: row.Method, Token: row.Token}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) bookingStatus(t *testing.T, id uuid.UUID) boxoffice.BookingStatus {
	t.Helper()
	b, err := e.db.Booking(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b.Status
}

func (e *env) paymentStatus(t *testing.T, id uuid.UUID) boxoffice.PaymentStatus {
	t.Helper()
	p, err := e.db.Payment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// TestReconcileAtActivation: a node died between the charge and the sale
// (or between writing the payment row and the charge), leaving a pending
// row. The event's next activation asks the provider (Lookup, no new
// charge) about every pending payment of the event: a charge whose hold is
// still the booking's is sold, pinned or not; a charge whose seats are
// gone is voided (refunded); an attempt that charged nothing is voided and
// its hold unpinned. Afterwards the money and the seats agree.
func TestReconcileAtActivation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pinned   bool // the pin was durable before the crash
		released bool // the hold was released (the seats are gone)
		charged  bool // the provider charged before the crash
		noLookup bool // the provider cannot look a payment up (devpay)
		booking  boxoffice.BookingStatus
		payment  boxoffice.PaymentStatus
		net      int // charges net of voids afterwards
	}{
		{"pinned and charged", true, false, true, false, boxoffice.BookingConfirmed, boxoffice.PaymentSucceeded, 1},
		{"pinned, nothing charged", true, false, false, false, boxoffice.BookingInProgress, boxoffice.PaymentVoided, 0},
		{"not pinned, charged", false, false, true, false, boxoffice.BookingConfirmed, boxoffice.PaymentSucceeded, 1},
		// Asking a provider without a lookup would charge: voided.
		{"not pinned, charged, no lookup", false, false, true, true, boxoffice.BookingInProgress, boxoffice.PaymentVoided, 0},
		{"seats released, charged", false, true, true, false, boxoffice.BookingCancelled, boxoffice.PaymentVoided, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, venue200(), actors.Config{})
			ctx := context.Background()
			user := uuid.New()
			b := e.mustReserve(t, user, 7, 8)
			if tc.released {
				if _, err := e.node.eng.Release(ctx, e.eventID, b.ID, user); err != nil {
					t.Fatal(err)
				}
			}
			dev := e.node.pay
			pay := newLookupProvider(dev)
			e.node.stop()
			epoch, err := e.db.Acquire(ctx, e.eventID, "crashed")
			if err != nil {
				t.Fatal(err)
			}
			if tc.pinned {
				r, err := restore(t, e).PinForPayment(b.ID, user, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				submit(t, e.db, boxoffice.Commit{EventID: e.eventID, Epoch: epoch, Entries: []boxoffice.Entry{entry(t, r)}})
			}
			beginCharged(t, e, pay, b, epoch, tc.charged)
			charges := dev.Charges(b.ID)

			var provider boxoffice.PaymentProvider = pay
			if tc.noLookup {
				provider = dev
			}
			e.node = startNodeWith(t, e.db, fastPayments(newMovable()), dev, provider)
			if err := e.node.eng.Touch(ctx, e.eventID); err != nil {
				t.Fatal(err)
			}
			require.Eventually(t, func() bool {
				return e.paymentStatus(t, b.ID) == tc.payment && e.bookingStatus(t, b.ID) == tc.booking
			}, 10*time.Second, 20*time.Millisecond, "reconciliation settles the pending payment")
			if got := dev.Charges(b.ID); got != charges {
				t.Errorf("reconciliation charged %d more times", got-charges)
			}
			if net := dev.Charges(b.ID) - dev.Voids(b.ID); net != tc.net {
				t.Errorf("charges net of voids = %d, want %d", net, tc.net)
			}
			if !tc.released && !tc.noLookup && pay.lookups.Load() == 0 {
				t.Error("the provider was not asked")
			}
			v := e.statuses(t)
			switch {
			case tc.booking == boxoffice.BookingConfirmed && v.Statuses[7] != boxoffice.SeatBooked:
				t.Errorf("seat 7 = %s, want booked", v.Statuses[7])
			case tc.booking == boxoffice.BookingCancelled && v.Statuses[7] != boxoffice.SeatAvailable:
				t.Errorf("seat 7 = %s, want available", v.Statuses[7])
			}
			if tc.booking == boxoffice.BookingInProgress {
				// Unpinned: the buyer may release (or pay again).
				require.Eventually(t, func() bool {
					_, err := e.node.eng.Release(ctx, e.eventID, b.ID, user)
					return err == nil
				}, 10*time.Second, 20*time.Millisecond, "the hold is unpinned")
			}
			if tc.booking == boxoffice.BookingConfirmed {
				auditPayments(t, e)
			}
		})
	}
}

// TestReconcilePeriodically: a pending payment appears while the grain is
// active and no run of it settles the payment (here: written directly, as
// a run that lost its database would leave it); once ReconcileInterval
// has passed on the engine's clock, the grain asks the provider and voids
// the charge of a booking whose seats are gone.
func TestReconcilePeriodically(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	pay := newLookupProvider(dev)
	cfg := fastPayments(clk)
	cfg.ReconcileInterval = time.Minute
	e.node = startNodeWith(t, e.db, cfg, dev, pay)
	ctx := context.Background()
	user := uuid.New()
	b := e.mustReserve(t, user, 3)
	if _, err := e.node.eng.Release(ctx, e.eventID, b.ID, user); err != nil {
		t.Fatal(err)
	}
	beginCharged(t, e, pay, b, ownerEpoch(t, e), true)
	if n := dev.Charges(b.ID); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
	clk.Add(2 * time.Minute)
	require.Eventually(t, func() bool {
		return e.paymentStatus(t, b.ID) == boxoffice.PaymentVoided
	}, 10*time.Second, 20*time.Millisecond, "the periodic reconciliation voids the charge")
	if v := dev.Voids(b.ID); v != 1 {
		t.Errorf("voids = %d, want 1 (the money went back)", v)
	}
}

// TestReconcileAtActionBound: a payment waits for the buyer's action (3-D
// Secure) and no webhook comes. When the engine's clock reaches the hold's
// moved expiry (the bound), reconciliation asks the provider: a charge
// that succeeded meanwhile is sold; one still waiting for the buyer is
// voided, and the hold, unpinned, ends at its expiry (I3).
func TestReconcileAtActionBound(t *testing.T) {
	for _, paid := range []bool{true, false} {
		t.Run(map[bool]string{true: "charged", false: "still waiting"}[paid], func(t *testing.T) {
			e := newEnv(t, venue200(), actors.Config{})
			e.node.stop()
			clk := newMovable()
			dev := devpay.New()
			pay := newLookupProvider(dev)
			pay.action = true
			cfg := fastPayments(clk)
			cfg.PaymentActionWindow, cfg.ReconcileInterval = 10*time.Minute, time.Minute
			e.node = startNodeWith(t, e.db, cfg, dev, pay)
			alice := uuid.New()
			b := e.mustReserve(t, alice, 4)
			if got, err := e.confirm(t, b, alice, devpay.TokenVisa); err != nil || got.Status != boxoffice.BookingPaymentPending {
				t.Fatalf("confirm needing action: %+v, %v", got, err)
			}
			pay.setAnswer(func(req boxoffice.VoidRequest) (boxoffice.PaymentResult, error) {
				if paid {
					return boxoffice.PaymentResult{ChargeID: "pi_action", BookingID: req.BookingID, Amount: req.Amount, Currency: req.Currency}, nil
				}
				return boxoffice.PaymentResult{}, &boxoffice.PaymentActionRequired{ChargeID: "pi_action", Type: "redirect"}
			})
			clk.Add(11 * time.Minute) // past the bound
			want, pstatus := boxoffice.BookingExpired, boxoffice.PaymentVoided
			if paid {
				want, pstatus = boxoffice.BookingConfirmed, boxoffice.PaymentSucceeded
			}
			require.Eventually(t, func() bool {
				return e.paymentStatus(t, b.ID) == pstatus && e.bookingStatus(t, b.ID) == want
			}, 10*time.Second, 20*time.Millisecond, "reconciliation at the bound settles the payment")
			if pay.lookups.Load() == 0 {
				t.Error("the provider was not asked")
			}
		})
	}
}
