package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/cluster"
)

// Kind is the Proto.Actor cluster kind of the event grain; the identity is
// the event ID's text form.
const Kind = "event"

// Config tunes the seat engine. Zero fields take DefaultConfig's values.
type Config struct {
	// NodeName is the stable node name written into the ownership row and
	// shown by the admin API.
	NodeName string
	// HoldTTL is how long a hold lasts (API.md: 10 minutes by default);
	// tests shorten it to seconds.
	HoldTTL time.Duration
	// SnapshotEvery is how many journal records a grain writes between
	// snapshots; smaller means faster activation, more snapshot writes.
	SnapshotEvery int
	// IdleTimeout passivates a grain that received no command for this
	// long and holds nothing (a grain with live holds stays up so that they
	// expire on time).
	IdleTimeout time.Duration
	// MaxActive is the node's memory budget in active event actors (0: no
	// limit). Each active event keeps its seat map, holds and subscribers
	// in memory (docs/benchmarks.md measures the bytes); a passivated one
	// keeps nothing. When an activation takes the node over the budget,
	// the least recently used idle grains (no commit in flight, no payment
	// or refund running) passivate, after a snapshot, even with live holds:
	// those are durable (I2) and the sweeper wakes the event when one is
	// due (I3), so nothing acknowledged is lost.
	MaxActive int
	// TickInterval is how often a grain looks for expired holds; it bounds
	// how late a hold may end (I3 allows one second).
	TickInterval time.Duration
	// CountsInterval is how often a grain with changes reports its seat
	// counts (search shows them as available_seats).
	CountsInterval time.Duration
	// MaxLinger bounds how long a grain holds its next commit back for
	// the callers of the last one to return (see grain.linger); negative
	// turns lingering off.
	MaxLinger time.Duration
	// RulesRefresh is how often the engine re-reads the sale rules of its
	// active events (one query for all, poll.go) and sends the changed ones
	// to their grains; PATCHes reach them at once (Engine.UpdateRules), so
	// this only bounds how long a lost push leaves one with old ones.
	RulesRefresh time.Duration
	// RequestTimeout bounds one grain call, activation included.
	RequestTimeout time.Duration
	// PaymentTimeout bounds one call to the payment provider.
	PaymentTimeout time.Duration
	// PaymentAttempts is how many times a charge whose outcome is unknown
	// (a timeout, a lost answer) is asked of the provider with the same
	// key before it is voided; the hold stays pinned meanwhile, so more
	// attempts keep seats held longer for a provider that is slow.
	PaymentAttempts int
	// PaymentBackoff is the wait before the second call of a charge,
	// doubling after each (at most PaymentTimeout).
	PaymentBackoff time.Duration
	// PaymentActionWindow is how long a payment that needs the buyer's
	// action (3-D Secure) waits, its hold pinned, for the provider's
	// notification before the provider is asked and the attempt voided.
	PaymentActionWindow time.Duration
	// ReconcileInterval is how often an active grain asks the provider
	// about its event's pending payments that no run of its own is
	// settling (it also does at activation; the engine lists them for all
	// active events in one query, poll.go): a charge that succeeded just
	// before the database or the node died is sold or given back, and a
	// payment waiting for the buyer past its bound is settled. At most an
	// hour, so that a lost answer never keeps seats pinned for long.
	ReconcileInterval time.Duration
	// Now is the clock; tests may move it.
	Now func() time.Time
	// Logger receives the engine's logs.
	Logger *slog.Logger
	// TracerProvider traces grain calls made in a traced request, the
	// grain's handling of them on the owner node and the publishing of
	// their deltas; nil traces nothing.
	TracerProvider trace.TracerProvider
	// BookingsWindow, when positive, writes the bookings of holds (held,
	// released, expired) behind the journal instead of in its commit: a
	// projector coalesces them for this long and writes them in one
	// transaction with each event's watermark (projector.go), so a hold
	// costs its reply no PostgreSQL row and a hold that ends within the
	// window is never written. Deps.Projection is then required. Zero
	// writes every booking row in the journal's commit, as before.
	BookingsWindow time.Duration
}

// DefaultBookingsWindow is the node's default Config.BookingsWindow
// (BOXOFFICE_BOOKINGS_WINDOW): the window the benchmarks in
// docs/benchmarks.md measured. The engine's own zero value stays "in the
// journal's commit", since a window needs Deps.Projection.
const DefaultBookingsWindow = 100 * time.Millisecond

