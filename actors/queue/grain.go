package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/queuepb"
	"github.com/boxoffice/boxoffice/cluster"
)

// grain is one event's waiting room. Every field is owned by the actor's
// Receive loop; the goroutines it starts (the ticker, the writes) talk to
// it only by sending messages to its PID.
//
// Places are dense sequence numbers from 1. users[seq-1-forgot] is the
// owner of place seq (uuid.Nil once its owner re-joined elsewhere) and
// seqOf the reverse, so memory is about 16 bytes of slice plus one map
// entry per place. Places whose admission ran out are forgotten (see
// forget), so memory follows the places still waiting or admitted, not
// every place the room ever gave out.
type grain struct {
	cluster.Host // identity, load, panics, refusals, owned goroutines
	r            *Room
	log          *slog.Logger

	eventID uuid.UUID
	epoch   int64
	// instance tells this actor instance from the others that ran behind
	// the same PID (Proto.Actor restarts a panicking actor in place).
	instance uint64
	loaded   bool
	loadErr  error // why activation failed, if it did
	broken   bool  // a write failed: refuse everything until stopped

	enabled bool
	rate    int
	// period is the room's on-period (boxoffice.WaitingRoom.Period) and
	// base the watermark when it began: places at or below base were
	// admitted, or open, before it and do not admit in it.
	period int64
	base   int64

	users   []uuid.UUID
	seqOf   map[uuid.UUID]uint32
	forgot  int64 // places 1..forgot expired and are no longer in users and seqOf
	durable int64 // places 1..durable are in PostgreSQL
	upto    int64 // durable watermark
	admit   admissions

	joins joinBatcher

	// credit is how many admissions the rate has earned and not yet used.
	credit    float64
	lastTick  time.Time
	admitting int64 // the watermark being written, 0 when none is in flight

	ctx    context.Context // cancelled when the grain stops; bounds its I/O
	cancel context.CancelFunc
}

// instances numbers room grain instances in this process.
var instances atomic.Uint64

func newGrain(r *Room) *grain {
	return &grain{Host: cluster.Host{Log: r.cfg.Logger, Name: "room"}, r: r, log: r.cfg.Logger,
		instance: instances.Add(1)}
}

// activation identifies one activation of a room: its epoch and the actor
// instance that took it.
type activation struct {
	epoch    int64
	instance uint64
}

func (g *grain) activation() activation { return activation{epoch: g.epoch, instance: g.instance} }

// toSelf carries every message the grain sends itself (ticks, settings,
// write outcomes) with the activation that sent it. Another activation
// drops it: after an in-place restart, a late flushDone of the previous
// instance would answer the new instance's joiners before their places are
// durable, or index an empty in-flight batch and panic again.
type toSelf struct {
	from activation
	msg  any
}

func (toSelf) NotInfluenceReceiveTimeout() {}

// Messages the grain sends itself, always inside a toSelf, which implements
// NotInfluenceReceiveTimeout so that they do not keep an idle room alive.
type (
	tick     struct{}
	settings struct {
		enabled bool
		rate    int
		period  int64
	}
	flushDone struct{ err error }
	admitDone struct {
		upto int64
		at   time.Time
		err  error
	}
)

