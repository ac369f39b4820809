package actors

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/boxoffice/boxoffice"
)

// payOutcome is how a payment run ended, as the grain must act on it.
type payOutcome int

const (
	// payPaid: the charge succeeded and is recorded; sell.
	payPaid payOutcome = iota
	// payDeclined: the provider declined (or an earlier attempt had); unpin.
	payDeclined
	// payVoided: the outcome stayed unknown past the bound, or the answer
	// was not this booking's, and the attempt was voided; unpin.
	payVoided
	// payNone: no charge was made (no row, or the row could not be
	// written); unpin.
	payNone
	// payLate: not an end; the provider's answer is late and the run goes
	// on with the same key while the hold stays pinned.
	payLate
	// payFenced: another activation claimed the payment; this one must
	// stop and leave it to the new owner.
	payFenced
	// payInterrupted: the grain or the node is stopping; the row stays as
	// it is (pending if the outcome is unknown) and the hold pinned, for
	// the next activation to settle.
	payInterrupted
	// payAction: not an end; the buyer must act (3-D Secure) and the run
	// waits, the hold pinned, for the provider's notification (a
	// settlement) until PaymentActionWindow has passed, then asks the
	// provider and voids what is not done.
	payAction
)

// paymentDone is a payment run's report to its grain.
type paymentDone struct {
	stamp            // the activation that started the run (set by report)
	run      *payRun // which run reports (set by report)
	booking  uuid.UUID
	outcome  payOutcome
	chargeID string
	err      error
	// action is the buyer's next step of a payAction report.
	action *boxoffice.PaymentActionRequired
}

// settlement is a provider's verified notification about one attempt
// (grainpb.PaymentSettled), handed by the grain to the attempt's run.
type settlement struct {
	key       string
	succeeded bool
	res       boxoffice.PaymentResult
}

// payments are the engine's payment runs: every run is counted in wg so
// that the node can drain them before it closes the database (Drain), and
// every provider and database call takes its context from ctx.
type payments struct {
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	stopping chan struct{}
	once     sync.Once
}

func newPayments() *payments {
	ctx, cancel := context.WithCancel(context.Background())
	return &payments{ctx: ctx, cancel: cancel, stopping: make(chan struct{})}
}

// Drain stops every payment run from starting another provider call or
// retry and waits for the calls in flight to end and be recorded. When ctx
// ends first, the calls are cancelled: their rows stay pending, and the
// event's next activation settles them with the same keys. Call it after
// the grains are stopped and before the database is closed.
func (e *Engine) Drain(ctx context.Context) {
	e.stopPolls() // nothing left to poll for, and the database closes next
	p := e.pay
	p.once.Do(func() { close(p.stopping) })
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		e.cfg.Logger.Warn("payments still in flight at shutdown were cancelled; the next owner settles them")
		p.cancel()
		<-done
	}
	if e.proj != nil {
		e.proj.close() // writes the bookings still pending
	}
}

// payRun is one payment of one booking, run outside the grain's mailbox.
// It owns no grain state: what it needs is copied in, and it reports back
// by report (a message to the grain).
type payRun struct {
	store    boxoffice.EventStore
	provider boxoffice.PaymentProvider
	cfg      Config
	pay      *payments
	stop     <-chan struct{} // the grain's: closed when it stops
	report   func(*paymentDone)

	// begin is the row to create (confirm); settle claims the existing
	// row instead (an activation finishing an earlier one's payment).
	begin  boxoffice.Payment
	settle bool

	// hints carries the provider's notifications from the grain; the run
	// takes them only between provider calls, so a notification never
	// races a call of its own. got is one taken by wait.
	hints chan settlement
	got   *settlement
	// bound, when set, ends the wait for the buyer's action instead of
	// PaymentActionWindow: the pinned hold's (moved) expiry.
	bound time.Time
	// due ends that wait early: reconciliation found the hold at or past
	// its bound (by the engine's clock).
	due chan struct{}
	// orphan: the booking's seats are gone (reconciliation); the run only
	// voids what the attempt may have charged.
	orphan bool
	// trace is the span of the confirm that started the run (invalid when
	// untraced); tracer makes the provider calls' spans under it.
	trace  trace.SpanContext
	tracer trace.Tracer
}