// MaxReconcileInterval bounds Config.ReconcileInterval.
const MaxReconcileInterval = time.Hour

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{
		NodeName:       "node",
		HoldTTL:        10 * time.Minute,
		SnapshotEvery:  10_000,
		IdleTimeout:    5 * time.Minute,
		TickInterval:   200 * time.Millisecond,
		CountsInterval: 2 * time.Second,
		MaxLinger:      time.Millisecond,
		RulesRefresh:   30 * time.Second,
		RequestTimeout: 5 * time.Second,
		PaymentTimeout: 30 * time.Second,
		Now:            time.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),

		// A payment whose outcome is unknown: about 15 s of backoff
		// (1, 2, 4, 8 s) between 5 calls, then it is voided.
		PaymentAttempts: 5,
		PaymentBackoff:  time.Second,

		// The buyer's action (3-D Secure) settles by webhook within this.
		PaymentActionWindow: 15 * time.Minute,

		ReconcileInterval: time.Minute,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.HoldTTL <= 0:
		return errors.New("actors: HoldTTL must be positive")
	case c.SnapshotEvery < 1:
		return errors.New("actors: SnapshotEvery must be at least 1")
	case c.TickInterval <= 0 || c.TickInterval > time.Second:
		return errors.New("actors: TickInterval must be in (0, 1s] so holds end within a second")
	case c.RequestTimeout <= 0 || c.PaymentTimeout <= 0 || c.IdleTimeout <= 0 || c.CountsInterval <= 0 || c.RulesRefresh <= 0:
		return errors.New("actors: timeouts must be positive")
	case c.MaxActive < 0:
		return errors.New("actors: MaxActive must not be negative")
	case c.PaymentAttempts < 1 || c.PaymentBackoff <= 0:
		return errors.New("actors: PaymentAttempts must be at least 1 and PaymentBackoff positive")
	case c.BookingsWindow < 0 || c.BookingsWindow > time.Minute:
		return errors.New("actors: BookingsWindow must be in [0, 1m]")
	case c.ReconcileInterval <= 0 || c.ReconcileInterval > MaxReconcileInterval:
		return fmt.Errorf("actors: ReconcileInterval must be in (0, %s]", MaxReconcileInterval)
	}
	return nil
}

func (c Config) withDefaults() Config { return boxoffice.WithDefaults(c, DefaultConfig()) }

// Publisher carries committed seat deltas to every node's WebSocket hub;
// cmd encodes them with the API's wire format (api.DeltaFrame) and puts
// them on the bus.
type Publisher interface {
	PublishSeats(d boxoffice.SeatDelta) error
}

// Deps are the engine's collaborators. Store and Journal are the engine's
// storage contract (the root package's EventStore and Journal); cmd passes
// *persistence.DB and *persistence.JournalWriter.
type Deps struct {
	Store     boxoffice.EventStore
	Journal   boxoffice.Journal
	Publisher Publisher
	Payments  boxoffice.PaymentProvider
	// OnCounts, if set, receives each grain's seat counts at most every
	// CountsInterval while they change (search's available_seats).
	OnCounts func(eventID uuid.UUID, version uint64, c boxoffice.SeatCounts)
	// Metrics, if set, counts what the engine does.
	Metrics Metrics
	// Projection receives the bookings of holds when Config.BookingsWindow
	// is positive; with it set and the window zero, only events left
	// behind by an earlier run with a window are caught up.
	Projection boxoffice.BookingProjection
	// BeforeProjection, when set, runs before each write of the bookings
	// projection; an error keeps the rows pending. A test hook: it stops
	// the projection after the journal commit, as a crash would.
	BeforeProjection func() error
}

// Metrics receives counts of engine outcomes; the api package implements it
// with Prometheus counters.
type Metrics interface {
	// Outcome counts one decided command: op is reserve, release, confirm,
	// expire; result is ok or an error code, or replayed for a repeated
	// keyed reserve answered with its first reply.
	Outcome(op, result string, seats int)
}

// Engine is the node's entry point to the event grains. It implements
// boxoffice.SeatEngine by sending each call to the grain of its event
// through the cluster, wherever that grain lives.
type Engine struct {
	cfg  Config
	deps Deps
	// grains calls the event grains; its cluster's placement also tells
	// the sweeper which events are this node's.
	grains *cluster.Client
	// tracer is cfg.TracerProvider's, nil when the node does not trace.
	tracer trace.Tracer
	// active maps the IDs of the events whose grains run on this node to
	// their *resident entries, for the admin placement view and the
	// memory budget (budget.go).
	active sync.Map
	budget budget

	// failedMu guards failed: the events whose last activation on this
	// node failed, and until when the next one waits (see holdOff).
	failedMu sync.Mutex
	failed   map[uuid.UUID]activationFailures

	// pay counts the payment runs in flight, for Drain.
	pay *payments
	// loads batches the activations of this node's grains when the store
	// can (boxoffice.ActivationLoader; activate_batch.go), nil otherwise.
	loads *loadBatcher
	// proj writes the bookings of holds behind the journal (with
	// Config.BookingsWindow) and catches events up; nil without
	// Deps.Projection.
	proj *projector
	// polls is the goroutine that re-reads the rules and lists the pending
	// payments of all active events (poll.go); pollMu guards it.
	pollMu sync.Mutex
	polls  *polls
}

// Bounds of the pause between failed activations of one event. The first
// pauses are short so that an event whose activations failed only while
// PostgreSQL restarted is back within a fraction of a second of it; a
// lasting fault reaches the cap after a dozen attempts.
const (
	activationBackoffMin = 50 * time.Millisecond
	activationBackoffMax = 30 * time.Second
	maxFailedEvents      = 1024 // failures kept before stale ones are swept
)

// activationFailures counts an event's consecutive failed activations.
type activationFailures struct {
	n     int
	until time.Time
}

