package persistence

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/boxoffice/boxoffice"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"
)

// Config says where PostgreSQL is and how many connections one node may use.
type Config struct {
	// URL is a PostgreSQL connection string, e.g.
	// postgres://user@127.0.0.1:5432/boxoffice?sslmode=disable. The
	// pool_* query parameters of pgxpool are honoured too.
	URL string
	// MaxConns caps the node's pool. The journal writer needs one
	// connection per batch in flight, and catalog reads, payments and
	// snapshots share the rest; more than a few dozen rarely helps a
	// single PostgreSQL.
	MaxConns int32
	// TracerProvider, if set, traces queries made in a traced context
	// (pgx's tracer interface); nil traces nothing.
	TracerProvider trace.TracerProvider
}

// DefaultConfig returns a pool size that suits a node on a small machine; the
// URL must still be set.
func DefaultConfig() Config {
	return Config{
		MaxConns: 16, // the journal writer uses one; the rest serve catalog, payments, snapshots
	}
}

// Validate reports a missing URL or a pool too small to run the journal
// writer beside other work.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("persistence: Config.URL is empty; set BOXOFFICE_DATABASE_URL or start one with deploy/localpg start .data/pg")
	}
	if c.MaxConns < 2 {
		return fmt.Errorf("persistence: Config.MaxConns is %d; want at least 2 (the journal writer holds one)", c.MaxConns)
	}
	return nil
}

// DB is the node's handle on PostgreSQL: a connection pool plus the
// queries of every table. It is safe for concurrent use.
type DB struct {
	pool      *pgxpool.Pool
	closeOnce sync.Once
}

// DB is the store of the engine's storage contract (the root package):
// the seat engine's and the waiting room's.
var (
	_ boxoffice.EventStore = (*DB)(nil)
	_ boxoffice.QueueStore = (*DB)(nil)
)

// Open connects a pool and pings PostgreSQL, so that a wrong URL or a
// stopped server is reported at start-up with what to do about it rather
// than on the first request.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("persistence: bad database URL (want postgres://user@host:port/dbname?sslmode=disable): %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	pc.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	if cfg.TracerProvider != nil {
		pc.ConnConfig.Tracer = pgTracer{tracer: cfg.TracerProvider.Tracer(tracerName)}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("persistence: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("persistence: cannot reach PostgreSQL at %s:%d as %q (is it running? `deploy/localpg start .data/pg` starts a local one and prints its URL): %w",
			pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.User, err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the pool, waiting for connections in use to be released.
// It is idempotent.
func (db *DB) Close() {
	db.closeOnce.Do(db.pool.Close)
}

// Ping reports whether PostgreSQL answers; /readyz uses it. A failure is an
// unavailable-coded error.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Pool exposes the pgx pool for tools and tests that need SQL this package
// does not offer; application code should use the typed methods.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }
