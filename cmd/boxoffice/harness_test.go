package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// goroutineTB is a test's t for its helper goroutines. Fatal, Fatalf and
// FailNow may only be called from the test's own goroutine, yet the
// helpers (n.call, n.token, ...) call them; through this wrapper they
// report with Error (safe from any goroutine) and end only the calling
// goroutine (its defers, such as wg.Done, run), so the test goroutine
// carries on, sees the test failed, and ends it.
type goroutineTB struct{ testing.TB }

// inGoroutine wraps t for use in a goroutine the test started.
func inGoroutine(t testing.TB) testing.TB { return goroutineTB{t} }

func (g goroutineTB) Fatal(args ...any) {
	g.TB.Error(args...)
	runtime.Goexit()
}

func (g goroutineTB) Fatalf(format string, args ...any) {
	g.TB.Errorf(format, args...)
	runtime.Goexit()
}

func (g goroutineTB) FailNow() {
	g.TB.Fail()
	runtime.Goexit()
}

// testNode is a whole boxoffice node running in the test process, on
// random ports, against a fresh database.
type testNode struct {
	*node
	URL string
	DB  string
}

// nodeOption adjusts a test node's configuration.
type nodeOption func(*Config)

// startTestNode boots a dev-mode node exactly as `boxoffice serve` does,
// with rate limits off and short holds unless options say otherwise.
func startTestNode(t testing.TB, opts ...nodeOption) *testNode {
	t.Helper()
	db := pgtest.NewDB(t)
	return startTestNodeOn(t, db, opts...)
}

// startTestNodeOn boots a node on an existing database (a restart, or a
// second node of a cluster).
func startTestNodeOn(t testing.TB, db string, opts ...nodeOption) *testNode {
	t.Helper()
	cfg := testNodeConfig(t, db, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := startNode(ctx, cfg, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(n.Close)
	return &testNode{node: n, URL: n.URL(), DB: db}
}

// testNodeConfig is the configuration startTestNodeOn uses, for tests that
// start nodes themselves (several at once).
func testNodeConfig(t testing.TB, db string, opts ...nodeOption) Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := parseConfig("serve", nil, func(k string) string {
		switch k {
		case "BOXOFFICE_DATABASE_URL":
			return db
		case "BOXOFFICE_MODE":
			return "dev"
		case "BOXOFFICE_ADDR":
			return "127.0.0.1:0"
		case "BOXOFFICE_GOSSIP_ADDR":
			return "127.0.0.1:0"
		case "BOXOFFICE_DATA_DIR":
			return filepath.Join(dir, "node")
		case "BOXOFFICE_RATE_IP", "BOXOFFICE_RATE_USER", "BOXOFFICE_WS_MAX_PER_IP", "BOXOFFICE_WS_MAX":
			return "0" // loopback load: one address, thousands of sockets
		case "BOXOFFICE_LOG_LEVEL":
			return "error"
		case "BOXOFFICE_WEBHOOK_ALLOW_CIDRS":
			return "127.0.0.0/8,::1/128" // the tests' receivers are local
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// startSeededNode is startTestNode on a database that already holds the
// demo data, as `make run` seeds it before its node serves. The data is
// seeded once per test run into a template database and copied for each
// test, which is much cheaper than seeding each time (the stadium alone is
// 50,000 seats). The node publishes the seeded catalog from the outbox when
// it starts, as after `boxoffice seed`.
func startSeededNode(t testing.TB, opts ...nodeOption) *testNode {
	t.Helper()
	db := pgtest.NewDBFrom(t, "demo", func(ctx context.Context, url string) error {
		db, err := persistence.Open(ctx, persistence.Config{URL: url, MaxConns: 8})
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		_, err = seed(ctx, db, func() {})
		return err
	})
	return startTestNodeOn(t, db, opts...)
}

// token returns a development token for email (roles optional).
func (n *testNode) token(t testing.TB, email string, roles ...string) string {
	t.Helper()
	body := map[string]any{"email": email, "name": "Test " + email}
	if len(roles) > 0 {
		body["roles"] = roles
	}
	var out struct {
		Token string `json:"token"`
	}
	if code := n.call(t, http.MethodPost, "/auth/token", "", body, &out); code != http.StatusOK {
		t.Fatalf("POST /auth/token: %d", code)
	}
	return out.Token
}

// call sends a JSON request and decodes a JSON reply into out (if non-nil);
// it returns the status.
func (n *testNode) call(t testing.TB, method, path, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: reply is not JSON (%v): %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func stadiumEventID() string { return seedID("event", StadiumEventName).String() }

func jsonBody(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// recordTB records what a helper reports, for TestGoroutineTBEndsOnlyItsGoroutine.
type recordTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	failed bool
}

func (r *recordTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recordTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.failed = true
}
func (r *recordTB) Fail() { r.mu.Lock(); r.failed = true; r.mu.Unlock() }

// TestGoroutineTBEndsOnlyItsGoroutine: a helper's Fatal in a goroutine
// reports the error, runs the goroutine's defers and stops it there.
func TestGoroutineTBEndsOnlyItsGoroutine(t *testing.T) {
	for name, fatal := range map[string]func(testing.TB){
		"Fatal":   func(tb testing.TB) { tb.Fatal("boom") },
		"Fatalf":  func(tb testing.TB) { tb.Fatalf("%s", "boom") },
		"FailNow": func(tb testing.TB) { tb.FailNow() },
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recordTB{}
			done := make(chan struct{})
			after := false
			go func() {
				defer close(done)
				fatal(inGoroutine(rec))
				after = true
			}()
			<-done
			if after {
				t.Errorf("the goroutine ran on after %s", name)
			}
			if !rec.failed {
				t.Errorf("%s did not mark the test failed", name)
			}
			if name != "FailNow" && (len(rec.errors) != 1 || rec.errors[0] != "boom") {
				t.Errorf("%s reported %q, want [boom]", name, rec.errors)
			}
		})
	}
}
