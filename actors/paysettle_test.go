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
	"github.com/boxoffice/boxoffice/api/devpay"
)

// actionProvider answers every charge "the buyer must act" (3-D Secure);
// Void goes to the development provider, which charged nothing.
type actionProvider struct {
	*devpay.Provider
	voids atomic.Int32
}

func (p *actionProvider) Charge(context.Context, boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	return boxoffice.PaymentResult{}, &boxoffice.PaymentActionRequired{ChargeID: "pi_action", Type: "redirect", URL: "https://bank.example/3ds"}
}

func (p *actionProvider) Void(ctx context.Context, req boxoffice.VoidRequest) error {
	p.voids.Add(1)
	return p.Provider.Void(ctx, req)
}

// TestSettlePaymentByNotification: a payment that needs the buyer's action
// keeps its hold pinned (another user cannot take the seat even past the
// hold's expiry) until the provider's notification settles it: succeeded
// sells, once; a notification about another attempt, and any after the
// sale, change nothing.
func TestSettlePaymentByNotification(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	pay := &actionProvider{Provider: dev}
	e.node = startNodeWith(t, e.db, fastPayments(clk), dev, pay)
	ctx := context.Background()
	alice, bob := uuid.New(), uuid.New()
	b := e.mustReserve(t, alice, 5)
	for range 2 { // a repeated confirm answers the same
		got, err := e.confirm(t, b, alice, devpay.TokenVisa)
		if err != nil || got.Status != boxoffice.BookingPaymentPending || got.NextAction == nil ||
			got.NextAction.Type != "redirect" || got.NextAction.URL != "https://bank.example/3ds" {
			t.Fatalf("confirm needing action: %+v, %v; want payment-pending with the redirect", got, err)
		}
	}
	clk.Add(2 * time.Minute)
	if _, err := e.reserve(t, bob, 5); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Fatalf("reserve of a seat whose payment awaits the buyer: %v, want seat_unavailable", err)
	}
	ev := boxoffice.PaymentEvent{ID: "evt_1", Kind: boxoffice.PaymentEventSucceeded, BookingID: b.ID,
		ChargeID: "pi_action", Amount: b.Total, Currency: b.Currency, Key: boxoffice.PaymentKey(b.ID, 7)}
	if err := e.node.eng.SettlePayment(ctx, e.eventID, ev); err != nil {
		t.Fatal(err)
	}
	ev.Key = boxoffice.PaymentKey(b.ID, 1)
	if err := e.node.eng.SettlePayment(ctx, e.eventID, ev); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(ctx, b.ID)
		return err == nil && s.Status == boxoffice.BookingConfirmed
	}, 10*time.Second, 20*time.Millisecond, "the notification sells the booking")
	ev.Kind = boxoffice.PaymentEventFailed
	if err := e.node.eng.SettlePayment(ctx, e.eventID, ev); err != nil {
		t.Fatal(err)
	}
	if p, err := e.db.Payment(ctx, b.ID); err != nil || p.Status != boxoffice.PaymentSucceeded || p.ChargeID != "pi_action" {
		t.Errorf("payment = %+v, %v; want succeeded", p, err)
	}
	if n := pay.voids.Load(); n != 0 {
		t.Errorf("%d voids of a paid attempt", n)
	}
}

// TestPaymentActionWindow: no notification within PaymentActionWindow:
// the attempt is voided (nothing stays charged) and the hold unpinned.
func TestPaymentActionWindow(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	dev := devpay.New()
	pay := &actionProvider{Provider: dev}
	cfg := fastPayments(newMovable())
	cfg.PaymentActionWindow = time.Millisecond
	e.node = startNodeWith(t, e.db, cfg, dev, pay)
	alice := uuid.New()
	b := e.mustReserve(t, alice, 6)
	if got, err := e.confirm(t, b, alice, devpay.TokenVisa); err != nil || got.Status != boxoffice.BookingPaymentPending {
		t.Fatalf("confirm needing action: %+v, %v", got, err)
	}
	require.Eventually(t, func() bool {
		p, err := e.db.Payment(context.Background(), b.ID)
		return err == nil && p.Status == boxoffice.PaymentVoided
	}, 10*time.Second, 20*time.Millisecond, "the attempt is voided at the window's end")
	require.Eventually(t, func() bool {
		_, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, alice)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the hold can be released (unpinned)")
}

// TestPaymentActionMovesHoldExpiry: the first time a confirm's payment
// needs the buyer's action, the pinned hold's expiry moves, by a journal
// record, to PaymentActionWindow from the confirm; a repeated confirm does
// not move it again, the booking row shows the moved expiry, and the
// journal replays to the same expiry.
func TestPaymentActionMovesHoldExpiry(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	cfg := fastPayments(clk)
	cfg.PaymentActionWindow = 10 * time.Minute
	e.node = startNodeWith(t, e.db, cfg, dev, &actionProvider{Provider: dev})
	alice := uuid.New()
	b := e.mustReserve(t, alice, 8)
	want := clk.Now().Add(10 * time.Minute)
	if got, err := e.confirm(t, b, alice, devpay.TokenVisa); err != nil || got.Status != boxoffice.BookingPaymentPending {
		t.Fatalf("confirm needing action: %+v, %v", got, err)
	}
	clk.Add(time.Minute)
	if got, err := e.confirm(t, b, alice, devpay.TokenVisa); err != nil || got.Status != boxoffice.BookingPaymentPending {
		t.Fatalf("repeated confirm: %+v, %v", got, err)
	}
	if s, err := e.db.Booking(context.Background(), b.ID); err != nil || !s.ExpiresAt.Equal(want.UTC().Truncate(time.Microsecond)) {
		t.Errorf("the booking row expires at %v (%v); want the moved expiry %s", s.ExpiresAt, err, want.UTC())
	}
	e.node.stop()
	holds := restore(t, e).PinnedHolds()
	if len(holds) != 1 || holds[0].Booking != b.ID || !holds[0].ExpiresAt.Equal(want.UTC().Truncate(0)) {
		t.Fatalf("pinned holds after replay %+v; want booking %s expiring at %s", holds, b.ID, want.UTC())
	}
}
