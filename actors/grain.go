package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/cluster"
)

// grain is one event's actor. Every field is owned by the actor's Receive
// loop; goroutines it starts (the ticker, payments, snapshot writes) talk to
// it only by sending messages to its PID.
type grain struct {
	cluster.Host // identity, load, panics, refusals, owned goroutines
	e            *Engine
	log          *slog.Logger

	eventID uuid.UUID
	epoch   int64
	// instance tells this actor instance from the others that ran behind
	// the same PID: Proto.Actor restarts a panicking actor in place (same
	// PID, same mailbox), so messages an earlier instance arranged to send
	// itself can reach this one (see activation).
	instance uint64
	m        *seatmap.Map
	rules    boxoffice.Event // the sale rules' fields (rules.go)
	currency string
	// priceEnds and prices give each seat's price: seat i is priced
	// prices[k] for the first k with i < priceEnds[k] (sections in order).
	priceEnds []int
	prices    []boxoffice.Money

	// committed is the last version known durable; the map may be ahead of
	// it by the records of the open and in-flight groups.
	committed    uint64
	inflight     *group
	open         *group
	broken       bool  // a commit failed: refuse everything until stopped
	loadErr      error // why activation failed, if it did
	lastSnapshot uint64
	// Group commit pacing (see group.go, linger): when the in-flight group
	// was sent, how many records the next one waits for, and its timer.
	inflightAt  time.Time
	expect      int
	lingering   bool
	lingerSeq   uint64
	lingerTimer *time.Timer
	sinceSnap   int
	countsDirty bool
	lastCounts  time.Time

	// payments maps a booking whose payment is in flight to the callers
	// waiting for its outcome.
	payments map[uuid.UUID]*payment
	// payStop is closed when the grain stops: its payment runs make no
	// further provider call and leave their rows to the next activation.
	payStop chan struct{}
	// reconciling is set while the activation's list of pending payments
	// is being read (reconcile.go).
	reconciling bool

	// keyed maps each booking a reserve with an Idempotency-Key held to
	// its claim time (Unix ns); keyedOrder is the same in claim order, for
	// pruning. See idempotency.go.
	keyed      map[uuid.UUID]int64
	keyedOrder []keyedHold

	// span and spanCtx are the span of the traced command being handled
	// (traceCommand), nil between commands and when it is not traced.
	span    trace.Span
	spanCtx context.Context
	// refunds maps a booking whose refund is in flight to its callers
	// (refund.go).
	refunds map[uuid.UUID]*refund
	// res is the grain's entry in the engine's active set (budget.go),
	// nil until its activation succeeded.
	res *resident
	// pre is what a batched activation read for the activation's first
	// reconciliation and refunds resumption (reconcile, resumeRefunds take
	// it instead of reading); nil once they have, or without batching.
	pre *boxoffice.ActivationLoad
	// sections names the sections of priceEnds and base is the event's
	// price per section name (pricing.go; h19price).
	sections []string
	base     map[string]boxoffice.Money
}

// instances numbers grain instances in this process.
var instances atomic.Uint64

func newGrain(e *Engine) *grain {
	return &grain{Host: cluster.Host{Log: e.cfg.Logger, Name: "event actor"}, e: e, log: e.cfg.Logger,
		payments: map[uuid.UUID]*payment{}, instance: instances.Add(1)}
}

// activation identifies one activation of an event: the epoch it took
// ownership with and the actor instance that took it. A message a grain
// sends itself (a commit's ack, a timer, a tick, a payment's outcome)
// carries the activation that sent it, and another activation drops it:
// after an in-place restart the new instance has its own groups in
// flight, and crediting an earlier instance's commit ack to them would
// answer callers before their records are durable (I2).
type activation struct {
	epoch    int64
	instance uint64
}

// stamp is embedded in every message a grain sends itself.
type stamp struct{ from activation }

func (s stamp) sentBy() activation { return s.from }