// Receive implements actor.Actor.
func (g *grain) Receive(ctx actor.Context) {
	defer g.Contain(ctx, g.failPanic, func() []any { return []any{"event", g.eventID, "epoch", g.epoch} })
	if h := receiveHook.Load(); h != nil {
		(*h)(ctx.Message())
	}
	msg := ctx.Message()
	if m, ok := msg.(toSelf); ok {
		if m.from != g.activation() {
			g.log.Debug("room dropped a message of an earlier activation", "event", g.eventID,
				"type", fmt.Sprintf("%T", m.msg), "epoch", m.from.epoch, "current_epoch", g.epoch)
			return
		}
		msg = m.msg
	}
	defer g.traceCall(msg)()
	switch msg := msg.(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, msg.Identity.Identity)
	case *actor.ReceiveTimeout:
		g.maybePassivate(ctx)
	case *actor.Stopping:
		g.joins.failAll(ctx, errStopping)
	case *actor.Restarting:
		// A panic escaped contain: this instance is replaced in place.
		g.joins.failAll(ctx, errBroken)
		g.shutdown()
	case *actor.Stopped:
		g.shutdown()
	case tick:
		g.onTick(ctx)
	case settings:
		g.applySettings(ctx, msg)
	case flushDone:
		g.onFlushed(ctx, msg.err)
	case admitDone:
		g.onAdmitted(ctx, msg)
	case *queuepb.Join:
		g.join(ctx, msg)
	case *queuepb.GetStatus:
		g.getStatus(ctx, msg)
	case *queuepb.GetStats:
		if !g.refuse(ctx) {
			ctx.Respond(g.watermark())
		}
	case memQuery:
		ctx.Respond(memReply{users: len(g.users), seqOf: len(g.seqOf), forgot: g.forgot})
	case *queuepb.SetRate:
		if !g.refuse(ctx) {
			g.applySettings(ctx, settings{enabled: msg.Enabled, rate: int(msg.PerSecond), period: msg.Period})
			ctx.Respond(&queuepb.Ack{})
		}
	}
}

var (
	errStopping = boxoffice.Errorf(boxoffice.EUnavailable, "the waiting room is moving; retry shortly")
	errBroken   = boxoffice.Errorf(boxoffice.EUnavailable, "the waiting room is recovering; retry shortly")
)

// failPanic fails the grain after a panic (see cluster.Host.Contain);
// a caller gets "unavailable" now, not at its timeout.
func (g *grain) failPanic(ctx actor.Context, err error) {
	g.fail(ctx, err)
	if ctx.Sender() != nil {
		g.refuse(ctx)
	}
}

// receiveHook, when set, sees every message before the grain handles it
// (tests panic from it).
var receiveHook atomic.Pointer[func(msg any)]

// refuse answers an error when the grain cannot serve (activation or a
// write failed); it reports whether it did.
func (g *grain) refuse(ctx actor.Context) bool {
	return cluster.Refuse(ctx, g.loaded && !g.broken, g.loadErr, boxoffice.ErrorMessage(errBroken),
		func(code, message string) any {
			err := &grainpb.Error{Code: code, Message: message}
			switch ctx.Message().(type) {
			case *queuepb.GetStats:
				return &queuepb.Watermark{Error: err}
			case memQuery:
				return memReply{users: len(g.users), seqOf: len(g.seqOf), forgot: g.forgot}
			case *queuepb.SetRate:
				return &queuepb.Ack{Error: err}
			default:
				return &queuepb.Place{Error: err}
			}
		})
}

// activate reads the event's setting, takes the room with a new epoch
// (fencing off any older activation) and loads every place in order.
func (g *grain) activate(ctx actor.Context, identity string) {
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if err := g.Activate(g.ctx, identity, &g.eventID, g.r.cfg.RequestTimeout, cluster.Activation{Load: g.load}); err != nil {
		g.loadErr = err
		g.fail(ctx, err)
		return
	}
	g.loaded = true
	g.log.Info("room activated", "event", g.eventID, "epoch", g.epoch, "places", g.durable,
		"admitted", g.upto, "took", g.Took())
	ctx.SetReceiveTimeout(g.r.cfg.IdleTimeout)
	g.startTicker(ctx)
}

