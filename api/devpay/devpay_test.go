package devpay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// TestBounded: the development provider forgets the oldest keys
// past MaxKeys and any key past KeepFor, so its memory stays flat; a key it
// still remembers answers as before (issue 14, Low).
func TestBounded(t *testing.T) {
	now := time.Now()
	dev := devpay.NewWith(devpay.Config{MaxKeys: 10, KeepFor: time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	charge := func(booking uuid.UUID, key string) boxoffice.PaymentResult {
		t.Helper()
		res, err := dev.Charge(ctx, boxoffice.PaymentRequest{BookingID: booking, IdempotencyKey: key, Amount: 100,
			Currency: "EUR", Method: "card", Token: devpay.TokenVisa})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	var last boxoffice.PaymentResult
	var lastBooking uuid.UUID
	for i := range 1000 {
		lastBooking = uuid.New()
		last = charge(lastBooking, lastBooking.String())
		if keys, bookings := dev.Remembered(); keys > 10 || bookings > 10 {
			t.Fatalf("after %d charges the provider remembers %d keys, %d bookings; want at most 10", i+1, keys, bookings)
		}
	}
	if again := charge(lastBooking, lastBooking.String()); again != last || dev.Charges(lastBooking) != 1 {
		t.Errorf("a remembered key charged again: %+v, want %+v", again, last)
	}
	now = now.Add(2 * time.Hour)
	fresh := uuid.New()
	charge(fresh, fresh.String())
	if keys, bookings := dev.Remembered(); keys != 1 || bookings != 1 {
		t.Errorf("after KeepFor the provider remembers %d keys, %d bookings; want only the newest", keys, bookings)
	}
	if err := dev.Void(ctx, boxoffice.VoidRequest{BookingID: fresh, IdempotencyKey: fresh.String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Charge(ctx, boxoffice.PaymentRequest{BookingID: fresh, IdempotencyKey: fresh.String(),
		Token: devpay.TokenVisa}); !errors.Is(err, boxoffice.ErrPaymentFailed) {
		t.Errorf("a voided key charged again: %v, want payment_failed", err)
	}
}