// NotInfluenceReceiveTimeout: what a grain sends itself (ticks, the
// outcomes of its own I/O) does not keep an idle grain alive.
func (stamp) NotInfluenceReceiveTimeout() {}

// selfMessage is a message a grain sent itself.
type selfMessage interface{ sentBy() activation }

// stamp tags a message to self with this activation. Call it in the actor,
// not on the goroutine that sends the message.
func (g *grain) stamp() stamp { return stamp{activation{epoch: g.epoch, instance: g.instance}} }

// Test hooks. receiveHook, when set, sees every message before the grain
// handles it (tests panic from it); escapePanics lets a panic reach the
// supervisor, which restarts the grain in place, instead of stopping it.
var (
	receiveHook  atomic.Pointer[func(msg any)]
	escapePanics atomic.Bool
)

// Messages the grain sends itself. Their stamp makes them
// NotInfluenceReceiveTimeout, so they do not keep an idle grain alive.
type (
	tick       struct{ stamp }
	commitDone struct {
		stamp
		err error
	}
	lingerDone struct {
		stamp
		seq uint64
	}
	snapshotSaved struct {
		stamp
		version uint64
		err     error
	}
)

// Receive implements actor.Actor.
func (g *grain) Receive(ctx actor.Context) {
	if !escapePanics.Load() {
		defer g.Contain(ctx, g.fail, func() []any { return []any{"event", g.eventID, "epoch", g.epoch} })
	}
	if h := receiveHook.Load(); h != nil {
		(*h)(ctx.Message())
	}
	if m, ok := ctx.Message().(selfMessage); ok && m.sentBy() != g.stamp().from {
		g.log.Debug("dropped a message of an earlier activation", "event", g.eventID,
			"type", fmt.Sprintf("%T", m), "epoch", m.sentBy().epoch, "current_epoch", g.epoch)
		return
	}
	if _, ok := ctx.Message().(proto.Message); ok {
		g.used() // a command from a caller (grainpb), not a system message
	}
	defer g.traceCommand(ctx)()
	switch msg := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, msg.Identity.Identity)
	case *actor.ReceiveTimeout:
		g.maybePassivate(ctx)
	case passivateAsk:
		g.onPassivateAsk(ctx)
	case *actor.Stopping:
		g.settle(ctx)
		g.passivate()
	case *actor.Stopped:
		g.shutdown()
		// Proto.Actor does not stop the receive-timeout timer of a stopped
		// actor, and every *actor.PID that was used to send to it caches a
		// pointer to its process (mailbox, context, this grain) until it is
		// used again; any such PID left in a reused buffer would keep the
		// seat map reachable. Drop the grain's state so that a passivated
		// event costs its memory back (the budget, budget.go, counts on it).
		ctx.CancelReceiveTimeout()
		g.dropState()
	case *actor.Restarting:
		// A panic escaped contain: this instance is replaced in place.
		// Its pending callers cannot be answered by the next one.
		g.abandon(ctx, errRestarted)
		g.shutdown()
	case tick:
		g.onTick(ctx)
	case commitDone:
		g.onCommit(ctx, msg.err)
	case lingerDone:
		g.onLingerDone(ctx, msg)
	case snapshotSaved:
		g.onSnapshotSaved(msg)
	case *paymentDone:
		g.onPaymentDone(ctx, msg)
	case *pendingFound:
		g.onPendingFound(ctx, msg)
	case pendingPolled:
		g.onPendingPolled(ctx, msg)
	case *grainpb.Reserve:
		g.reserve(ctx, msg)
	case *grainpb.Release:
		g.release(ctx, msg)
	case *grainpb.Confirm:
		g.confirm(ctx, msg)
	case *grainpb.GetSeats:
		g.getSeats(ctx)
	case *grainpb.GetStats:
		g.getStats(ctx)
	case *grainpb.GetAdmissionReport:
		g.getAdmissionReport(ctx, msg)
	case *grainpb.SetRules:
		g.onSetRules(ctx, msg)
	case *grainpb.PaymentSettled:
		g.paymentSettled(ctx, msg)
	case *grainpb.CheckIn:
		g.checkIn(ctx, msg)
	case *grainpb.RefundBooking:
		g.refundBooking(ctx, msg)
	case *refundDone:
		g.onRefundDone(ctx, msg)
	case refundsOwed:
		g.onRefundsOwed(ctx, msg)
	case *grainpb.ResumeRefunds:
		g.onResumeRefunds(ctx)
	case *grainpb.GetBooking:
		g.getBooking(ctx, msg)
	case *grainpb.Touch:
		if g.refuse(ctx) {
			return
		}
		ctx.Respond(&grainpb.Ack{})
	}
}

