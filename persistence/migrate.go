package persistence

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrations holds the versioned schema, compiled into the binary so that
// `boxoffice migrate` needs no files beside it.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate brings the schema up to the newest embedded version. It is
// idempotent, and several nodes may run it at once: golang-migrate holds a
// PostgreSQL advisory lock (per database) while it reads and applies
// versions, so the others wait and then find nothing to do.
//
// A migration that failed halfway leaves the schema "dirty"; Migrate then
// returns an error naming the version, to be repaired by hand.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrate(ctx, (*migrate.Migrate).Up)
}

// migrate runs step (Up, or in tests Migrate to a version) under the same
// lock, context and error handling as Migrate.
func (db *DB) migrate(ctx context.Context, step func(*migrate.Migrate) error) error {
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("persistence: migrate: read embedded migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	drv, err := migratepgx.WithInstance(sqlDB, &migratepgx.Config{})
	if err != nil {
		return migrateErr("migrate: open driver", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return migrateErr("migrate", err)
	}
	defer m.Close()

	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() { // asks golang-migrate, which takes no context, to stop between versions
		defer close(stopped)
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-stop:
		}
	}()
	err = step(m)
	close(stop)
	<-stopped
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		var dirty migrate.ErrDirty
		if errors.As(err, &dirty) {
			return fmt.Errorf("persistence: migrate: version %d failed halfway and the schema is dirty; fix it by hand, then `migrate force %d`: %w",
				dirty.Version, dirty.Version-1, err)
		}
		return migrateErr("migrate", err)
	}
	return ctx.Err()
}

// migrateErr classifies a golang-migrate error, whose database.Error hides
// the driver's error from errors.As: only a lost connection is
// unavailable; a failing migration is a plain (internal) error.
func migrateErr(op string, err error) error {
	cause := err
	var de database.Error
	if errors.As(err, &de) && de.OrigErr != nil {
		cause = de.OrigErr
	}
	if isConnError(cause) {
		return unavailable(op, err)
	}
	return fmt.Errorf("persistence: %s: %w", op, err)
}
