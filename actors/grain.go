package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence"
)

// grain is one event's actor. Every field is owned by the actor's Receive
// loop; goroutines it starts (the ticker, payments, snapshot writes) talk to
// it only by sending messages to its PID.
type grain struct {
	e   *Engine
	log *slog.Logger

	eventID  uuid.UUID
	epoch    int64
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

	// keyed maps each booking a reserve with an Idempotency-Key held to
	// its claim time (Unix ns); keyedOrder is the same in claim order, for
	// pruning. See idempotency.go.
	keyed      map[uuid.UUID]int64
	keyedOrder []keyedHold

	stop chan struct{}
	wg   sync.WaitGroup
}

func newGrain(e *Engine) *grain {
	return &grain{e: e, log: e.cfg.Logger, payments: map[uuid.UUID]*payment{}}
}

// Messages the grain sends itself. tick and the async results implement
// NotInfluenceReceiveTimeout so they do not keep an idle grain alive.
type (
	tick          struct{}
	commitDone    struct{ err error }
	lingerDone    struct{ seq uint64 }
	snapshotSaved struct {
		version uint64
		err     error
	}
)

func (tick) NotInfluenceReceiveTimeout()          {}
func (commitDone) NotInfluenceReceiveTimeout()    {}
func (lingerDone) NotInfluenceReceiveTimeout()    {}
func (snapshotSaved) NotInfluenceReceiveTimeout() {}

// Receive implements actor.Actor.
func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, msg.Identity.Identity)
	case *actor.ReceiveTimeout:
		g.maybePassivate(ctx)
	case *actor.Stopping:
		g.passivate()
	case *actor.Stopped:
		g.shutdown()
	case *actor.Restarting:
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
	case *grainpb.SetRules:
		g.onSetRules(ctx, msg)
	case *grainpb.Touch:
		if g.refuse(ctx) {
			return
		}
		ctx.Respond(&grainpb.Ack{})
	}
}

// refuse answers unavailable when the grain cannot serve (activation or a
// commit failed); it reports whether it did.
func (g *grain) refuse(ctx actor.Context) bool {
	if g.m != nil && !g.broken {
		return false
	}
	err := &grainpb.Error{Code: boxoffice.EUnavailable, Message: "the event's seat engine is recovering; retry shortly"}
	if boxoffice.ErrorCode(g.loadErr) == boxoffice.ENotFound {
		err = &grainpb.Error{Code: boxoffice.ENotFound, Message: "no such event"}
	}
	switch ctx.Message().(type) {
	case *grainpb.GetSeats:
		ctx.Respond(&grainpb.SeatsReply{Error: err})
	case *grainpb.GetStats:
		ctx.Respond(&grainpb.StatsReply{Error: err})
	case *grainpb.Touch, *grainpb.SetRules:
		if ctx.Sender() != nil {
			ctx.Respond(&grainpb.Ack{Error: err})
		}
	default:
		ctx.Respond(&grainpb.BookingReply{Error: err})
	}
	return true
}

// activate takes ownership of the event with a new epoch (fencing off any
// older activation, I4) and rebuilds the seat map from the latest snapshot
// plus the journal after it.
func (g *grain) activate(ctx actor.Context, identity string) {
	start := time.Now()
	id, err := uuid.Parse(identity)
	if err != nil {
		g.log.Error("grain identity is not a UUID", "identity", identity)
		g.fail(ctx, fmt.Errorf("bad identity %q", identity))
		return
	}
	g.eventID = id
	c, cancel := context.WithTimeout(context.Background(), g.e.cfg.RequestTimeout)
	defer cancel()
	if err := g.load(c); err != nil {
		g.log.Warn("event activation failed", "event", id, "err", err)
		g.loadErr = err
		g.fail(ctx, err)
		return
	}
	g.log.Info("event activated", "event", id, "epoch", g.epoch, "version", g.committed,
		"seats", g.m.Len(), "took", time.Since(start))
	ctx.SetReceiveTimeout(g.e.cfg.IdleTimeout)
	g.e.active.Store(g.eventID, struct{}{})
	g.startTicker(ctx)
	g.settleInterrupted(ctx)
}