var errRestarted = errors.New("the event actor restarted")

// refuse answers unavailable when the grain cannot serve (activation or a
// commit failed); it reports whether it did.
func (g *grain) refuse(ctx actor.Context) bool {
	return cluster.Refuse(ctx, g.m != nil && !g.broken, g.loadErr, "the event's seat engine is recovering; retry shortly",
		func(code, message string) any {
			err := &grainpb.Error{Code: code, Message: message}
			switch ctx.Message().(type) {
			case *grainpb.GetSeats:
				return &grainpb.SeatsReply{Error: err}
			case *grainpb.GetStats:
				return &grainpb.StatsReply{Error: err}
			case *grainpb.GetAdmissionReport:
				return &grainpb.AdmissionReport{Error: err}
			case *grainpb.CheckIn:
				return &grainpb.CheckInReply{Error: err}
			case *grainpb.Touch, *grainpb.SetRules, *grainpb.PaymentSettled, *grainpb.ResumeRefunds:
				if ctx.Sender() == nil {
					return nil
				}
				return &grainpb.Ack{Error: err}
			}
			return &grainpb.BookingReply{Error: err}
		})
}

// fail marks the grain broken and stops it; callers waiting on uncommitted
// groups get "unavailable", and the next call activates a fresh instance
// that rebuilds from PostgreSQL.
func (g *grain) fail(ctx actor.Context, cause error) {
	g.broken = true
	g.abandon(ctx, cause)
	if _, ok := ctx.Message().(*pcluster.ClusterInit); !ok {
		g.refuse(ctx)
	}
	ctx.Poison(ctx.Self())
}

// abandon answers "unavailable" to every caller waiting on a group or a
// payment; their outcome is left to the next activation.
func (g *grain) abandon(ctx actor.Context, cause error) {
	for _, gr := range []*group{g.inflight, g.open} {
		if gr != nil {
			gr.finish(ctx, cause)
		}
	}
	g.inflight, g.open = nil, nil
	for _, p := range g.payments {
		p.reply(ctx, &grainpb.BookingReply{Error: grainpb.ErrorOf(errAbandoned)})
	}
	g.payments = map[uuid.UUID]*payment{}
	g.abandonRefunds(ctx)
}

// errAbandoned is what a payment abandoned by a failing grain answers; the
// cause is logged where the grain fails; callers may not see it.
var errAbandoned = &boxoffice.Error{Code: boxoffice.EUnavailable,
	Message: "the booking could not be made durable; nothing was held or sold; retry shortly"}

func (g *grain) startTicker(ctx actor.Context) {
	self, root, st := ctx.Self(), ctx.ActorSystem().Root, g.stamp()
	g.StartTicker(g.e.cfg.TickInterval, func() { root.Send(self, tick{st}) }, 0, nil)
}

// shutdown stops the goroutines the grain owns and waits for them.
func (g *grain) shutdown() {
	g.leaveResidence()
	if g.lingerTimer != nil {
		g.lingerTimer.Stop()
	}
	if g.payStop != nil {
		close(g.payStop)
		g.payStop = nil
	}
	g.Shutdown()
}

