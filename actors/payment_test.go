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

// confirmKey confirms b as user with the client's Idempotency-Key key.
func (e *env) confirmKey(t testing.TB, b boxoffice.Booking, user uuid.UUID, key, token string) (boxoffice.Booking, error) {
	t.Helper()
	return e.node.eng.Confirm(context.Background(), boxoffice.ConfirmRequest{
		EventID: e.eventID, BookingID: b.ID, UserID: user, IdempotencyKey: key, Method: "card", Token: token})
}

// auditPayments checks I6 and I7 against the payments table: every
// confirmed booking of the event has its own succeeded payment of its own
// total, no two bookings share a charge id, and the provider charged each
// confirmed booking exactly once net of voids.
func auditPayments(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.Pool().Query(ctx, `
		SELECT b.id, b.total_minor, coalesce(p.status, ''), coalesce(p.amount_minor, -1), coalesce(p.charge_id, '')
		FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id
		WHERE b.event_id = $1 AND b.status = 'confirmed'`, e.eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	charges := map[string]uuid.UUID{}
	n := 0
	for rows.Next() {
		var id uuid.UUID
		var total, amount int64
		var status, charge string
		if err := rows.Scan(&id, &total, &status, &amount, &charge); err != nil {
			t.Fatal(err)
		}
		n++
		if status != string(boxoffice.PaymentSucceeded) || amount != total || charge == "" {
			t.Errorf("confirmed booking %s (total %d) has payment %q of %d, charge %q; want its own succeeded charge of its total",
				id, total, status, amount, charge)
		}
		if other, ok := charges[charge]; ok {
			t.Errorf("bookings %s and %s share charge %q: one payment confirmed two bookings (I6)", other, id, charge)
		}
		charges[charge] = id
		if net := e.node.pay.Charges(id) - e.node.pay.Voids(id); net != 1 {
			t.Errorf("booking %s was charged %d times net of voids, want 1", id, net)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no confirmed booking to audit")
	}
}

// TestConfirmKeyBelongsToOneBooking: a client's Idempotency-Key on confirm
// belongs to one user and one booking, and never reaches the provider, so
// one payment never pays for another booking and one user's key never
// affects another user's payment (issue 13).
func TestConfirmKeyBelongsToOneBooking(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	unlimited(t, e) // the cases hold more than 10 seats for alice and bob
	alice, bob := uuid.New(), uuid.New()
	type step struct {
		user    uuid.UUID
		booking int // index into the bookings reserved for the case
		key     string
		token   string
		code    string // "" for confirmed
	}
	cases := []struct {
		name  string
		holds []uuid.UUID // owner of each booking, seats allotted in order
		steps []step
	}{
		{"one key, two bookings of one user", []uuid.UUID{alice, alice}, []step{
			{alice, 0, "K1", devpay.TokenVisa, ""},
			{alice, 1, "K1", devpay.TokenVisa, boxoffice.EIdempotencyConflict},
			{alice, 0, "K1", devpay.TokenVisa, ""}, // a replay of the first
			{alice, 1, "K1b", devpay.TokenVisa, ""},
		}},
		{"one key, two users", []uuid.UUID{alice, bob}, []step{
			{alice, 0, "K2", devpay.TokenVisa, ""},
			{bob, 1, "K2", devpay.TokenVisa, ""},
		}},
		{"a declined key of one user, then another user's success", []uuid.UUID{alice, bob}, []step{
			{alice, 0, "K3", devpay.TokenDeclined, boxoffice.EPaymentFailed},
			{bob, 1, "K3", devpay.TokenVisa, ""},
		}},
		{"a decline retried with another user's successful key", []uuid.UUID{alice, bob}, []step{
			{alice, 0, "K4a", devpay.TokenDeclined, boxoffice.EPaymentFailed},
			{bob, 1, "K4b", devpay.TokenVisa, ""},
			{alice, 0, "K4b", devpay.TokenVisa, ""},
		}},
		{"a big booking after a small one with the same key", []uuid.UUID{alice, alice}, []step{
			{alice, 0, "K5", devpay.TokenVisa, ""},
			{alice, 1, "K5", devpay.TokenVisa, boxoffice.EIdempotencyConflict},
		}},
	}
	seat := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bookings []boxoffice.Booking
			for i, owner := range c.holds {
				n := 1 + i*4 // later bookings are bigger, so amounts differ
				idx := make([]int, n)
				for k := range idx {
					idx[k] = seat
					seat++
				}
				bookings = append(bookings, e.mustReserve(t, owner, idx...))
			}
			for i, s := range c.steps {
				b, err := e.confirmKey(t, bookings[s.booking], s.user, s.key, s.token)
				got := ""
				if err != nil {
					got = codeOf(err)
				} else if b.Status != boxoffice.BookingConfirmed {
					got = string(b.Status)
				}
				if got != s.code {
					t.Fatalf("step %d (booking %d, key %s): %v (%q), want %q", i, s.booking, s.key, err, got, s.code)
				}
			}
		})
	}
	auditPayments(t, e)
}

