package persistence_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// ownedEvent opens a fresh database in which node n1 owns a new event
// (at the returned epoch), with a new booking ID to pay for.
func ownedEvent(t *testing.T) (db *persistence.DB, ctx context.Context, event, booking uuid.UUID, epoch int64) {
	t.Helper()
	db, ctx = openDB(t), ctxT(t)
	event, booking = uuid.New(), uuid.New()
	epoch, err := db.Acquire(ctx, event, "n1")
	if err != nil {
		t.Fatal(err)
	}
	return db, ctx, event, booking, epoch
}

// A booking gets at most one payment row whatever the concurrency, its
// provider key is derived from the booking and attempt, and a finished
// charge never changes its outcome (I6).
func TestPaymentsAtMostOnce(t *testing.T) {
	t.Parallel()
	db, ctx, event, booking, epoch := ownedEvent(t)
	begin := boxoffice.Payment{BookingID: booking, EventID: event, Epoch: epoch, Amount: 4200, Currency: "EUR",
		Method: "card", Token: "tok_visa"}

	var wg sync.WaitGroup
	got := make([]boxoffice.Payment, 10)
	errs := make([]error, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = db.BeginPayment(ctx, begin)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] || got[i].Status != boxoffice.PaymentPending || got[i].Amount != 4200 {
			t.Fatalf("BeginPayment %d = %+v, %v; want everyone to get the one pending row %+v", i, got[i], errs[i], got[0])
		}
	}
	if got[0].Key != boxoffice.PaymentKey(booking, 1) || got[0].Attempt != 1 || got[0].Token != "tok_visa" {
		t.Fatalf("row = %+v, want attempt 1 under the derived key and the card kept", got[0])
	}
	var rows int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM payments WHERE booking_id = $1`, booking).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d payment rows (%v), want 1", rows, err)
	}

	if err := db.FinishPayment(ctx, booking, epoch, boxoffice.PaymentSucceeded, "ch_1"); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishPayment(ctx, booking, epoch, boxoffice.PaymentSucceeded, "ch_1"); err != nil {
		t.Fatalf("repeating the same outcome: %v", err)
	}
	wantCode(t, db.FinishPayment(ctx, booking, epoch, boxoffice.PaymentDeclined, ""), boxoffice.EBookingState)
	other := begin
	other.Amount, other.Currency, other.Token = 1, "USD", "tok_other"
	p, err := db.BeginPayment(ctx, other)
	want := got[0]
	want.Status, want.ChargeID = boxoffice.PaymentSucceeded, "ch_1"
	if err != nil || p != want {
		t.Fatalf("BeginPayment after success = %+v, %v; want the stored row %+v unchanged", p, err, want)
	}
	if p, err := db.RetryPayment(ctx, booking, epoch, "card", "tok_x"); err != nil || p != want {
		t.Fatalf("RetryPayment of a succeeded payment = %+v, %v; want it unchanged", p, err)
	}
	wantCode(t, db.FinishPayment(ctx, uuid.New(), epoch, boxoffice.PaymentSucceeded, "x"), boxoffice.ENotFound)
	wantCode(t, db.FinishPayment(ctx, booking, epoch, "refunded", "x"), boxoffice.EInvalid)
}

// A new attempt after a decline or a void gets its own derived key and the
// new card; a pending attempt keeps its key (its outcome is unknown).
func TestPaymentAttempts(t *testing.T) {
	t.Parallel()
	db, ctx, event, booking, epoch := ownedEvent(t)
	if _, err := db.BeginPayment(ctx, boxoffice.Payment{BookingID: booking, EventID: event, Epoch: epoch,
		Amount: 100, Currency: "EUR", Method: "card", Token: "tok_chargeDeclined"}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.RetryPayment(ctx, booking, epoch, "card", "tok_visa"); err != nil || p.Attempt != 1 || p.Status != boxoffice.PaymentPending {
		t.Fatalf("RetryPayment of a pending payment = %+v, %v; want attempt 1 unchanged", p, err)
	}
	for attempt, end := range []boxoffice.PaymentStatus{boxoffice.PaymentDeclined, boxoffice.PaymentVoided} {
		if err := db.FinishPayment(ctx, booking, epoch, end, ""); err != nil {
			t.Fatal(err)
		}
		p, err := db.RetryPayment(ctx, booking, epoch, "card", "tok_visa")
		want := attempt + 2
		if err != nil || p.Attempt != want || p.Key != boxoffice.PaymentKey(booking, want) ||
			p.Status != boxoffice.PaymentPending || p.Token != "tok_visa" || p.ChargeID != "" {
			t.Fatalf("RetryPayment after %s = %+v, %v; want pending attempt %d under its own key", end, p, err, want)
		}
	}
}

// Payment rows are fenced by the ownership epoch: once a new activation has
// taken the event and claimed the row, the old one can neither begin, claim
// nor finish it.
func TestPaymentFencing(t *testing.T) {
	t.Parallel()
	db, ctx, event, booking, old := ownedEvent(t)
	begin := boxoffice.Payment{BookingID: booking, EventID: event, Epoch: old, Amount: 100, Currency: "EUR"}
	if _, err := db.BeginPayment(ctx, begin); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := db.ClaimPayment(ctx, uuid.New(), event, old); return err }(), boxoffice.ENotFound)
	cur, err := db.Acquire(ctx, event, "n2")
	if err != nil {
		t.Fatal(err)
	}
	fenced := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, boxoffice.ErrFenced) {
			t.Errorf("%s by the old owner: %v, want ErrFenced", what, err)
		}
	}
	fenced("finish before the claim", db.FinishPayment(ctx, booking, old, boxoffice.PaymentSucceeded, "ch_old"))
	_, err = db.BeginPayment(ctx, boxoffice.Payment{BookingID: uuid.New(), EventID: event, Epoch: old, Amount: 1, Currency: "EUR"})
	fenced("begin", err)
	p, err := db.ClaimPayment(ctx, booking, event, cur)
	if err != nil || p.Epoch != cur || p.Status != boxoffice.PaymentPending {
		t.Fatalf("claim = %+v, %v; want the pending row at epoch %d", p, err, cur)
	}
	_, err = db.ClaimPayment(ctx, booking, event, old)
	fenced("claim", err)
	fenced("finish after the claim", db.FinishPayment(ctx, booking, old, boxoffice.PaymentSucceeded, "ch_old"))
	if err := db.FinishPayment(ctx, booking, cur, boxoffice.PaymentVoided, ""); err != nil {
		t.Fatal(err)
	}
	if p, err := db.Payment(ctx, booking); err != nil || p.Status != boxoffice.PaymentVoided || p.ChargeID != "" {
		t.Fatalf("row = %+v, %v; want the new owner's answer", p, err)
	}
}

// A confirm key belongs to one user and one booking.
func TestBindConfirmKey(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	alice, bob := uuid.New(), uuid.New()
	b1, b2, b3 := uuid.New(), uuid.New(), uuid.New()
	cases := []struct {
		name    string
		user    uuid.UUID
		booking uuid.UUID
		code    string
	}{
		{"first use binds", alice, b1, ""},
		{"same booking again", alice, b1, ""},
		{"another booking of the user", alice, b2, boxoffice.EIdempotencyConflict},
		{"another user's booking with the same key", bob, b3, ""},
		{"the other user again", bob, b3, ""},
	}
	for _, c := range cases {
		err := db.BindConfirmKey(ctx, c.user, "K", c.booking)
		if got := codeOrEmpty(err); got != c.code {
			t.Errorf("%s: %v, want %q", c.name, err, c.code)
		}
	}
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return boxoffice.ErrorCode(err)
}
