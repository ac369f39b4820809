package persistence

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

// Payment rows (I6). Every write is fenced by the ownership epoch of the
// event's activation, exactly as a journal commit is: the transaction locks
// the event's ownership row FOR SHARE and checks the epoch, so an Acquire
// waits for it and every later write of an older activation is refused with
// ErrFenced. A row records the epoch that last claimed it; only that
// activation may finish it, so an old owner that was mid-charge when the
// event moved cannot overwrite what the new owner decided.

const paymentColumns = `booking_id, coalesce(event_id, '00000000-0000-0000-0000-000000000000'::uuid), epoch,
	attempt, idempotency_key, status, charge_id, amount_minor, currency, method, token`

// BeginPayment records the intent to charge a booking before the provider
// is called, as the activation p.EventID/p.Epoch: it inserts attempt 1
// (pending, key boxoffice.PaymentKey(booking, 1)) with p's amount and card,
// or claims and returns the existing row unchanged otherwise. A caller that
// gets back a row it did not create must act on that row (charge a pending
// one again with its key and card, sell a succeeded one, reopen a declined
// or voided one with RetryPayment), never charge under a new key: that is
// what makes a booking charged at most once across crashes and takeovers.
// Errors: ErrFenced (the epoch is not current), invalid_argument.
func (db *DB) BeginPayment(ctx context.Context, p boxoffice.Payment) (boxoffice.Payment, error) {
	if p.Amount < 0 || p.Currency == "" {
		return boxoffice.Payment{}, boxoffice.InvalidField("amount", "a payment needs a non-negative amount and a currency")
	}
	// One round trip: the ownership row is locked FOR SHARE at the
	// caller's epoch (no row: fenced), so an Acquire waits for this
	// statement's commit, and every later one sees the row.
	rows, err := db.pool.Query(ctx, `
		WITH own AS (SELECT epoch FROM event_ownership WHERE event_id = $2 AND epoch = $3 FOR SHARE)
		INSERT INTO payments (booking_id, event_id, epoch, attempt, idempotency_key, amount_minor, currency,
			status, method, token)
		SELECT $1, $2, $3, 1, $4, $5, $6, 'pending', $7, $8 FROM own
		ON CONFLICT (booking_id) DO UPDATE SET epoch = EXCLUDED.epoch, event_id = EXCLUDED.event_id
		RETURNING `+paymentColumns,
		p.BookingID, p.EventID, p.Epoch, boxoffice.PaymentKey(p.BookingID, 1), int64(p.Amount), p.Currency,
		p.Method, p.Token)
	if err != nil {
		return boxoffice.Payment{}, wrap("begin payment", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if isNoRows(err) {
		return boxoffice.Payment{}, fmt.Errorf("persistence: begin payment of booking %s: event %s epoch %d is not current: %w",
			p.BookingID, p.EventID, p.Epoch, boxoffice.ErrFenced)
	}
	if err != nil {
		return boxoffice.Payment{}, wrap("begin payment", err)
	}
	return out, nil
}

// RetryPayment opens the next attempt of a declined or voided payment (a new
// card, say): pending, attempt+1 with its own derived key and the given card.
// A succeeded payment stays succeeded (I6) and a pending one keeps the key
// its unknown outcome must be asked with; both are returned unchanged.
// Errors: ErrFenced, not_found.
func (db *DB) RetryPayment(ctx context.Context, bookingID uuid.UUID, epoch int64, method, token string) (boxoffice.Payment, error) {
	cur, err := db.Payment(ctx, bookingID)
	if err != nil {
		return boxoffice.Payment{}, err
	}
	var out boxoffice.Payment
	err = db.fenced(ctx, "retry payment", cur.EventID, epoch, func(tx pgx.Tx) error {
		row, err := lockPayment(ctx, tx, bookingID)
		if err != nil {
			return err
		}
		if row.Status != boxoffice.PaymentDeclined && row.Status != boxoffice.PaymentVoided {
			out = row
			return nil
		}
		next := row.Attempt + 1
		rows, err := tx.Query(ctx, `
			UPDATE payments SET status = 'pending', attempt = $2, idempotency_key = $3, charge_id = '',
				epoch = $4, method = $5, token = $6, updated_at = now()
			WHERE booking_id = $1
			RETURNING `+paymentColumns,
			bookingID, next, boxoffice.PaymentKey(bookingID, next), epoch, method, token)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanPayment)
		return err
	})
	return out, err
}

// ClaimPayment makes the activation eventID/epoch the one that may finish
// the booking's payment, and returns the row; an activation settling a
// payment that an earlier one left behind claims it before acting on it.
// Errors: not_found (no row: no charge was ever attempted), ErrFenced.
func (db *DB) ClaimPayment(ctx context.Context, bookingID, eventID uuid.UUID, epoch int64) (boxoffice.Payment, error) {
	var out boxoffice.Payment
	err := db.fenced(ctx, "claim payment", eventID, epoch, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE payments SET epoch = $2, event_id = $3 WHERE booking_id = $1
			RETURNING `+paymentColumns, bookingID, epoch, eventID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanPayment)
		if isNoRows(err) {
			return notFound("payment of booking", bookingID)
		}
		return err
	})
	return out, err
}

// FinishPayment records the provider's answer to the pending attempt, as
// the activation with the given epoch. Repeating the recorded answer is a
// no-op; a different answer for a finished payment is booking_state (an
// outcome never flips). Errors: ErrFenced (the row was claimed by another
// activation or the epoch is not current), not_found, invalid_argument.
func (db *DB) FinishPayment(ctx context.Context, bookingID uuid.UUID, epoch int64, status boxoffice.PaymentStatus, chargeID string) error {
	switch status {
	case boxoffice.PaymentSucceeded, boxoffice.PaymentDeclined, boxoffice.PaymentVoided:
	default:
		return boxoffice.InvalidField("status", "a payment finishes as %q, %q or %q",
			boxoffice.PaymentSucceeded, boxoffice.PaymentDeclined, boxoffice.PaymentVoided)
	}
	// One round trip: the payment row is locked FOR UPDATE and its
	// event's ownership row FOR SHARE, and the row changes only when it is
	// pending and both epochs are the caller's.
	var rowEpoch, ownerEpoch int64
	var cur, charge string
	var updated bool
	err := db.pool.QueryRow(ctx, `
		WITH cur AS (
			SELECT p.booking_id, p.epoch, p.status, p.charge_id, o.epoch AS owner_epoch
			FROM payments p JOIN event_ownership o ON o.event_id = p.event_id
			WHERE p.booking_id = $1
			FOR UPDATE OF p FOR SHARE OF o),
		upd AS (
			UPDATE payments p SET status = $3, charge_id = $4, updated_at = now()
			FROM cur
			WHERE p.booking_id = cur.booking_id AND cur.status = 'pending' AND cur.epoch = $2 AND cur.owner_epoch = $2
			RETURNING p.booking_id)
		SELECT cur.epoch, cur.status, cur.charge_id, cur.owner_epoch, EXISTS (SELECT 1 FROM upd) FROM cur`,
		bookingID, epoch, string(status), chargeID).Scan(&rowEpoch, &cur, &charge, &ownerEpoch, &updated)
	if isNoRows(err) {
		if _, err := db.Payment(ctx, bookingID); err != nil {
			return err // not_found
		}
		return fmt.Errorf("persistence: payment of booking %s has no owned event: %w", bookingID, boxoffice.ErrFenced)
	}
	switch {
	case err != nil:
		return wrap("finish payment", err)
	case updated:
		return nil
	case rowEpoch != epoch || ownerEpoch != epoch:
		return fmt.Errorf("persistence: payment of booking %s is claimed by epoch %d (event at %d), not %d: %w",
			bookingID, rowEpoch, ownerEpoch, epoch, boxoffice.ErrFenced)
	case cur == string(status) && charge == chargeID:
		return nil
	}
	return boxoffice.Errorf(boxoffice.EBookingState, "the payment of booking %s is already %s", bookingID, cur)
}

// Payment reads a booking's payment row; not_found when it has none.
func (db *DB) Payment(ctx context.Context, bookingID uuid.UUID) (boxoffice.Payment, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE booking_id = $1`, bookingID)
	if err != nil {
		return boxoffice.Payment{}, wrap("read payment", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if isNoRows(err) {
		return boxoffice.Payment{}, notFound("payment of booking", bookingID)
	}
	if err != nil {
		return boxoffice.Payment{}, wrap("read payment", err)
	}
	return p, nil
}

// BindConfirmKey ties a client's confirm Idempotency-Key to one booking of
// one user: the first confirm with the key binds it, a repeat for the same
// booking is fine, and the key used for another booking of the user is
// idempotency_conflict (one payment never pays for two bookings). Keys of
// different users never meet.
func (db *DB) BindConfirmKey(ctx context.Context, userID uuid.UUID, key string, bookingID uuid.UUID) error {
	var bound uuid.UUID
	err := db.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO confirm_keys (user_id, idempotency_key, booking_id) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, idempotency_key) DO NOTHING
			RETURNING booking_id)
		SELECT booking_id FROM ins
		UNION ALL
		SELECT booking_id FROM confirm_keys WHERE user_id = $1 AND idempotency_key = $2`,
		userID, key, bookingID).Scan(&bound)
	if isNoRows(err) {
		// A concurrent bind of the same key committed between our
		// statement's snapshot and its INSERT; its row is visible now.
		err = db.pool.QueryRow(ctx, `SELECT booking_id FROM confirm_keys
			WHERE user_id = $1 AND idempotency_key = $2`, userID, key).Scan(&bound)
	}
	if err != nil {
		return wrap("bind confirm key", err)
	}
	if bound != bookingID {
		return boxoffice.Errorf(boxoffice.EIdempotencyConflict,
			"this Idempotency-Key was already used to confirm another booking; use a new key for each booking")
	}
	return nil
}

// fenced runs fn in a transaction that holds the event's ownership row FOR
// SHARE at epoch (ErrFenced otherwise).
func (db *DB) fenced(ctx context.Context, op string, eventID uuid.UUID, epoch int64, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap(op+": begin", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := checkEpoch(ctx, tx, eventID, epoch); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(op+": commit", err)
	}
	return nil
}

func lockPayment(ctx context.Context, tx pgx.Tx, bookingID uuid.UUID) (boxoffice.Payment, error) {
	rows, err := tx.Query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE booking_id = $1 FOR UPDATE`, bookingID)
	if err != nil {
		return boxoffice.Payment{}, err
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayment)
	if isNoRows(err) {
		return boxoffice.Payment{}, notFound("payment of booking", bookingID)
	}
	return p, err
}

func scanPayment(row pgx.CollectableRow) (boxoffice.Payment, error) {
	var p boxoffice.Payment
	var amount int64
	var status string
	err := row.Scan(&p.BookingID, &p.EventID, &p.Epoch, &p.Attempt, &p.Key, &status, &p.ChargeID, &amount,
		&p.Currency, &p.Method, &p.Token)
	p.Amount, p.Status = boxoffice.Money(amount), boxoffice.PaymentStatus(status)
	return p, err
}