// answerProvider answers every charge with a result about another booking.
type answerProvider struct {
	*devpay.Provider
}

func (p answerProvider) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	res, err := p.Provider.Charge(ctx, req)
	res.BookingID = uuid.New()
	return res, err
}

// TestProviderAnswerMustMatch: an answer that is not about this booking
// and amount sells nothing; the attempt is voided.
func TestProviderAnswerMustMatch(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	dev := devpay.New()
	e.node = startNodeWith(t, e.db, actors.Config{}, dev, answerProvider{dev})
	user := uuid.New()
	b := e.mustReserve(t, user, 3)
	if _, err := e.confirm(t, b, user, devpay.TokenVisa); codeOf(err) != boxoffice.EPaymentFailed {
		t.Fatalf("confirm with a mismatched answer: %v, want payment_failed", err)
	}
	p, err := e.db.Payment(context.Background(), b.ID)
	if err != nil || p.Status != boxoffice.PaymentVoided {
		t.Fatalf("payment = %+v, %v; want voided", p, err)
	}
	if got := dev.Charges(b.ID) - dev.Voids(b.ID); got != 0 {
		t.Errorf("net charges = %d, want 0", got)
	}
	if v := e.statuses(t); v.Statuses[3] != boxoffice.SeatReserved {
		t.Errorf("seat = %s, want still reserved (not sold)", v.Statuses[3])
	}
}

// lateProvider charges through the development provider and then loses the
// answer (a timeout after the charge) for its first late calls; a call
// after those waits for release when gate is set.
type lateProvider struct {
	*devpay.Provider
	late    atomic.Int32
	calls   atomic.Int32
	gate    chan struct{} // closed to let gated calls answer; nil: no gate
	entered chan struct{} // receives once per gated call
}

func (p *lateProvider) Charge(ctx context.Context, req boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	p.calls.Add(1)
	res, err := p.Provider.Charge(ctx, req)
	if p.late.Add(-1) >= 0 {
		return boxoffice.PaymentResult{}, context.DeadlineExceeded
	}
	if p.gate != nil {
		p.entered <- struct{}{}
		select {
		case <-p.gate:
		case <-ctx.Done():
			return boxoffice.PaymentResult{}, ctx.Err()
		}
	}
	return res, err
}

// receive waits for a value on ch; a generous deadline turns a hang into a
// failure that says what did not happen (it measures nothing).
func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("never happened: %s", what)
	}
}

// movable is a clock that tests move by hand.
type movable struct {
	mu sync.Mutex
	t  time.Time
}

func newMovable() *movable { return &movable{t: time.Now()} }

func (c *movable) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movable) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func fastPayments(clk *movable) actors.Config {
	return actors.Config{PaymentAttempts: 3, PaymentBackoff: time.Millisecond, TickInterval: 20 * time.Millisecond,
		HoldTTL: time.Minute, Now: clk.Now}
}

