package persistence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/boxoffice/boxoffice"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// SQLSTATE codes this package reacts to.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// unavailable wraps a failure to talk to PostgreSQL so that callers see the
// unavailable code and logs keep the cause.
func unavailable(op string, err error) error {
	return fmt.Errorf("persistence: %s: %w: %w",
		op, boxoffice.Errorf(boxoffice.EUnavailable, "the database cannot be reached; retry"), err)
}

// wrap translates a driver error at the boundary: a lost connection becomes
// unavailable, an error that already carries a code keeps it, and anything
// else is wrapped as internal.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var be *boxoffice.Error
	if errors.As(err, &be) {
		return err
	}
	if isConnError(err) {
		return unavailable(op, err)
	}
	return fmt.Errorf("persistence: %s: %w", op, err)
}

// notFound reports an absent row with a caller-safe message.
func notFound(kind string, id fmt.Stringer) error {
	return boxoffice.Errorf(boxoffice.ENotFound, "%s %s not found", kind, id)
}

// pgCode returns the SQLSTATE of err, or "" if PostgreSQL did not send one.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// isConnError reports a failure of the connection or the server rather than
// of the statement: a failed connect, a network error or EOF, a closed
// connection or pool, a timeout or cancelled context, or an SQLSTATE class
// that means the server is going away or refusing connections. Such a
// failure says nothing about the data, so a batch that hit it may be
// retried later as a whole.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if code := pgCode(err); code != "" {
		switch {
		case strings.HasPrefix(code, "08"): // connection exception
			return true
		case strings.HasPrefix(code, "53"): // insufficient resources (too many connections)
			return true
		case code == "57P01", code == "57P02", code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case code == "57014": // query canceled (statement timeout, context)
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, puddle.ErrClosedPool) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
