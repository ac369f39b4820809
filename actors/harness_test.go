package actors_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/persistence"
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
	url := pgtest.NewDB(t)
	db := openDB(t, url)
	e := &env{url: url, db: db}
	e.eventID = createEvent(t, db, sm)
	e.space = boxoffice.NewTicketSpace(e.eventID)
	e.seats = sm.Capacity()
	e.node = startNode(t, db, cfg)
	return e
}

func openDB(t testing.TB, url string) *persistence.DB {
	t.Helper()
	ctx := context.Background()
	db, err := persistence.Open(ctx, persistence.Config{URL: url, MaxConns: 16})
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func createEvent(t testing.TB, db *persistence.DB, sm boxoffice.SeatMap) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	v, _, err := db.CreateVenue(ctx, boxoffice.Venue{ID: uuid.New(), Name: "Test Arena", City: "Madrid",
		Location: boxoffice.Location{Lat: 40.4, Lon: -3.7}, SeatMap: sm})
	if err != nil {
		t.Fatalf("create venue: %v", err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Testers"})
	if err != nil {
		t.Fatalf("create performer: %v", err)
	}
	prices := map[string]boxoffice.Money{}
	for i, s := range sm.Sections {
		prices[s.Name] = boxoffice.Money(10000 / (i + 1))
	}
	ev, _, _, err := db.CreateEvent(ctx, boxoffice.Event{ID: uuid.New(), Name: "Test Night", Type: "concert",
		StartsAt: time.Now().Add(30 * 24 * time.Hour), VenueID: v.ID, PerformerID: p.ID, Currency: "EUR", Prices: prices})
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return ev.ID
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startNode starts a node; opts may wrap or add to its engine's deps.
func startNode(t testing.TB, db *persistence.DB, cfg actors.Config, opts ...func(*actors.Deps)) *node {
	t.Helper()
	return startNodeWith(t, db, cfg, devpay.New(), nil, opts...)
}

// startNodeWith starts a node whose payments go to provider, or to dev
// when provider is nil; n.pay is dev either way.
func startNodeWith(t testing.TB, db *persistence.DB, cfg actors.Config, dev *devpay.Provider, provider boxoffice.PaymentProvider, opts ...func(*actors.Deps)) *node {
	t.Helper()
	n := &node{pay: dev, pub: newRecorder()}
	if provider == nil {
		provider = dev
	}
	n.jw = persistence.NewJournalWriter(db, persistence.DefaultJournalConfig())
	if cfg.Logger == nil {
		cfg.Logger = quiet()
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
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet() }))
	rc := remote.Configure("127.0.0.1", 0)
	pc := pcluster.Configure("boxoffice-test", test.NewTestProvider(test.NewInMemAgent()), disthash.New(), rc,
		pcluster.WithKinds(eng.Kind()), pcluster.WithRequestTimeout(5*time.Second))
	n.cluster = pcluster.New(sys, pc)
	n.cluster.StartMember()
	eng.Attach(n.cluster)
	t.Cleanup(n.stop)
	return n
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
	frames []delta
}

type delta struct {
	Type    string `json:"type"`
	EventID string `json:"event_id"`
	Version uint64 `json:"version"`
	Changes []struct {
		TicketID string `json:"ticket_id"`
		Status   string `json:"status"`
	} `json:"changes"`
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) PublishSeats(eventID uuid.UUID, frame []byte) error {
	var d delta
	if err := json.Unmarshal(frame, &d); err != nil {
		return fmt.Errorf("frame is not JSON: %w: %s", err, frame)
	}
	r.mu.Lock()
	r.frames = append(r.frames, d)
	r.mu.Unlock()
	return nil
}

func (r *recorder) all() []delta {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delta(nil), r.frames...)
}

func codeOf(err error) string { return boxoffice.ErrorCode(err) }
