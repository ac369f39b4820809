// Package pgtest runs a real, private PostgreSQL for a package's tests: one
// server per `go test` package run, in a temporary data dir, and one fresh
// database per test. It exists because boxoffice tests its persistence
// against PostgreSQL itself, never a mock, and a test that cannot reach
// PostgreSQL must fail, not skip.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.NewDB(t) // empty database, dropped when t ends
//		...
//	}
//
// The server is initialised by deploy/localpg (which installs PostgreSQL
// with apt-get when it is missing) and then run as a child of the test
// binary, listening only on 127.0.0.1 with fsync on. It dies with the test
// binary even when that is killed, and a later run removes what a killed
// run left in the temp dir.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// mu orders the server's life against its use: Stop and Start hold it
	// exclusively, NewDB and its cleanup hold it shared, so parallel tests
	// may create databases at once but never while the server restarts.
	mu  sync.RWMutex
	srv *server // set by Main; guarded by mu

	dbSeq atomic.Int64 // makes database names unique within the run
)

// Main starts PostgreSQL, runs the package's tests, stops PostgreSQL and
// exits with the tests' code. If PostgreSQL cannot start it prints why and
// exits 1, so the package fails rather than skips. SIGINT and SIGTERM stop
// PostgreSQL before the process exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	s, err := newServer()
	if err == nil {
		err = s.start(true)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL did not start, so these tests cannot run:\n%v\n", err)
		if s != nil {
			s.remove()
		}
		return 1
	}
	mu.Lock()
	srv = s
	mu.Unlock()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	quit, watched := make(chan struct{}), make(chan struct{})
	go func() { // owned by run: ends on quit, or exits the process on a signal
		defer close(watched)
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "pgtest: %v: stopping PostgreSQL\n", sig)
			shutdown()
			os.Exit(1)
		case <-quit:
		}
	}()

	code := m.Run()
	signal.Stop(sigs)
	close(quit)
	<-watched
	shutdown()
	return code
}

func shutdown() {
	mu.Lock()
	defer mu.Unlock()
	if srv == nil {
		return
	}
	if err := srv.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
	srv.remove()
	srv = nil
}

// current returns the running server or panics with what to do.
func current() *server {
	if srv == nil {
		panic("pgtest: no PostgreSQL: call pgtest.Main(m) from the package's TestMain")
	}
	return srv
}

// URL returns the server's admin URL (user postgres, database postgres).
// Tests should prefer NewDB, which isolates them from each other.
func URL() string {
	mu.RLock()
	defer mu.RUnlock()
	return current().url("postgres")
}

// Stop shuts PostgreSQL down (fast: open transactions roll back) so a test
// can see how code behaves without its database. Start brings it back on
// the same port with the same data. A test that stops the server must not
// run in parallel with tests that use it.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	return current().stop()
}

// Start restarts a server that Stop stopped; it is a no-op when it runs.
func Start() error {
	mu.Lock()
	defer mu.Unlock()
	return current().start(false)
}

// Restart is Stop then Start.
func Restart() error {
	mu.Lock()
	defer mu.Unlock()
	s := current()
	if err := s.stop(); err != nil {
		return err
	}
	return s.start(false)
}

// NewDB creates an empty database for one test and returns its URL; the
// database is dropped (with its connections) when the test ends. Safe to
// call from parallel tests.
func NewDB(tb testing.TB) string {
	tb.Helper()
	name := dbName(tb.Name())
	mu.RLock()
	defer mu.RUnlock()
	s := current()
	pool, err := s.adminPool()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	}
	if err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() { dropDB(tb, name) })
	return s.url(name)
}

func dropDB(tb testing.TB, name string) {
	mu.RLock()
	defer mu.RUnlock()
	s := current()
	if !s.running() {
		return // a test stopped the server and left it so; the whole cluster goes at the end
	}
	pool, err := s.adminPool()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	if err != nil {
		tb.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName derives a valid, unique database name from a test name, so a
// leftover database says which test made it.
func dbName(test string) string {
	n := unsafeName.ReplaceAllString(strings.ToLower(test), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("t_%s_%d_%d", n, os.Getpid(), dbSeq.Add(1))
}

// adminPool returns the pool used to create and drop databases, opening it
// after a (re)start. Callers hold mu (shared suffices: the pool is
// published once under poolMu).
func (s *server) adminPool() (*pgxpool.Pool, error) {
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	if s.pool != nil {
		return s.pool, nil
	}
	cfg, err := pgxpool.ParseConfig(s.url("postgres"))
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	s.pool = pool
	return pool, nil
}

// templates remembers the template databases made in this run, by name.
var templates struct {
	sync.Mutex
	made map[string]string // name -> database
}

// NewDBFrom is NewDB for a database that starts as a copy of a template
// that fill fills once per run (the first test to ask pays for it; later
// ones get a file-level copy from PostgreSQL's CREATE DATABASE ... TEMPLATE,
// which is much cheaper than filling again). fill gets the template's URL
// and must close every connection it opened before it returns: PostgreSQL
// copies a template only while nobody is connected to it. A failed fill is
// retried by the next caller.
func NewDBFrom(tb testing.TB, name string, fill func(ctx context.Context, url string) error) string {
	tb.Helper()
	tpl, err := template(name, fill)
	if err != nil {
		tb.Fatalf("pgtest: template %s: %v", name, err)
	}
	db := dbName(tb.Name())
	mu.RLock()
	defer mu.RUnlock()
	s := current()
	pool, err := s.adminPool()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_, err = pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()+" TEMPLATE "+pgx.Identifier{tpl}.Sanitize())
	}
	if err != nil {
		tb.Fatalf("pgtest: create database %s from %s: %v", db, tpl, err)
	}
	tb.Cleanup(func() { dropDB(tb, db) })
	return s.url(db)
}

// template returns the template database called name, filling it first if
// this run has not. It holds templates' lock while filling, so parallel
// tests wait for one fill rather than racing to make two.
func template(name string, fill func(ctx context.Context, url string) error) (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if db, ok := templates.made[name]; ok {
		return db, nil
	}
	db := fmt.Sprintf("tpl_%s_%d", unsafeName.ReplaceAllString(strings.ToLower(name), "_"), os.Getpid())
	mu.RLock()
	defer mu.RUnlock()
	s := current()
	pool, err := s.adminPool()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{db}.Sanitize() + " WITH (FORCE)"
	if _, err := pool.Exec(ctx, drop); err != nil {
		return "", err
	}
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return "", err
	}
	if err := fill(ctx, s.url(db)); err != nil {
		_, _ = pool.Exec(ctx, drop)
		return "", err
	}
	if templates.made == nil {
		templates.made = map[string]string{}
	}
	templates.made[name] = db
	return db, nil
}