// TestLatePaymentKeepsHoldPinned: the provider charges and answers late;
// confirm answers 503, but the hold stays pinned past its expiry, the
// provider is asked again with the same key and the seats are sold to the
// buyer who paid, charged once (issue 14, I3, I6, I7).
func TestLatePaymentKeepsHoldPinned(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	pay := &lateProvider{Provider: dev, gate: make(chan struct{}), entered: make(chan struct{}, 4)}
	pay.late.Store(1)
	e.node = startNodeWith(t, e.db, fastPayments(clk), dev, pay)
	alice, bob := uuid.New(), uuid.New()
	b := e.mustReserve(t, alice, 9, 10)

	if _, err := e.confirmKey(t, b, alice, "A1", devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("confirm with a late answer: %v, want unavailable", err)
	}
	receive(t, pay.entered, "the provider is asked again with the same key")
	if _, err := e.confirmKey(t, b, alice, "A2", devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Errorf("confirm while the outcome is unknown: %v, want unavailable at once", err)
	}
	clk.Add(2 * time.Minute) // the hold's expiry passes under the payment
	if _, err := e.reserve(t, bob, 9); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Fatalf("another user's reserve of a seat whose payment is unsettled: %v, want seat_unavailable", err)
	}
	close(pay.gate)
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(context.Background(), b.ID)
		return err == nil && s.Status == boxoffice.BookingConfirmed
	}, 10*time.Second, 20*time.Millisecond, "the late payment's booking is confirmed")
	if got := pay.calls.Load(); got != 2 {
		t.Errorf("provider calls = %d, want 2 (one lost answer, one retry)", got)
	}
	if _, err := e.reserve(t, bob, 9); codeOf(err) != boxoffice.ESeatUnavailable {
		t.Errorf("reserve of the sold seat: %v, want seat_unavailable", err)
	}
	auditPayments(t, e)
}

