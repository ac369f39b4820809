package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/persistence/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func setting(t *testing.T, c *pgx.Conn, name string) string {
	t.Helper()
	var v string
	if err := c.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatalf("show %s: %v", name, err)
	}
	return v
}

// The server is durable and reachable only over TCP on loopback.
func TestServerSettings(t *testing.T) {
	c := connect(t, pgtest.URL())
	for name, want := range map[string]string{
		"fsync": "on", "synchronous_commit": "on", "listen_addresses": "127.0.0.1",
		"unix_socket_directories": "", "server_encoding": "UTF8",
	} {
		if got := setting(t, c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// Each NewDB is a distinct, empty database that is dropped when its test ends.
func TestNewDBIsolatedAndDropped(t *testing.T) {
	var names []string
	t.Run("create", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			c := connect(t, pgtest.NewDB(t))
			var name string
			var tables int
			if err := c.QueryRow(context.Background(), `SELECT current_database(),
				(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("database %s has %d tables, want an empty one", name, tables)
			}
			names = append(names, name)
		}
		if names[0] == names[1] {
			t.Fatalf("two NewDB calls gave the same database %s", names[0])
		}
	})
	c := connect(t, pgtest.URL())
	var left int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of %v still exist after their test ended", left, names)
	}
}

// Parallel tests may each create databases at once.
func TestNewDBParallel(t *testing.T) {
	for i := 0; i < 8; i++ {
		t.Run("p", func(t *testing.T) {
			t.Parallel()
			c := connect(t, pgtest.NewDB(t))
			if _, err := c.Exec(context.Background(), "CREATE TABLE x (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// NewDBFrom fills its template once, and each database it makes is an
// independent copy: a change in one shows in neither the template nor the
// next copy.
func TestNewDBFrom(t *testing.T) {
	fills := 0
	fill := func(ctx context.Context, url string) error {
		fills++
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "CREATE TABLE seeded (n int); INSERT INTO seeded VALUES (1), (2)")
		return err
	}
	count := func(c *pgx.Conn) int {
		t.Helper()
		var n int
		if err := c.QueryRow(context.Background(), "SELECT count(*) FROM seeded").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := connect(t, pgtest.NewDBFrom(t, "two rows", fill))
	if n := count(first); n != 2 {
		t.Fatalf("first copy has %d rows, want 2", n)
	}
	if _, err := first.Exec(context.Background(), "DELETE FROM seeded"); err != nil {
		t.Fatal(err)
	}
	second := connect(t, pgtest.NewDBFrom(t, "two rows", fill))
	if n := count(second); n != 2 {
		t.Errorf("second copy has %d rows after the first was emptied, want 2", n)
	}
	if fills != 1 {
		t.Errorf("the template was filled %d times, want once", fills)
	}
}

// Stop makes the server unreachable; Start brings it back on the same URL
// with its data.
func TestStopStart(t *testing.T) {
	url := pgtest.NewDB(t)
	c := connect(t, url)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := pgtest.Stop(); err != nil {
		t.Fatal(err)
	}
	if c2, err := pgx.Connect(ctx, url); err == nil {
		c2.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := pgtest.Start(); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := connect(t, url).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v = %d, err = %v; want 42", v, err)
	}
}