// dropState drops the stopped grain's state for the garbage collector.
func (g *grain) dropState() {
	g.m, g.keyed, g.keyedOrder = nil, nil, nil
	g.priceEnds, g.prices, g.rules = nil, nil, boxoffice.Event{}
	g.sections, g.base = nil, nil
	g.payments, g.refunds = nil, nil
}

// onTick expires due holds (I3) and reports counts (the periodic
// reconciliation of pending payments is the engine's poll, poll.go).
func (g *grain) onTick(ctx actor.Context) {
	if g.m == nil || g.broken {
		return
	}
	g.pruneKeyed(g.e.cfg.Now())
	for _, r := range g.m.ExpireDue(g.e.cfg.Now()) {
		info := holdInfo(r)
		g.stage(r, g.bookingRow(info, boxoffice.BookingExpired), nil)
		g.outcome("expire", "ok", len(r.Seats))
	}
	g.flush(ctx)
	if g.countsDirty && g.e.deps.OnCounts != nil && time.Since(g.lastCounts) >= g.e.cfg.CountsInterval {
		g.countsDirty, g.lastCounts = false, time.Now()
		g.e.deps.OnCounts(g.eventID, g.m.Version(), g.m.Counts())
	}
}

// maybePassivate stops an idle grain that holds nothing, after a snapshot.
func (g *grain) maybePassivate(ctx actor.Context) {
	if g.m == nil || g.m.Holds() > 0 || g.inflight != nil || g.open != nil || len(g.payments) > 0 || len(g.refunds) > 0 {
		// Proto.Actor's receive timeout fires once and is then off: arm
		// it again, or a grain that held seats or had a commit in flight
		// when it fired would never passivate.
		ctx.SetReceiveTimeout(g.e.cfg.IdleTimeout)
		return
	}
	ctx.Poison(ctx.Self())
}

// passivate writes a final snapshot when the grain stops with every change
// durable, so the next activation replays nothing.
func (g *grain) passivate() {
	if g.m == nil || g.broken || g.inflight != nil || g.open != nil || g.committed == g.lastSnapshot {
		return
	}
	state, err := g.m.MarshalBinary()
	if err != nil {
		return
	}
	c, cancel := context.WithTimeout(context.Background(), g.e.cfg.RequestTimeout)
	defer cancel()
	if err := g.e.deps.Store.SaveSnapshot(c, g.eventID, g.epoch, g.committed, state); err != nil {
		g.log.Warn("passivation snapshot failed", "event", g.eventID, "err", err)
	}
}

func (g *grain) getStats(ctx actor.Context) {
	if g.refuse(ctx) {
		return
	}
	c := g.m.Counts()
	lag := 0
	for _, gr := range []*group{g.inflight, g.open} {
		if gr != nil {
			lag += len(gr.entries)
		}
	}
	ctx.Respond(&grainpb.StatsReply{
		Version: g.committed, Available: int64(c.Available), Reserved: int64(c.Reserved), Booked: int64(c.Booked),
		Holds: int64(g.m.Holds()), JournalLag: int64(lag), LastSnapshotVersion: g.lastSnapshot, Node: g.e.cfg.NodeName,
		Admitted: int64(g.m.Admitted()),
	})
}

// price is the total of the given seats.
func (g *grain) price(seats []int32) boxoffice.Money {
	var total boxoffice.Money
	for _, s := range seats {
		k := sort.SearchInts(g.priceEnds, int(s)+1)
		if k < len(g.prices) {
			total += g.prices[k]
		}
	}
	return total
}

func (g *grain) outcome(op, result string, seats int) {
	if op == "reserve" {
		g.e.budget.reserves.Add(1)
	}
	g.traceOutcome(op, result, seats)
	if g.e.deps.Metrics != nil {
		g.e.deps.Metrics.Outcome(op, result, seats)
	}
}