// holdOff reports how long an activation of eventID must still wait after
// the event's last failed one. Every activation takes a new epoch and
// writes an ownership_history row, and each caller's request starts one, so
// without a pause a broken event turns its callers into a storm of
// activations against PostgreSQL.
func (e *Engine) holdOff(eventID uuid.UUID, now time.Time) time.Duration {
	e.failedMu.Lock()
	defer e.failedMu.Unlock()
	f, ok := e.failed[eventID]
	if !ok || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// activated records the outcome of an activation: a failure doubles the
// pause before the next (from activationBackoffMin to
// activationBackoffMax), a success forgets the failures.
func (e *Engine) activated(eventID uuid.UUID, now time.Time, failed bool) {
	e.failedMu.Lock()
	defer e.failedMu.Unlock()
	if !failed {
		delete(e.failed, eventID)
		return
	}
	if e.failed == nil {
		e.failed = map[uuid.UUID]activationFailures{}
	}
	if len(e.failed) >= maxFailedEvents {
		// Bound the map: forget events not tried again since their pause
		// ended long ago (they restart from the shortest pause).
		for id, f := range e.failed {
			if now.Sub(f.until) > activationBackoffMax {
				delete(e.failed, id)
			}
		}
	}
	f := e.failed[eventID]
	f.n++
	wait := activationBackoffMax
	if f.n <= 11 { // 50ms << 10 = 51s: capped from there on
		wait = min(activationBackoffMin<<(f.n-1), activationBackoffMax)
	}
	f.until = now.Add(wait)
	e.failed[eventID] = f
}

// Active lists the events whose actors are active on this node.
func (e *Engine) Active() []uuid.UUID {
	var out []uuid.UUID
	e.active.Range(func(k, _ any) bool {
		out = append(out, k.(uuid.UUID))
		return true
	})
	return out
}

var _ boxoffice.SeatEngine = (*Engine)(nil)

// NewEngine checks the configuration; call Kind to register the grain with
// the cluster, then Attach once the cluster has started.
func NewEngine(cfg Config, deps Deps) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Journal == nil || deps.Payments == nil {
		return nil, errors.New("actors: Store, Journal and Payments are required")
	}
	grains := cluster.NewClient(Kind, cfg.RequestTimeout, cfg.Logger, cluster.ClientText{
		Starting:    "the seat engine is starting; retry shortly",
		Moving:      "the event's seat engine is moving to another node; retry shortly",
		Unreachable: "the event's seat engine is unreachable right now; retry shortly",
	})
	grains.SetTracerProvider(cfg.TracerProvider)
	e := &Engine{cfg: cfg, deps: deps, grains: grains, pay: newPayments()}
	if l, ok := deps.Store.(boxoffice.ActivationLoader); ok {
		e.loads = &loadBatcher{loader: l, node: cfg.NodeName, timeout: cfg.RequestTimeout,
			since: func() time.Time { return cfg.Now().Add(-boxoffice.IdempotencyWindow) }}
	}
	if cfg.BookingsWindow > 0 && deps.Projection == nil {
		return nil, errors.New("actors: BookingsWindow needs Deps.Projection")
	}
	if deps.Projection != nil {
		// Also with BookingsWindow zero: an event projected behind before
		// (a node ran with a window) is caught up at its activation.
		window := cfg.BookingsWindow
		if window <= 0 {
			window = 100 * time.Millisecond
		}
		e.proj = newProjector(deps.Projection, window, cfg.RequestTimeout, cfg.Logger, deps.BeforeProjection)
	}
	if cfg.TracerProvider != nil {
		e.tracer = cfg.TracerProvider.Tracer(tracerName)
	}
	return e, nil
}

// Kind returns the cluster kind that hosts this engine's grains on this node.
func (e *Engine) Kind() *pcluster.Kind {
	props := actor.PropsFromProducer(func() actor.Actor { return newGrain(e) })
	return pcluster.NewKind(Kind, props)
}

// Attach gives the engine the cluster it calls grains through. Its calls
// give up as soon as the member hosting the grain leaves (cluster.Caller),
// for as long as the cluster's actor system runs.
//
// Attach subscribes to the cluster's topology events: Close ends that
// subscription (the actor system's event stream would otherwise keep the
// Caller, and run its handler on every topology change, for as long as the
// system lives). Attaching again replaces, and closes, the earlier Caller.
//
// Attach also starts the engine's polls of its active events (poll.go),
// which Drain and Close stop.
func (e *Engine) Attach(c *pcluster.Cluster) {
	e.grains.Attach(c)
	e.startPolls(c.ActorSystem)
}

// Close detaches the engine from its cluster; later calls answer
// unavailable. Call it once the node no longer serves requests.
// Idempotent.
func (e *Engine) Close() {
	e.grains.Close()
	e.stopPolls()
	if e.proj != nil {
		e.proj.close()
	}
}

// request sends msg to the event's grain and returns its reply.
func (e *Engine) request(ctx context.Context, eventID uuid.UUID, msg proto.Message) (any, error) {
	return e.grains.Request(ctx, eventID.String(), msg)
}