// TestUnknownPaymentIsVoided: a provider that never answers in time gets
// PaymentAttempts calls with the same key; then the attempt is voided, the
// hold unpinned, and a new confirm is a new attempt with a new key that
// charges once more: the buyer pays once net (issue 14).
func TestUnknownPaymentIsVoided(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	clk := newMovable()
	dev := devpay.New()
	pay := &lateProvider{Provider: dev}
	pay.late.Store(3)
	e.node = startNodeWith(t, e.db, fastPayments(clk), dev, pay)
	ctx := context.Background()
	user := uuid.New()
	b := e.mustReserve(t, user, 40)

	if _, err := e.confirm(t, b, user, devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("confirm: %v, want unavailable (outcome unknown)", err)
	}
	require.Eventually(t, func() bool {
		p, err := e.db.Payment(ctx, b.ID)
		return err == nil && p.Status == boxoffice.PaymentVoided
	}, 10*time.Second, 20*time.Millisecond, "the unknown attempt is voided")
	if got, voids := dev.Charges(b.ID), dev.Voids(b.ID); got != 1 || voids != 1 {
		t.Fatalf("charges %d, voids %d; want the one charge voided", got, voids)
	}
	var done boxoffice.Booking
	require.Eventually(t, func() bool {
		var err error
		done, err = e.confirm(t, b, user, devpay.TokenVisa)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "a new attempt confirms")
	p, err := e.db.Payment(ctx, b.ID)
	if err != nil || p.Attempt != 2 || p.Key != boxoffice.PaymentKey(b.ID, 2) || done.Status != boxoffice.BookingConfirmed {
		t.Fatalf("payment %+v, %v, booking %s; want attempt 2 under its own key, confirmed", p, err, done.Status)
	}
	auditPayments(t, e)
}

// crashMidPayment leaves what a node that crashed while a payment was in
// flight leaves: b's hold pinned in the journal and its payment row
// pending, at a stale epoch; charged says whether the provider had already
// charged under the row's key.
func crashMidPayment(t *testing.T, e *env, b boxoffice.Booking, user uuid.UUID, charged bool) {
	t.Helper()
	ctx := context.Background()
	e.node.stop()
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
	row, err := e.db.BeginPayment(ctx, boxoffice.Payment{BookingID: b.ID, EventID: e.eventID, Epoch: epoch,
		Amount: b.Total, Currency: b.Currency, Method: "card", Token: devpay.TokenVisa})
	if err != nil {
		t.Fatal(err)
	}
	if charged {
		if _, err := e.node.pay.Charge(ctx, boxoffice.PaymentRequest{BookingID: b.ID, IdempotencyKey: row.Key,
			Amount: row.Amount, Currency: row.Currency, Method: row.Method, Token: row.Token}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPendingPaymentAfterRestart: a node crashed mid-payment, and the hold's
// expiry passed while it was down. The next activation claims the pending
// row, asks the provider with its key and settles it: a charge that was
// made is sold (never charged again, also when the buyer confirms with a
// new key meanwhile), one that was not is charged once; the hold is never
// expired under an unknown payment (issue 14, issue 16).
func TestPendingPaymentAfterRestart(t *testing.T) {
	for _, charged := range []bool{true, false} {
		name := map[bool]string{true: "charged before the crash", false: "not charged before the crash"}[charged]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, venue200(), actors.Config{})
			ctx := context.Background()
			user := uuid.New()
			b := e.mustReserve(t, user, 7, 8)
			dev := e.node.pay
			crashMidPayment(t, e, b, user, charged)

			clk := newMovable()
			clk.Add(time.Hour) // far past the hold's expiry
			e.node = startNodeWith(t, e.db, fastPayments(clk), dev, nil)
			confirmed := func() bool {
				s, err := e.db.Booking(ctx, b.ID)
				return err == nil && s.Status == boxoffice.BookingConfirmed
			}
			require.Eventually(t, func() bool {
				got, err := e.confirmKey(t, b, user, "a-new-key", devpay.TokenVisa)
				return (err == nil && got.Status == boxoffice.BookingConfirmed) || confirmed()
			}, 10*time.Second, 20*time.Millisecond, "the interrupted payment is settled and sold")
			require.Eventually(t, confirmed, 10*time.Second, 20*time.Millisecond, "the sale is durable")
			p, err := e.db.Payment(ctx, b.ID)
			if err != nil || p.Status != boxoffice.PaymentSucceeded || p.Attempt != 1 {
				t.Fatalf("payment = %+v, %v; want attempt 1 succeeded", p, err)
			}
			if got := dev.Charges(b.ID); got != 1 {
				t.Errorf("charges = %d, want 1", got)
			}
			auditPayments(t, e)
		})
	}
}

// gatedProvider holds every charge in flight until its gate is closed.
func gatedProvider(dev *devpay.Provider) *lateProvider {
	return &lateProvider{Provider: dev, gate: make(chan struct{}), entered: make(chan struct{}, 4)}
}

// TestDrainRecordsPaymentsInFlight: a node that stops while a charge is in
// flight waits for its answer and records it before the database would
// close; the next activation then sells without charging again.
func TestDrainRecordsPaymentsInFlight(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	dev := devpay.New()
	pay := gatedProvider(dev)
	n := startNodeWith(t, e.db, actors.Config{}, dev, pay)
	e.node = n
	ctx := context.Background()
	user := uuid.New()
	b := e.mustReserve(t, user, 50)
	go func() { _, _ = e.confirm(t, b, user, devpay.TokenVisa) }()
	receive(t, pay.entered, "the charge is in flight")

	stopped := make(chan struct{})
	go func() {
		n.eng.Drain(ctx)
		close(stopped)
	}()
	require.Eventually(t, func() bool { return actors.Draining(n.eng) }, 10*time.Second, 20*time.Millisecond, "Drain begins")
	select {
	case <-stopped:
		t.Fatal("Drain returned while a charge was in flight")
	default: // it cannot return before the gate opens: the charge is held
	}
	close(pay.gate)
	receive(t, stopped, "Drain returns once the charge is recorded")
	// What the node closes next is the database: the outcome must be in it.
	p, err := e.db.Payment(ctx, b.ID)
	if err != nil || p.Status != boxoffice.PaymentSucceeded {
		t.Fatalf("payment after drain = %+v, %v; want succeeded", p, err)
	}
	n.stop()
	e.node = startNodeWith(t, e.db, actors.Config{}, dev, nil)
	require.Eventually(t, func() bool {
		if err := e.node.eng.Touch(ctx, e.eventID); err != nil {
			return false
		}
		s, err := e.db.Booking(ctx, b.ID)
		return err == nil && s.Status == boxoffice.BookingConfirmed
	}, 10*time.Second, 20*time.Millisecond, "the drained payment's booking is sold")
	if got := dev.Charges(b.ID); got != 1 {
		t.Errorf("charges = %d, want 1", got)
	}
}

// TestLegacyPendingPaymentClosed: a pending row written before derived
// keys (a client's key, no card kept) cannot be asked again; the next
// activation closes it as declined without calling the provider, and the
// buyer pays anew under attempt 2.
func TestLegacyPendingPaymentClosed(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	ctx := context.Background()
	user := uuid.New()
	b := e.mustReserve(t, user, 60)
	dev := e.node.pay
	crashMidPayment(t, e, b, user, false)
	if _, err := e.db.Pool().Exec(ctx, `UPDATE payments SET idempotency_key = 'client-K', method = '', token = ''
		WHERE booking_id = $1`, b.ID); err != nil {
		t.Fatal(err)
	}
	e.node = startNodeWith(t, e.db, actors.Config{}, dev, nil)
	require.Eventually(t, func() bool {
		got, err := e.confirm(t, b, user, devpay.TokenVisa)
		return err == nil && got.Status == boxoffice.BookingConfirmed
	}, 10*time.Second, 20*time.Millisecond, "the buyer pays anew")
	p, err := e.db.Payment(ctx, b.ID)
	if err != nil || p.Attempt != 2 || p.Status != boxoffice.PaymentSucceeded {
		t.Fatalf("payment = %+v, %v; want attempt 2 succeeded", p, err)
	}
	auditPayments(t, e)
}

// TestOldOwnerCannotFinishClaimedPayment: while an owner is mid-charge the
// event moves to a new owner, which claims the payment row and settles it
// with the same key; the old owner's late answer is fenced off, and the
// booking is sold once, charged once (issue 14).
func TestOldOwnerCannotFinishClaimedPayment(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	e.node.stop()
	ctx := context.Background()
	dev := devpay.New()
	pay := gatedProvider(dev)
	old := startNodeWith(t, e.db, actors.Config{}, dev, pay)
	e.node = old
	user := uuid.New()
	b := e.mustReserve(t, user, 70)
	oldDone := make(chan error, 1)
	go func() {
		_, err := e.confirm(t, b, user, devpay.TokenVisa)
		oldDone <- err
	}()
	receive(t, pay.entered, "the old owner's charge is in flight")

	cur := startNodeWith(t, e.db, actors.Config{}, dev, nil)
	if err := cur.eng.Touch(ctx, e.eventID); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool {
		s, err := e.db.Booking(ctx, b.ID)
		return err == nil && s.Status == boxoffice.BookingConfirmed
	}, 10*time.Second, 20*time.Millisecond, "the new owner settles the payment and sells")
	close(pay.gate)
	select {
	case err := <-oldDone:
		if err == nil {
			t.Error("the old owner answered success for a payment the new owner had claimed")
		}
	case <-time.After(time.Minute):
		t.Fatal("the old owner never answered")
	}
	p, err := e.db.Payment(ctx, b.ID)
	if err != nil || p.Status != boxoffice.PaymentSucceeded {
		t.Fatalf("payment = %+v, %v; want succeeded", p, err)
	}
	var epoch int64
	if err := e.db.Pool().QueryRow(ctx, `SELECT epoch FROM event_ownership WHERE event_id = $1`, e.eventID).Scan(&epoch); err != nil || p.Epoch != epoch {
		t.Errorf("payment claimed by epoch %d, the new owner's is %d (%v)", p.Epoch, epoch, err)
	}
	if got := dev.Charges(b.ID); got != 1 {
		t.Errorf("charges = %d, want 1", got)
	}
	e.node = cur
	auditPayments(t, e)
}
