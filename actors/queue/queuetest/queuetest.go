// Package queuetest starts real waiting rooms for tests: a migrated
// PostgreSQL database, catalog events whose waiting room is on, and
// one-member Proto.Actor clusters (in-memory provider, loopback remote)
// hosting the room grain, reached by identity exactly as a remote grain is.
// It is shared by the tests of actors/queue and api/queueroom.
package queuetest

import (
	"context"
	"io"
	"log/slog"
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
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/persistence"
)

// Key is the signing key test rooms use.
var Key = []byte("queuetest-key-0123456789abcdef!!")

// Quiet is a logger that drops everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// OpenDB opens and migrates the database at url; it closes with the test.
func OpenDB(tb testing.TB, url string) *persistence.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := persistence.Open(ctx, persistence.Config{URL: url, MaxConns: 16})
	if err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// CreateEvent stores a small catalog event with the given waiting room
// and returns it.
func CreateEvent(tb testing.TB, db *persistence.DB, room boxoffice.WaitingRoom) boxoffice.Event {
	tb.Helper()
	ctx := context.Background()
	sm := boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 10}}}}}
	v, _, err := db.CreateVenue(ctx, boxoffice.Venue{ID: uuid.New(), Name: "Queue Hall", City: "Lisbon",
		Location: boxoffice.Location{Lat: 38.7, Lon: -9.1}, SeatMap: sm})
	if err != nil {
		tb.Fatalf("create venue: %v", err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Queuers"})
	if err != nil {
		tb.Fatalf("create performer: %v", err)
	}
	ev, _, _, err := db.CreateEvent(ctx, boxoffice.Event{ID: uuid.New(), Name: "Hot On-Sale", Type: "concert",
		StartsAt: time.Now().Add(24 * time.Hour), VenueID: v.ID, PerformerID: p.ID, Currency: "EUR",
		Prices: map[string]boxoffice.Money{"A": 5000}, WaitingRoom: room})
	if err != nil {
		tb.Fatalf("create event: %v", err)
	}
	return ev
}

// SetRoom changes an event's waiting room as the admin PATCH does: in the
// events table, then at once in the room.
func SetRoom(tb testing.TB, db *persistence.DB, r *queue.Room, eventID uuid.UUID, room boxoffice.WaitingRoom) {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.UpdateEvent(ctx, eventID, persistence.EventPatch{WaitingRoom: &room}); err != nil {
		tb.Fatalf("update event: %v", err)
	}
	if err := r.SetRate(ctx, eventID, room.RatePerSecond, room.Enabled); err != nil {
		tb.Fatalf("set rate: %v", err)
	}
}

// Config is a room configuration for tests: the test key, quiet logs,
// and a short push interval.
func Config() queue.Config {
	cfg := queue.DefaultConfig()
	cfg.Key = Key
	cfg.PushInterval = 200 * time.Millisecond
	cfg.Logger = Quiet()
	return cfg
}

// Node is one running room host.
type Node struct {
	Room    *queue.Room
	Cluster *pcluster.Cluster
	once    sync.Once
}

// StartNode starts a one-member cluster hosting the room grain; it stops
// with the test, or earlier with Stop.
func StartNode(tb testing.TB, cfg queue.Config, deps queue.Deps) *Node {
	tb.Helper()
	r, err := queue.NewRoom(cfg, deps)
	if err != nil {
		tb.Fatalf("new room: %v", err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return Quiet() }))
	rc := remote.Configure("127.0.0.1", 0)
	pc := pcluster.Configure("queuetest", test.NewTestProvider(test.NewInMemAgent()), disthash.New(), rc,
		pcluster.WithKinds(r.Kind()), pcluster.WithRequestTimeout(5*time.Second))
	n := &Node{Room: r, Cluster: pcluster.New(sys, pc)}
	n.Cluster.StartMember()
	r.Attach(n.Cluster)
	tb.Cleanup(n.Stop)
	return n
}

// Stop closes the node's watchers and shuts its cluster down gracefully
// (its grains stop); it is idempotent.
func (n *Node) Stop() {
	n.once.Do(func() {
		_ = n.Room.Close()
		n.Cluster.Shutdown(true)
	})
}

// Bus is an in-process stand-in for NATS: Publish calls every subscriber
// of the subject synchronously.
type Bus struct {
	mu   sync.Mutex
	subs map[string]map[int]func([]byte)
	next int
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[string]map[int]func([]byte){}} }

// Publish implements queue.Publisher.
func (b *Bus) Publish(subject string, data []byte) error {
	b.mu.Lock()
	fns := make([]func([]byte), 0, len(b.subs[subject]))
	for _, fn := range b.subs[subject] {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(append([]byte(nil), data...))
	}
	return nil
}

// Subscribe implements queue.Subscriber.
func (b *Bus) Subscribe(subject string, fn func([]byte)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[subject] == nil {
		b.subs[subject] = map[int]func([]byte){}
	}
	id := b.next
	b.next++
	b.subs[subject][id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs[subject], id)
	}, nil
}
