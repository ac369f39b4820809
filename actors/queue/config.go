package queue

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Kind is the Proto.Actor cluster kind of the waiting-room grain; the
// identity is the event ID's text form, so each event has one room.
const Kind = "queue"

// SubjectPrefix starts the NATS subject on which a room publishes its
// watermark: boxoffice.queue.<eventID>.
const SubjectPrefix = "boxoffice.queue."

// Subject is the NATS subject of an event's watermark publications.
func Subject(eventID uuid.UUID) string { return SubjectPrefix + eventID.String() }

// Config tunes the waiting room. Zero fields take DefaultConfig's values,
// except Key, which every deployment must set.
type Config struct {
	// Key signs admission tokens and queue IDs (HMAC-SHA256). Every node
	// of a cluster needs the same key, because any node verifies tokens
	// without asking the room; at least 16 bytes, 32 recommended.
	// DeriveKey makes one from a deployment secret; a key anyone can
	// compute (WeakKey) is refused.
	Key []byte
	// AdmissionTTL caps how long an admitted user may take to reserve: the
	// admission token expires this long after the user was admitted, and
	// joining again after that queues the user at the back.
	AdmissionTTL time.Duration
	// TickInterval is how often a room admits the next few people. Smaller
	// spreads admissions more evenly; each tick that admits someone costs
	// one UPDATE of the room's row.
	TickInterval time.Duration
	// MaxJoinBatch caps how many joins one INSERT carries. Joins that
	// arrive while a batch is being written wait for the next batch, so
	// batches grow with load on their own; the cap bounds one statement.
	MaxJoinBatch int
	// RefreshInterval is how often a room re-reads its event's waiting-room
	// setting, so a PATCH made on any node takes effect without a call.
	RefreshInterval time.Duration
	// IdleTimeout passivates a room that nobody asked about for this long
	// and in which nobody waits.
	IdleTimeout time.Duration
	// RequestTimeout bounds one call to a room, activation included.
	RequestTimeout time.Duration
	// PushInterval is how often a waiting watcher is told its new position
	// at most; admission itself is pushed at once. With 100,000 watchers a
	// push to each every few seconds is what a node can afford.
	PushInterval time.Duration
	// PollInterval is how often a node asks a room for its watermark when
	// no Subscriber is wired; with one, it polls five times less often as
	// a fallback for lost messages.
	PollInterval time.Duration
	// Now is the clock; tests may move it.
	Now func() time.Time
	// Logger receives the room's logs.
	Logger *slog.Logger
	// TracerProvider traces room calls made in a traced request and the
	// grain's handling of them; nil traces nothing.
	TracerProvider trace.TracerProvider
}

// DefaultConfig returns the production settings; Key must still be set.
func DefaultConfig() Config {
	return Config{
		AdmissionTTL:    10 * time.Minute,       // the same as a hold
		TickInterval:    100 * time.Millisecond, // 10 admission steps a second
		MaxJoinBatch:    2000,                   // ~64 KB of parameters per INSERT
		RefreshInterval: 2 * time.Second,
		IdleTimeout:     2 * time.Minute,
		RequestTimeout:  5 * time.Second,
		PushInterval:    3 * time.Second,
		PollInterval:    time.Second,
		Now:             time.Now,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case WeakKey(c.Key):
		return errors.New("queue: Config.Key must be at least 16 bytes and not derived from an empty secret (see DeriveKey)")
	case c.AdmissionTTL <= 0:
		return errors.New("queue: AdmissionTTL must be positive")
	case c.TickInterval <= 0 || c.TickInterval > time.Second:
		return errors.New("queue: TickInterval must be in (0, 1s]")
	case c.MaxJoinBatch < 1:
		return errors.New("queue: MaxJoinBatch must be at least 1")
	case c.RefreshInterval <= 0 || c.IdleTimeout <= 0 || c.RequestTimeout <= 0 ||
		c.PushInterval <= 0 || c.PollInterval <= 0:
		return errors.New("queue: intervals and timeouts must be positive")
	}
	return nil
}

func (c Config) withDefaults() Config { return boxoffice.WithDefaults(c, DefaultConfig()) }

// Events reads an event's waiting-room setting (boxoffice.Event.WaitingRoom),
// which the admin PATCH writes; *persistence.DB implements it. An unknown
// event is not_found, and so is its room.
type Events interface {
	Event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error)
}

// Publisher sends a room's watermark to every node; *nats.Conn implements
// it. Publish must not block for long: it runs in the room's actor.
type Publisher interface {
	Publish(subject string, data []byte) error
}

// Subscriber delivers the watermarks Publisher sent. cmd adapts *nats.Conn:
//
//	func(subj string, fn func([]byte)) (func(), error) {
//		s, err := nc.Subscribe(subj, func(m *nats.Msg) { fn(m.Data) })
//		if err != nil { return nil, err }
//		return func() { _ = s.Unsubscribe() }, nil
//	}
//
// fn is called one message at a time and must not keep data after it
// returns; cancel stops the calls and is called once.
type Subscriber interface {
	Subscribe(subject string, fn func(data []byte)) (cancel func(), err error)
}

// SubscriberFunc adapts a function to Subscriber.
type SubscriberFunc func(subject string, fn func(data []byte)) (func(), error)

// Subscribe implements Subscriber.
func (f SubscriberFunc) Subscribe(subject string, fn func(data []byte)) (func(), error) {
	return f(subject, fn)
}

// Deps are the room's collaborators. Store and Events are required; Store
// is the room's storage contract (boxoffice.QueueStore, which
// *persistence.DB implements).
// Without Publisher and Subscriber each node polls each room it watches
// every PollInterval instead of hearing admissions at once.
type Deps struct {
	Store      boxoffice.QueueStore
	Events     Events
	Publisher  Publisher
	Subscriber Subscriber
}
