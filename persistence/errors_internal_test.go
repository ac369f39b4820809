package persistence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/jackc/pgx/v5/pgconn"
)

// Only failures of the connection or server are unavailable; statement
// errors are not, so a batch is retried commit by commit only for them.
func TestIsConnError(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", fmt.Errorf("x: %w", &pgconn.PgError{Code: "08006"}), true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"closed conn", fmt.Errorf("x: %w", pgconn.ErrConnClosed), true},
		{"deadline", context.DeadlineExceeded, true},
		{"anything else", errors.New("cannot encode"), false},
	}
	for _, tc := range cases {
		if got := isConnError(tc.err); got != tc.want {
			t.Errorf("%s: isConnError = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMigrateErrClassifies(t *testing.T) {
	failed := migrateErr("migrate", database.Error{OrigErr: &pgconn.PgError{Code: "42P07"}, Err: "migration failed"})
	if code := boxoffice.ErrorCode(failed); code != boxoffice.EInternal {
		t.Errorf("failed migration has code %s, want internal", code)
	}
	lost := migrateErr("migrate", database.Error{OrigErr: io.EOF})
	if code := boxoffice.ErrorCode(lost); code != boxoffice.EUnavailable {
		t.Errorf("lost connection has code %s, want unavailable", code)
	}
}