// hint hands the run a provider notification without blocking the grain.
// A succeeded one replaces one still waiting; a failed one never replaces
// a succeeded (an out-of-order failed does not undo a charge).
func (r *payRun) hint(s settlement) {
	for {
		select {
		case r.hints <- s:
			return
		default:
		}
		if !s.succeeded {
			return
		}
		select {
		case <-r.hints:
		default:
		}
	}
}

// taken returns a notification about row's attempt that arrived, if any;
// one about another attempt is dropped.
func (r *payRun) taken(row boxoffice.Payment) (settlement, bool) {
	if r.got == nil {
		select {
		case h := <-r.hints:
			r.got = &h
		default:
			return settlement{}, false
		}
	}
	h := *r.got
	r.got = nil
	return h, h.key == row.Key
}

// settleBy ends the attempt as the provider's notification says: a charge
// that matches the booking is recorded and sold; a failure, or an answer
// about something else, is voided (so that nothing can still be charged
// under the key) and unpinned.
func (r *payRun) settleBy(row boxoffice.Payment, req boxoffice.PaymentRequest, h settlement) *paymentDone {
	if h.succeeded && h.res.Matches(req) {
		return r.finish(row.BookingID, row.Epoch, boxoffice.PaymentSucceeded, h.res.ChargeID, &paymentDone{
			booking: row.BookingID, outcome: payPaid, chargeID: h.res.ChargeID})
	}
	if h.succeeded {
		r.cfg.Logger.Error("the payment provider notified a charge about another booking or amount; voiding",
			"booking", row.BookingID, "asked", req.Amount, "answer_booking", h.res.BookingID, "answer_amount", h.res.Amount)
	}
	return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed, "the payment failed at the provider; nothing was charged"))
}

// await waits, the hold pinned, for the provider's notification about an
// attempt that needs the buyer's action, at most PaymentActionWindow; then
// it asks the provider (when it can) and voids an attempt still not done.
func (r *payRun) await(row boxoffice.Payment, req boxoffice.PaymentRequest, action *boxoffice.PaymentActionRequired) *paymentDone {
	r.report(&paymentDone{booking: row.BookingID, outcome: payAction, action: action})
	window := r.cfg.PaymentActionWindow
	if !r.bound.IsZero() {
		window = max(r.bound.Sub(r.cfg.Now()), 0)
	}
	bound := time.NewTimer(window)
	defer bound.Stop()
	for {
		if h, ok := r.taken(row); ok {
			return r.settleBy(row, req, h)
		}
		select {
		case h := <-r.hints:
			r.got = &h
			continue
		case <-bound.C:
		case <-r.due:
		case <-r.stop:
			return &paymentDone{booking: row.BookingID, outcome: payInterrupted, err: errPaymentLate}
		case <-r.pay.stopping:
			return &paymentDone{booking: row.BookingID, outcome: payInterrupted, err: errPaymentLate}
		case <-r.pay.ctx.Done():
			return &paymentDone{booking: row.BookingID, outcome: payInterrupted, err: errPaymentLate}
		}
		if l, ok := r.provider.(boxoffice.PaymentLookup); ok {
			c, cancel := context.WithTimeout(r.pay.ctx, r.cfg.PaymentTimeout)
			res, err := l.Lookup(c, boxoffice.VoidRequest{BookingID: row.BookingID, EventID: row.EventID,
				IdempotencyKey: row.Key, Amount: row.Amount, Currency: row.Currency})
			cancel()
			if err == nil && res.Matches(req) {
				return r.finish(row.BookingID, row.Epoch, boxoffice.PaymentSucceeded, res.ChargeID, &paymentDone{
					booking: row.BookingID, outcome: payPaid, chargeID: res.ChargeID})
			}
		}
		return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed,
			"the payment was not completed in time; nothing was charged"))
	}
}

