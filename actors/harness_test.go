package actors_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		// The crash-safety child uses its parent's PostgreSQL.
		os.Exit(m.Run())
	}
	pgtest.Main(m)
}

// env is one test's world: a migrated database, one catalog event, and
// the node that serves it.
type env struct {
	url     string
	db      *persistence.DB
	eventID uuid.UUID
	space   boxoffice.TicketSpace
	seats   int
	node    *node
}

// node is one running seat engine: journal writer, engine and a one-member
// Proto.Actor cluster, reached by identity exactly as a remote grain is.
type node struct {
	jw      *persistence.JournalWriter
	eng     *actors.Engine
	pay     *devpay.Provider
	pub     *recorder
	cluster *pcluster.Cluster
	once    sync.Once
}

// venue200 is two sections of 100 seats, priced 100.00 and 50.00.
func venue200() boxoffice.SeatMap {
	rows := func(n, seats int) []boxoffice.Row {
		var out []boxoffice.Row
		for i := 1; i <= n; i++ {
			out = append(out, boxoffice.Row{Name: fmt.Sprint(i), Seats: seats})
		}
		return out
	}
	return boxoffice.SeatMap{Sections: []boxoffice.Section{
		{Name: "A", Rows: rows(4, 25)}, {Name: "B", Rows: rows(4, 25)},
	}}
}

func newEnv(t testing.TB, sm boxoffice.SeatMap, cfg actors.Config) *env {
	t.Helper()
	e := newBareEnv(t, sm)
	e.node = startNode(t, e.db, cfg)
	return e
}

// newBareEnv is newEnv without a node.
func newBareEnv(t testing.TB, sm boxoffice.SeatMap) *env {
	t.Helper()
	url := pgtest.NewDB(t)
	db := dbtest.OpenDB(t, url)
	e := &env{url: url, db: db}
	e.eventID = createEvent(t, db, sm)
	e.space = boxoffice.NewTicketSpace(e.eventID)
	e.seats = sm.Capacity()
	return e
}

// createEvent stores an event with seat map sm and returns its ID.
func createEvent(t testing.TB, db *persistence.DB, sm boxoffice.SeatMap) uuid.UUID {
	t.Helper()
	return dbtest.CreateEvent(t, db, sm, boxoffice.WaitingRoom{}).ID
}

// startNode starts a node; opts may wrap or add to its engine's deps.
func startNode(t testing.TB, db *persistence.DB, cfg actors.Config, opts ...func(*actors.Deps)) *node {
	t.Helper()
	return startNodeWith(t, db, cfg, devpay.New(), nil, opts...)
}

// startNodeWith starts a node whose payments go to provider, or to dev
// when provider is nil; n.pay is dev either way.
func startNodeWith(t testing.TB, db *persistence.DB, cfg actors.Config, dev *devpay.Provider, provider boxoffice.PaymentProvider, opts ...func(*actors.Deps)) *node {
	t.Helper()
	return startNodeIn(t, nil, db, cfg, dev, provider, opts...)
}

// startNodeIn is startNodeWith for a member of agent's cluster (one of its
// own when agent is nil).
func startNodeIn(t testing.TB, agent *test.InMemAgent, db *persistence.DB, cfg actors.Config, dev *devpay.Provider, provider boxoffice.PaymentProvider, opts ...func(*actors.Deps)) *node {
	t.Helper()
	n := &node{pay: dev, pub: newRecorder()}
	if provider == nil {
		provider = dev
	}
	n.jw = persistence.NewJournalWriter(db, persistence.DefaultJournalConfig())
	if cfg.Logger == nil {
		cfg.Logger = clustertest.Quiet()
	}
	deps := actors.Deps{Store: db, Journal: n.jw, Publisher: n.pub, Payments: provider}
	for _, o := range opts {
		o(&deps)
	}
	eng, err := actors.NewEngine(cfg, deps)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	n.eng = eng
	n.join(t, agent)
	t.Cleanup(n.stop)
	return n
}

// join starts a member of agent's in-memory cluster (one of its own when
// agent is nil) hosting the node's grains, and attaches its engine.
func (n *node) join(t testing.TB, agent *test.InMemAgent) {
	t.Helper()
	n.cluster = clustertest.StartMember(t, "boxoffice-test", agent, n.eng.Kind())
	n.eng.Attach(n.cluster)
}

// stop shuts the node down once, however often it is called.
func (n *node) stop() {
	n.once.Do(func() {
		n.cluster.Shutdown(true)
		n.eng.Drain(context.Background())
		n.jw.Close()
	})
}

func (e *env) ticket(i int) uuid.UUID { return e.space.ID(i) }

func (e *env) tickets(idx ...int) []uuid.UUID {
	out := make([]uuid.UUID, len(idx))
	for k, i := range idx {
		out[k] = e.ticket(i)
	}
	return out
}

func (e *env) reserve(t testing.TB, user uuid.UUID, idx ...int) (boxoffice.Booking, error) {
	t.Helper()
	return e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
		EventID: e.eventID, UserID: user, BookingID: uuid.New(), TicketIDs: e.tickets(idx...)})
}

func (e *env) mustReserve(t testing.TB, user uuid.UUID, idx ...int) boxoffice.Booking {
	t.Helper()
	b, err := e.reserve(t, user, idx...)
	if err != nil {
		t.Fatalf("reserve %v: %v", idx, err)
	}
	return b
}

func (e *env) confirm(t testing.TB, b boxoffice.Booking, user uuid.UUID, token string) (boxoffice.Booking, error) {
	t.Helper()
	return e.node.eng.Confirm(context.Background(), boxoffice.ConfirmRequest{
		EventID: e.eventID, BookingID: b.ID, UserID: user, Method: "card", Token: token})
}

func (e *env) statuses(t testing.TB) boxoffice.SeatsView {
	t.Helper()
	v, err := e.node.eng.Seats(context.Background(), e.eventID)
	if err != nil {
		t.Fatalf("seats: %v", err)
	}
	return v
}

// recorder is the Publisher of tests: it keeps every delta frame.
type recorder struct {
	mu     sync.Mutex
	frames []boxoffice.SeatDelta
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) PublishSeats(d boxoffice.SeatDelta) error {
	r.mu.Lock()
	r.frames = append(r.frames, d)
	r.mu.Unlock()
	return nil
}

func (r *recorder) all() []boxoffice.SeatDelta {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]boxoffice.SeatDelta(nil), r.frames...)
}

func codeOf(err error) string { return boxoffice.ErrorCode(err) }