func (g *grain) load(ctx context.Context) error {
	ev, err := g.r.deps.Events.Event(ctx, g.eventID)
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	g.enabled, g.rate = ev.WaitingRoom.Enabled, ev.WaitingRoom.RatePerSecond
	room, err := g.r.deps.Store.OpenQueue(ctx, g.eventID)
	if err != nil {
		return fmt.Errorf("open room: %w", err)
	}
	g.epoch, g.upto = room.Epoch, room.AdmittedUpto
	g.period, g.base = room.Period, room.PeriodBase
	if p := ev.WaitingRoom.Period; p > g.period {
		// Switched on while no activation watched: everything admitted
		// so far was admitted before. The next write records it.
		g.period, g.base = p, g.upto
	}
	g.durable = room.NextSeq - 1
	g.users = make([]uuid.UUID, g.durable, g.durable+g.durable/4+64)
	g.seqOf = make(map[uuid.UUID]uint32, g.durable)
	err = g.r.deps.Store.QueueEntries(ctx, g.eventID, func(e boxoffice.QueueEntry) error {
		if e.Seq < 1 || e.Seq > g.durable {
			return fmt.Errorf("place %d outside 1..%d", e.Seq, g.durable)
		}
		g.users[e.Seq-1] = e.UserID
		g.seqOf[e.UserID] = uint32(e.Seq)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load places: %w", err)
	}
	g.admit = newAdmissions(g.upto, room.AdmittedAt)
	g.joins = newJoinBatcher(g.durable + 1)
	g.lastTick = g.r.cfg.Now()
	return nil
}

// fail marks the grain broken and stops it; waiting joiners get
// "unavailable", and the next call activates a fresh instance that
// rebuilds from PostgreSQL.
func (g *grain) fail(ctx actor.Context, cause error) {
	g.broken = true
	g.joins.failAll(ctx, errBroken)
	if _, ok := ctx.Message().(*pcluster.ClusterInit); !ok {
		if errors.Is(cause, boxoffice.ErrFenced) {
			g.log.Info("room fenced off by a newer activation", "event", g.eventID)
		} else {
			g.log.Warn("room failed", "event", g.eventID, "err", cause)
		}
	}
	ctx.Poison(ctx.Self())
}

// startPeriod begins on-period period (the room was switched on again):
// every place admitted so far, or being admitted by a write in flight,
// was admitted before it and has to queue again, behind those waiting.
// The base reaches PostgreSQL with the next write (AdmitQueue carries it),
// before any admission of the new period; a new activation that finds the
// period newer than its row computes the same base from the watermark.
func (g *grain) startPeriod(period int64) {
	base := max(g.upto, g.admitting)
	if len(g.joins.inflight) > 0 {
		base = max(base, g.joins.admitTo)
	}
	g.period, g.base = period, base
}

// startTicker starts the goroutine that drives admission and re-reads the
// event's setting; shutdown stops it.
func (g *grain) startTicker(ctx actor.Context) {
	self, root, from := ctx.Self(), ctx.ActorSystem().Root, g.activation()
	g.StartTicker(g.r.cfg.TickInterval, func() { root.Send(self, toSelf{from, tick{}}) },
		g.r.cfg.RefreshInterval, func() {
			if s, ok := g.readSettings(); ok {
				root.Send(self, toSelf{from, s})
			}
		})
}

// readSettings re-reads the event's waiting-room setting; it runs on the
// ticker goroutine, outside the actor.
func (g *grain) readSettings() (settings, bool) {
	c, cancel := context.WithTimeout(g.ctx, g.r.cfg.RequestTimeout)
	defer cancel()
	ev, err := g.r.deps.Events.Event(c, g.eventID)
	if err != nil {
		g.log.Debug("room could not re-read its setting", "event", g.eventID, "err", err)
		return settings{}, false
	}
	return settings{enabled: ev.WaitingRoom.Enabled, rate: ev.WaitingRoom.RatePerSecond,
		period: ev.WaitingRoom.Period}, true
}

// goWrite runs a PostgreSQL write off the actor and sends its outcome back.
func (g *grain) goWrite(ctx actor.Context, write func(context.Context) any) {
	self, root, from := ctx.Self(), ctx.ActorSystem().Root, g.activation()
	timeout := g.r.cfg.RequestTimeout
	g.Go(func() {
		c, cancel := context.WithTimeout(g.ctx, timeout)
		defer cancel()
		root.Send(self, toSelf{from, write(c)})
	})
}

// shutdown stops the goroutines the grain owns and waits for them.
func (g *grain) shutdown() {
	if g.cancel != nil {
		g.cancel()
	}
	g.Shutdown()
}

// maybePassivate stops an idle room in which nobody waits and nothing is
// being written.
func (g *grain) maybePassivate(ctx actor.Context) {
	if !g.loaded || g.durable > g.upto || g.joins.busy() || g.admitting != 0 {
		// Proto.Actor's receive timeout fires once and is then off: arm
		// it again, or a room busy when it fired would never passivate.
		ctx.SetReceiveTimeout(g.r.cfg.IdleTimeout)
		return
	}
	ctx.Poison(ctx.Self())
}

func (g *grain) applySettings(ctx actor.Context, s settings) {
	enabled, rate := s.enabled, s.rate
	newPeriod := s.period > g.period
	// A setting of an older period was read before the switch-on this
	// room already applied (a re-read racing SetRate): it is stale.
	if !g.loaded || s.period < g.period || (enabled == g.enabled && rate == g.rate && !newPeriod) {
		return
	}
	g.log.Info("room setting changed", "event", g.eventID, "enabled", enabled, "rate", rate, "period", s.period)
	if newPeriod {
		g.startPeriod(s.period)
	}
	g.enabled, g.rate = enabled, rate
	if rate == 0 {
		g.credit = 0
	}
	g.publish(ctx)
}

func (g *grain) getStatus(ctx actor.Context, msg *queuepb.GetStatus) {
	if g.refuse(ctx) {
		return
	}
	if msg.Seq < 1 || msg.Seq > g.durable || (msg.Seq > g.forgot && g.users[msg.Seq-1-g.forgot] == uuid.Nil) {
		ctx.Respond(&queuepb.Place{Error: grainpb.ErrorOf(errNoPlace)})
		return
	}
	ctx.Respond(g.place(msg.Seq))
}

// place describes a durable place. A forgotten place is described without
// its owner: its admission ran out, so no token is made for it.
func (g *grain) place(seq int64) *queuepb.Place {
	var u uuid.UUID
	if seq > g.forgot {
		u = g.users[seq-1-g.forgot]
	}
	p := &queuepb.Place{Seq: seq, UserId: u[:], AdmittedUpto: g.upto,
		Rate: int32(g.rate), Enabled: g.enabled, Period: g.period, PeriodBase: g.base}
	if seq <= g.upto {
		p.AdmittedAt = g.admit.at(seq).UnixNano()
	}
	return p
}

// memQuery asks a room (in this process) how many places it keeps in
// memory; tests use it to see that memory follows live places.
type memQuery struct{}

type memReply struct {
	users, seqOf int
	forgot       int64
}

// forgetMin is the fewest expired places forget drops at once (copying
// the rest of users is then paid for by at least as many places).
var forgetMin = func() *atomic.Int64 { n := new(atomic.Int64); n.Store(1024); return n }()

// forget drops the places whose admission ran out (those at or below the
// admissions' floor) from users and seqOf. Their owners can only queue
// again at the back, which a join without a remembered place does too; a
// status request for one still answers "expired" (from the floor's time),
// though for a place given up by re-joining it no longer answers not_found.
func (g *grain) forget() {
	cut := min(g.admit.floorUpto, g.durable)
	n := cut - g.forgot
	if n < forgetMin.Load() || n < int64(len(g.users))/4 {
		return
	}
	dropped := 0
	for i, u := range g.users[:n] {
		if u != uuid.Nil && int64(g.seqOf[u]) == g.forgot+int64(i)+1 {
			delete(g.seqOf, u)
			dropped++
		}
	}
	if dropped > len(g.seqOf) {
		// A Go map keeps its buckets after deletes: rebuild it to let
		// the memory go once most of it is empty.
		seqOf := make(map[uuid.UUID]uint32, len(g.seqOf))
		for u, seq := range g.seqOf {
			seqOf[u] = seq
		}
		g.seqOf = seqOf
	}
	g.users = append(make([]uuid.UUID, 0, len(g.users)-int(n)+64), g.users[n:]...)
	g.forgot = cut
}

func (g *grain) watermark() *queuepb.Watermark {
	return &queuepb.Watermark{EventId: g.eventID[:], AdmittedUpto: g.upto, At: g.admit.last().UnixNano(),
		NextSeq: g.durable + 1, Rate: int32(g.rate), Enabled: g.enabled, Period: g.period, PeriodBase: g.base}
}