// run takes the booking's payment row and drives it to an end.
func (r *payRun) run() *paymentDone {
	booking := r.begin.BookingID
	row, err := r.take()
	if err != nil {
		if errors.Is(err, boxoffice.ErrFenced) {
			return &paymentDone{booking: booking, outcome: payFenced, err: err}
		}
		if boxoffice.ErrorCode(err) == boxoffice.ENotFound || !r.settle {
			return &paymentDone{booking: booking, outcome: payNone, err: err}
		}
		return &paymentDone{booking: booking, outcome: payInterrupted, err: err}
	}
	switch row.Status {
	case boxoffice.PaymentSucceeded:
		return &paymentDone{booking: booking, outcome: payPaid, chargeID: row.ChargeID}
	case boxoffice.PaymentDeclined, boxoffice.PaymentVoided:
		if r.settle {
			return &paymentDone{booking: booking, outcome: payDeclined,
				err: boxoffice.Errorf(boxoffice.EPaymentFailed, "the payment was %s", row.Status)}
		}
		c, cancel := r.dbCtx()
		row, err = r.store.RetryPayment(c, booking, r.begin.Epoch, r.begin.Method, r.begin.Token)
		cancel()
		if errors.Is(err, boxoffice.ErrFenced) {
			return &paymentDone{booking: booking, outcome: payFenced, err: err}
		}
		if err != nil {
			// Nothing was charged under the new attempt: a row that did
			// change stays pending and is charged by the next confirm.
			return &paymentDone{booking: booking, outcome: payNone, err: err}
		}
	case boxoffice.PaymentPending:
		if row.Method == "" {
			return r.legacy(row)
		}
		if r.orphan {
			return r.voidOrphan(row)
		}
		if l, ok := r.provider.(boxoffice.PaymentLookup); ok && r.settle {
			return r.lookup(l, row)
		}
	}
	if r.orphan {
		return r.voidOrphan(row)
	}
	return r.charge(row)
}

// legacy settles a pending row written before attempts had derived keys:
// its key was a client's (possibly shared with other bookings, so voiding
// by it could refund someone else) and its card was not kept, so it cannot
// be asked again. It is closed as declined, so that the buyer can pay
// anew, and logged for reconciliation with the provider by hand.
func (r *payRun) legacy(row boxoffice.Payment) *paymentDone {
	r.cfg.Logger.Error("a payment from before derived keys has an unknown outcome; closed as declined, reconcile it with the provider",
		"booking", row.BookingID, "key", row.Key, "amount", row.Amount, "currency", row.Currency)
	return r.finish(row.BookingID, row.Epoch, boxoffice.PaymentDeclined, "", &paymentDone{booking: row.BookingID,
		outcome: payDeclined, err: boxoffice.Errorf(boxoffice.EPaymentFailed, "the earlier payment could not be confirmed; pay again")})
}

// take creates or claims the row; settling retries a database it cannot
// reach rather than guess (a pending row must not be given up).
func (r *payRun) take() (boxoffice.Payment, error) {
	b := r.begin
	for try := 0; ; try++ {
		c, cancel := r.dbCtx()
		var row boxoffice.Payment
		var err error
		if r.settle {
			row, err = r.store.ClaimPayment(c, b.BookingID, b.EventID, b.Epoch)
		} else {
			row, err = r.store.BeginPayment(c, b)
		}
		cancel()
		if err == nil || !r.settle || errors.Is(err, boxoffice.ErrFenced) || boxoffice.ErrorCode(err) == boxoffice.ENotFound {
			return row, err
		}
		if !r.wait(try) {
			return row, err
		}
	}
}

// charge asks the provider with the row's key and card until it answers,
// at most PaymentAttempts times; an outcome still unknown then, or an
// answer about another booking or amount, is voided.
func (r *payRun) charge(row boxoffice.Payment) *paymentDone {
	booking := row.BookingID
	req := boxoffice.PaymentRequest{BookingID: booking, EventID: row.EventID, IdempotencyKey: row.Key, Amount: row.Amount,
		Currency: row.Currency, Method: row.Method, Token: row.Token}
	for try := 0; ; try++ {
		if h, ok := r.taken(row); ok {
			return r.settleBy(row, req, h)
		}
		c, cancel := context.WithTimeout(r.pay.ctx, r.cfg.PaymentTimeout)
		c, endSpan := r.traceProvider(c, "payment provider charge", try)
		res, err := r.provider.Charge(c, req)
		endSpan(err)
		cancel()
		var action *boxoffice.PaymentActionRequired
		switch {
		case errors.As(err, &action):
			return r.await(row, req, action)
		case err == nil && res.Matches(req):
			return r.finish(booking, row.Epoch, boxoffice.PaymentSucceeded, res.ChargeID, &paymentDone{
				booking: booking, outcome: payPaid, chargeID: res.ChargeID})
		case err == nil:
			r.cfg.Logger.Error("the payment provider answered about another booking or amount; voiding",
				"booking", booking, "asked", req.Amount, "answer_booking", res.BookingID, "answer_amount", res.Amount)
			return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed,
				"the payment provider's answer did not match this booking; nothing was charged"))
		case boxoffice.ErrorCode(err) == boxoffice.EPaymentFailed:
			return r.finish(booking, row.Epoch, boxoffice.PaymentDeclined, "", &paymentDone{
				booking: booking, outcome: payDeclined, err: err})
		case try == 0 && !r.settle && boxoffice.ErrorCode(err) == boxoffice.EUnavailable:
			// The provider sent nothing (its circuit breaker is open), and
			// this is the attempt's first charge: a confirm pins a hold
			// that was unpinned, and a hold is unpinned only once its
			// attempt is known to have charged nothing. So nothing was
			// charged under the key: the attempt ends as declined (the
			// next confirm opens a new one) and the hold is unpinned, kept
			// until its own expiry.
			return r.finish(booking, row.Epoch, boxoffice.PaymentDeclined, "", &paymentDone{
				booking: booking, outcome: payNone, err: err})
		}
		r.cfg.Logger.Warn("payment outcome unknown; the hold stays pinned and the provider is asked again",
			"booking", booking, "try", try+1, "err", err)
		if try == 0 {
			r.report(&paymentDone{booking: booking, outcome: payLate, err: err})
		}
		if try+1 >= r.cfg.PaymentAttempts {
			return r.void(row, boxoffice.Errorf(boxoffice.EPaymentFailed,
				"the payment provider did not confirm the payment in time; it was voided and nothing was charged"))
		}
		if !r.wait(try) {
			return &paymentDone{booking: booking, outcome: payInterrupted, err: err}
		}
	}
}

