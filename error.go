package boxoffice

import (
	"errors"
	"fmt"
)

// Error codes of the public API (../shared/API.md). They are the only codes a
// client ever sees; api/ maps each to its HTTP status in one table.
const (
	EInvalid         = "invalid_argument"
	EUnauthenticated = "unauthenticated"
	EForbidden       = "forbidden"
	EQueueRequired   = "queue_required"
	ENotFound        = "not_found"
	ESeatUnavailable = "seat_unavailable"
	EHoldExpired     = "hold_expired"
	EBookingState    = "booking_state"
	EPaymentFailed   = "payment_failed"
	ETooLarge        = "too_large"
	ERateLimited     = "rate_limited"
	EUnavailable     = "unavailable"
	EMethodNotAllow  = "method_not_allowed"
	EInternal        = "internal"
	// ELimitReached: the user would hold or own more than the event's
	// max_tickets_per_user (details.limit, details.current).
	ELimitReached = "limit_reached"
	// ENotOnSale: the event is not on sale now (before its sale window,
	// after it, started or cancelled).
	ENotOnSale = "not_on_sale"
	// EIdempotencyConflict: an Idempotency-Key this user already used for
	// a different request (another body, another booking).
	EIdempotencyConflict = "idempotency_conflict"
)

// Error is the one error type that carries an API code through every layer,
// so that the HTTP layer can answer with the right status without knowing
// which package failed. Anything that is not an *Error is internal.
type Error struct {
	// Code is one of the E* constants.
	Code string
	// Message is safe to show to the caller.
	Message string
	// Details carries structured data some codes promise, such as the
	// ticket_ids of seat_unavailable or the field of invalid_argument.
	Details map[string]any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is lets errors.Is match on the code alone, so that callers can compare
// with the sentinels below even when the message or details differ.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Details == nil
}

// Errorf builds an *Error with a formatted, caller-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports a bad request field; API.md promises details.field.
func InvalidField(field, format string, args ...any) *Error {
	e := Errorf(EInvalid, format, args...)
	e.Details = map[string]any{"field": field}
	return e
}

// SeatsUnavailable reports the seats that blocked an all-or-nothing hold;
// API.md promises details.ticket_ids.
func SeatsUnavailable(ticketIDs []string) *Error {
	return &Error{
		Code:    ESeatUnavailable,
		Message: fmt.Sprintf("%d requested seat(s) are held or sold", len(ticketIDs)),
		Details: map[string]any{"ticket_ids": ticketIDs},
	}
}

// ErrorCode returns the API code of err, or EInternal for any error that does
// not wrap an *Error (a bug or an infrastructure failure nobody classified).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the caller-safe message of err; internal errors get a
// generic text so that driver messages and stack details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Sentinels for the states callers branch on. Compare with errors.Is: an
// *Error matches a sentinel when their codes are equal.
var (
	// ErrNotFound: the event, ticket or booking does not exist.
	ErrNotFound = &Error{Code: ENotFound}
	// ErrSeatUnavailable: a requested seat is held by another booking or sold.
	ErrSeatUnavailable = &Error{Code: ESeatUnavailable}
	// ErrHoldExpired: the hold ran out before confirm or release.
	ErrHoldExpired = &Error{Code: EHoldExpired}
	// ErrBookingState: the booking's state does not allow the call.
	ErrBookingState = &Error{Code: EBookingState}
	// ErrPaymentFailed: the payment provider declined the charge.
	ErrPaymentFailed = &Error{Code: EPaymentFailed}
	// ErrUnavailable: the owner of the event or the store cannot be reached;
	// the request is safe to retry.
	ErrUnavailable = &Error{Code: EUnavailable}
	// ErrForbidden: the booking belongs to another user.
	ErrForbidden = &Error{Code: EForbidden}
	// ErrInvalid: the request is malformed.
	ErrInvalid = &Error{Code: EInvalid}
	// ErrLimitReached: the user reached the event's max_tickets_per_user.
	ErrLimitReached = &Error{Code: ELimitReached}
	// ErrNotOnSale: the event is not on sale now.
	ErrNotOnSale = &Error{Code: ENotOnSale}
	// ErrIdempotencyConflict: the Idempotency-Key was used by this user
	// for a different request.
	ErrIdempotencyConflict = &Error{Code: EIdempotencyConflict}
)

// Sentinels of the engine's storage contract (journal.go, waitingroom.go).
// Stores return them, wrapped or not, and the engine branches on them with
// errors.Is; each carries the API code a client sees if it gets that far.
var (
	// ErrFenced: the write's ownership epoch is not the event's (or
	// waiting room's) current one; another activation took it over (I4)
	// and the caller must stop without acknowledging anything. Code
	// unavailable: the request is safe to retry against the new owner.
	ErrFenced = &Error{Code: EUnavailable, Message: "the event moved to another owner; retry"}
	// ErrSeatSold: a seat of the commit is already sold to another sale,
	// so the store refused a second sale (I1).
	ErrSeatSold = &Error{Code: ESeatUnavailable, Message: "a seat of this sale is already sold"}
	// ErrClosed: the journal was closed before the commit was submitted;
	// nothing was written.
	ErrClosed = &Error{Code: EUnavailable, Message: "the journal writer is closed"}
)
