package queueroom_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/queueroom"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var _ api.Queue = (*queueroom.Handler)(nil)

// env is one test's world: a database with one event, a node hosting its
// waiting room, and the routes on an HTTP test server.
type env struct {
	db   *persistence.DB
	ev   boxoffice.Event
	node *queuetest.Node
	h    *queueroom.Handler
	srv  *httptest.Server
}

// testAuth stands in for the API's auth: "Authorization: Bearer <user
// UUID>" logs in as that user.
func testAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			api.WriteError(w, boxoffice.Errorf(boxoffice.EUnauthenticated, "log in"))
			return
		}
		next.ServeHTTP(w, r.WithContext(api.ContextWithUser(r.Context(), boxoffice.User{ID: id})))
	})
}

func newEnv(t *testing.T, wr boxoffice.WaitingRoom, tweak func(*queueroom.Config, *queueroom.Deps)) *env {
	t.Helper()
	db := dbtest.OpenDB(t, pgtest.NewDB(t))
	e := &env{db: db, ev: dbtest.CreateEvent(t, db, dbtest.SmallHall(), wr)}
	bus := queuetest.NewNATS(t)
	e.node = queuetest.StartNode(t, queuetest.Config(), queue.Deps{Store: db, Events: db, Publisher: bus, Subscriber: bus})
	cfg := queueroom.DefaultConfig()
	cfg.Logger = clustertest.Quiet()
	deps := queueroom.Deps{Room: e.node.Room}
	if tweak != nil {
		tweak(&cfg, &deps)
	}
	h, err := queueroom.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	mux := http.NewServeMux()
	h.Routes(mux, testAuth)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		_ = h.Close()
	})
	return e
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *env) do(t *testing.T, method, path string, user uuid.UUID, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != uuid.Nil {
		req.Header.Set("Authorization", "Bearer "+user.String())
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("%s %s: %d, body %q is not JSON", method, path, res.StatusCode, b)
	}
	return r
}

func (e *env) join(t *testing.T, user uuid.UUID) reply {
	t.Helper()
	return e.do(t, "POST", "/events/"+e.ev.ID.String()+"/queue", user)
}

// wantError checks API.md's error reply.
func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %v)", r.status, status, r.body)
	}
	e, _ := r.body["error"].(map[string]any)
	if e == nil || e["code"] != code || e["message"] == "" {
		t.Fatalf("body %v, want error code %s", r.body, code)
	}
}

func (e *env) setRoom(t *testing.T, enabled bool, rate int) {
	t.Helper()
	dbtest.SetWaitingRoom(t, e.db, e.ev.ID, boxoffice.WaitingRoom{Enabled: enabled, RatePerSecond: rate})
	if err := e.node.Room.SetRate(context.Background(), e.ev.ID, rate, enabled); err != nil {
		t.Fatalf("set rate: %v", err)
	}
}

var paused = boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 0}