// void undoes whatever the row's key may have charged, retrying until the
// provider confirms (the hold stays pinned meanwhile), then records it.
func (r *payRun) void(row boxoffice.Payment, why error) *paymentDone {
	req := boxoffice.VoidRequest{BookingID: row.BookingID, EventID: row.EventID, IdempotencyKey: row.Key, Amount: row.Amount, Currency: row.Currency}
	for try := 0; ; try++ {
		c, cancel := context.WithTimeout(r.pay.ctx, r.cfg.PaymentTimeout)
		err := r.provider.Void(c, req)
		cancel()
		if err == nil {
			return r.finish(row.BookingID, row.Epoch, boxoffice.PaymentVoided, "", &paymentDone{
				booking: row.BookingID, outcome: payVoided, err: why})
		}
		r.cfg.Logger.Error("voiding a payment whose outcome is unknown failed; retrying", "booking", row.BookingID, "err", err)
		if !r.wait(try) {
			return &paymentDone{booking: row.BookingID, outcome: payInterrupted, err: err}
		}
	}
}

// finish records the provider's answer; the answer is known, so a
// database that cannot be reached is retried until the run must stop
// (the row then stays pending, and asking again with its key gets the same
// answer).
func (r *payRun) finish(booking uuid.UUID, epoch int64, status boxoffice.PaymentStatus, chargeID string, done *paymentDone) *paymentDone {
	for try := 0; ; try++ {
		c, cancel := r.dbCtx()
		err := r.store.FinishPayment(c, booking, epoch, status, chargeID)
		cancel()
		switch {
		case err == nil:
			return done
		case errors.Is(err, boxoffice.ErrFenced):
			return &paymentDone{booking: booking, outcome: payFenced, err: err}
		case boxoffice.ErrorCode(err) != boxoffice.EUnavailable:
			return r.writeFailed(booking, err)
		}
		if !r.wait(try) {
			return &paymentDone{booking: booking, outcome: payInterrupted, err: err}
		}
	}
}

func (r *payRun) writeFailed(booking uuid.UUID, err error) *paymentDone {
	if errors.Is(err, boxoffice.ErrFenced) {
		return &paymentDone{booking: booking, outcome: payFenced, err: err}
	}
	r.cfg.Logger.Error("payment row could not be written", "booking", booking, "err", err)
	return &paymentDone{booking: booking, outcome: payInterrupted, err: err}
}

func (r *payRun) dbCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.pay.ctx, r.cfg.RequestTimeout)
}

// wait backs off before the next try (PaymentBackoff, doubling, at most
// PaymentTimeout) and reports false when the run must stop instead.
func (r *payRun) wait(try int) bool {
	d := r.cfg.PaymentBackoff << min(try, 16)
	if d <= 0 || d > r.cfg.PaymentTimeout {
		d = r.cfg.PaymentTimeout
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case h := <-r.hints:
		r.got = &h
		return true
	case <-r.stop:
	case <-r.pay.stopping:
	case <-r.pay.ctx.Done():
	}
	return false
}