func (g *grain) load(ctx context.Context) error {
	ev, err := g.e.deps.Store.Event(ctx, g.eventID)
	if err != nil {
		return fmt.Errorf("load event: %w", err)
	}
	venue, err := g.e.deps.Store.Venue(ctx, ev.VenueID)
	if err != nil {
		return fmt.Errorf("load venue: %w", err)
	}
	g.currency = ev.Currency
	for _, s := range venue.SeatMap.Sections {
		n := 0
		for _, r := range s.Rows {
			n += r.Seats
		}
		end := n
		if k := len(g.priceEnds); k > 0 {
			end += g.priceEnds[k-1]
		}
		g.priceEnds = append(g.priceEnds, end)
		g.prices = append(g.prices, ev.Prices[s.Name])
	}
	epoch, err := g.e.deps.Store.Acquire(ctx, g.eventID, g.e.cfg.NodeName)
	if err != nil {
		return fmt.Errorf("acquire ownership: %w", err)
	}
	g.epoch = epoch
	m, snap, replayed, err := restore(ctx, g.e.deps.Store, g.eventID, venue.SeatMap.Capacity())
	if err != nil {
		return err
	}
	g.lastSnapshot, g.sinceSnap = snap, replayed
	g.m, g.committed = m, m.Version()
	g.setRules(ev)
	g.countsDirty = true
	if err := g.loadKeyedHolds(ctx); err != nil {
		return fmt.Errorf("load idempotency keys: %w", err)
	}
	return nil
}

// fail marks the grain broken and stops it; callers waiting on uncommitted
// groups get "unavailable", and the next call activates a fresh instance
// that rebuilds from PostgreSQL.
func (g *grain) fail(ctx actor.Context, cause error) {
	g.broken = true
	for _, gr := range []*group{g.inflight, g.open} {
		if gr != nil {
			gr.finish(ctx, cause)
		}
	}
	g.inflight, g.open = nil, nil
	for _, p := range g.payments {
		p.reply(ctx, &grainpb.BookingReply{Error: toPB(unavailable(cause))})
	}
	g.payments = map[uuid.UUID]*payment{}
	if _, ok := ctx.Message().(*pcluster.ClusterInit); !ok {
		g.refuse(ctx)
	}
	ctx.Poison(ctx.Self())
}

func unavailable(cause error) error {
	return &boxoffice.Error{Code: boxoffice.EUnavailable,
		Message: "the booking could not be made durable; nothing was held or sold; retry shortly"}
}

func (g *grain) startTicker(ctx actor.Context) {
	g.stop = make(chan struct{})
	self, root := ctx.Self(), ctx.ActorSystem().Root
	every := g.e.cfg.TickInterval
	stop := g.stop
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		rules := time.NewTicker(g.e.cfg.RulesRefresh)
		defer rules.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				root.Send(self, tick{})
			case <-rules.C:
				g.refreshRules(func(m any) { root.Send(self, m) })
			}
		}
	}()
}

// shutdown stops the goroutines the grain owns and waits for them.
func (g *grain) shutdown() {
	if g.m != nil {
		g.e.active.Delete(g.eventID)
	}
	if g.lingerTimer != nil {
		g.lingerTimer.Stop()
	}
	if g.stop != nil {
		close(g.stop)
		g.stop = nil
	}
	g.wg.Wait()
}

// onTick expires due holds (I3) and reports counts.
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
	if g.m == nil || g.m.Holds() > 0 || g.inflight != nil || g.open != nil || len(g.payments) > 0 {
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
	if g.e.deps.Metrics != nil {
		g.e.deps.Metrics.Outcome(op, result, seats)
	}
}

// Snapshots is the part of the store that rebuilds a seat map.
type Snapshots interface {
	LatestSnapshot(ctx context.Context, eventID uuid.UUID) (uint64, []byte, bool, error)
	ReadJournal(ctx context.Context, eventID uuid.UUID, after uint64, fn func(persistence.Entry) error) error
}

// Restore rebuilds an event's seat map from its latest snapshot and the
// journal after it, exactly as an activation does (benchmarks and audits
// use it to see the durable state).
func Restore(ctx context.Context, store Snapshots, eventID uuid.UUID, seats int) (*seatmap.Map, error) {
	m, _, _, err := restore(ctx, store, eventID, seats)
	return m, err
}

func restore(ctx context.Context, store Snapshots, eventID uuid.UUID, seats int) (m *seatmap.Map, snap uint64, replayed int, err error) {
	m = seatmap.New(eventID, seats)
	if v, state, ok, err := store.LatestSnapshot(ctx, eventID); err != nil {
		return nil, 0, 0, fmt.Errorf("load snapshot: %w", err)
	} else if ok {
		decoded, usable, err := decodeSnapshot(eventID, v, state)
		if err != nil {
			return nil, 0, 0, err
		}
		if usable {
			if decoded.Len() != seats {
				return nil, 0, 0, fmt.Errorf("snapshot v%d has %d seats, the venue %d", v, decoded.Len(), seats)
			}
			m, snap = decoded, v
		}
	}
	err = store.ReadJournal(ctx, eventID, m.Version(), func(en persistence.Entry) error {
		r, err := seatmap.UnmarshalRecord(en.Record)
		if err != nil {
			return fmt.Errorf("journal v%d: %w", en.Version, err)
		}
		replayed++
		return m.Apply(r)
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("replay journal: %w", err)
	}
	return m, snap, replayed, nil
}
