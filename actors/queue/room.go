package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queuepb"
	"github.com/boxoffice/boxoffice/cluster"
)

// Room is the node's entry point to the waiting rooms: it sends each call
// to the room grain of its event through the cluster, wherever that grain
// lives, renders places for their owners (queue IDs, tokens) with the key
// every node shares, and runs this node's watchers (see Subscribe).
type Room struct {
	cfg   Config
	deps  Deps
	rooms *cluster.Client // calls the room grains

	mu     sync.Mutex // guards hubs and closed
	hubs   map[uuid.UUID]*hub
	closed bool
	wg     sync.WaitGroup // the hubs' goroutines
}

// Stats is a room's progress, for watchers, tests and the admin view.
type Stats struct {
	Enabled       bool
	RatePerSecond int
	// Joined is how many places were ever handed out (re-joins included).
	Joined int64
	// Admitted is the watermark: places 1..Admitted are admitted.
	Admitted int64
	// AdmittedAt is when the watermark last rose.
	AdmittedAt time.Time
}

// Waiting is how many places wait for admission.
func (s Stats) Waiting() int64 { return s.Joined - s.Admitted }

// NewRoom checks the configuration; call Kind to register the grain with
// the cluster, then Attach once the cluster has started.
func NewRoom(cfg Config, deps Deps) (*Room, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Events == nil {
		return nil, errors.New("queue: Deps.Store and Deps.Events are required")
	}
	rooms := cluster.NewClient(Kind, cfg.RequestTimeout, cfg.Logger, cluster.ClientText{
		Starting:    "the waiting room is starting; retry shortly",
		Moving:      "the waiting room is moving to another node; retry shortly",
		Unreachable: "the waiting room is unreachable right now; retry shortly",
	})
	rooms.SetTracerProvider(cfg.TracerProvider)
	return &Room{cfg: cfg, deps: deps, rooms: rooms, hubs: map[uuid.UUID]*hub{}}, nil
}

// Kind returns the cluster kind that hosts this node's room grains.
func (r *Room) Kind() *pcluster.Kind {
	props := actor.PropsFromProducer(func() actor.Actor { return newGrain(r) })
	return pcluster.NewKind(Kind, props)
}

// Attach gives the room the cluster it calls grains through; calls give up
// as soon as the member hosting the room leaves (cluster.Caller).
// Close ends the topology subscription this makes; attaching again
// replaces, and closes, the earlier one.
func (r *Room) Attach(c *pcluster.Cluster) { r.rooms.Attach(c) }

// Join gives userID a place in eventID's waiting room, or returns the
// place the user already holds (same queue ID, same position). A user whose
// admission ran out is queued again at the back. The reply comes only once
// the place is durable. Errors: not_found for an unknown event, unavailable
// when the room cannot be reached or written (safe to retry).
func (r *Room) Join(ctx context.Context, eventID, userID uuid.UUID) (Status, error) {
	p, err := r.placeCall(ctx, eventID, &queuepb.Join{UserId: userID[:]})
	if err != nil {
		return Status{}, err
	}
	return r.status(eventID, queueID(r.cfg.Key, eventID, p.seq), p, r.cfg.Now()), nil
}

// Status returns the place queueID names, as its owner sees it now. A
// queue ID not made for this event, or a place given up by re-joining, is
// not_found (expired instead once the room has forgotten places whose
// admission ran out, as it does to bound its memory); unavailable as for
// Join.
func (r *Room) Status(ctx context.Context, eventID, queueID uuid.UUID) (Status, error) {
	p, err := r.lookup(ctx, eventID, queueID)
	if err != nil {
		return Status{}, err
	}
	return r.status(eventID, queueID, p, r.cfg.Now()), nil
}

// lookup asks the grain about the place queueID names.
func (r *Room) lookup(ctx context.Context, eventID, id uuid.UUID) (place, error) {
	seq, ok := parseQueueID(r.cfg.Key, eventID, id)
	if !ok {
		return place{}, errNoPlace
	}
	return r.placeCall(ctx, eventID, &queuepb.GetStatus{Seq: seq})
}

var errNoPlace = boxoffice.Errorf(boxoffice.ENotFound, "no such place in this event's waiting room")

// SetRate applies an event's waiting-room setting at once; the admin PATCH
// calls it after writing the events table, which rooms otherwise re-read
// every RefreshInterval. perSecond 0 with enabled pauses admission;
// disabled admits everyone at once. The room's on-period is read from
// Deps.Events, where the write that switched the room on bumped it.
// Errors: not_found, unavailable.
func (r *Room) SetRate(ctx context.Context, eventID uuid.UUID, perSecond int, enabled bool) error {
	if perSecond < 0 || perSecond > 1_000_000 {
		return boxoffice.InvalidField("rate_per_second", "rate_per_second must be 0..1000000")
	}
	ev, err := r.deps.Events.Event(ctx, eventID)
	if err != nil {
		return fmt.Errorf("queue %s: read setting: %w", eventID, err)
	}
	a, err := cluster.Call[*queuepb.Ack](ctx, r.rooms, eventID.String(), &queuepb.SetRate{
		PerSecond: int32(perSecond), Enabled: enabled, Period: ev.WaitingRoom.Period})
	if err != nil {
		return err
	}
	return a.Error.Err()
}

// Stats returns the room's progress. Errors: not_found, unavailable.
func (r *Room) Stats(ctx context.Context, eventID uuid.UUID) (Stats, error) {
	w, err := r.watermark(ctx, eventID)
	if err != nil {
		return Stats{}, err
	}
	return statsFromPB(w), nil
}

func (r *Room) watermark(ctx context.Context, eventID uuid.UUID) (*queuepb.Watermark, error) {
	w, err := cluster.Call[*queuepb.Watermark](ctx, r.rooms, eventID.String(), &queuepb.GetStats{})
	if err != nil {
		return nil, err
	}
	if err := w.Error.Err(); err != nil {
		return nil, err
	}
	return w, nil
}

func statsFromPB(w *queuepb.Watermark) Stats {
	return Stats{Enabled: w.Enabled, RatePerSecond: int(w.Rate), Joined: w.NextSeq - 1,
		Admitted: w.AdmittedUpto, AdmittedAt: time.Unix(0, w.At)}
}

func (r *Room) placeCall(ctx context.Context, eventID uuid.UUID, msg proto.Message) (place, error) {
	p, err := cluster.Call[*queuepb.Place](ctx, r.rooms, eventID.String(), msg)
	if err != nil {
		return place{}, err
	}
	if err := p.Error.Err(); err != nil {
		return place{}, err
	}
	return placeFromPB(p), nil
}

// Close stops this node's watchers and closes their subscriptions. Grains
// stop with the cluster. It is idempotent.
func (r *Room) Close() error {
	r.mu.Lock()
	r.closed = true
	hubs := r.hubs
	r.hubs = map[uuid.UUID]*hub{}
	r.mu.Unlock()
	for _, h := range hubs {
		h.close()
	}
	r.wg.Wait()
	r.rooms.Close() // the topology subscription Attach made
	return nil
}
