package actors

import (
	"sort"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// The memory budget (Config.MaxActive): a node keeps at most MaxActive
// event actors in memory. An activation that takes it over asks the least
// recently used grains to passivate until it is back within the budget; a
// grain that is busy (a commit in flight, a payment or refund running)
// says no and the next one is asked. Only activations start a shedding
// run, so a node whose every grain was busy stays over the budget until
// the next activation finds idle ones.

// resident is an active grain as the budget sees it: its PID, when it last
// handled a command (a sequence number, newer is larger: the order is all
// that matters, and it needs no clock) and whether it agreed to passivate.
type resident struct {
	pid     *actor.PID
	used    atomic.Uint64
	leaving atomic.Bool
	// revision is the revision of the grain's sale rules, for the
	// engine's poll of changed events (poll.go).
	revision atomic.Int64
}

// budget counts the node's resident grains.
type budget struct {
	seq      atomic.Uint64 // the last use stamp handed out
	n        atomic.Int64  // resident grains (entries of Engine.active)
	leaving  atomic.Int64  // of which agreed to passivate and are stopping
	shedding atomic.Bool   // a shedding run is under way
	reserves atomic.Uint64 // reserve commands decided on this node
}

// passivateAsk asks a grain to passivate for the budget; it answers
// passivateReply. Sent by the engine on the grain's own node only.
type passivateAsk struct{}

// NotInfluenceReceiveTimeout: being asked is not a use.
func (passivateAsk) NotInfluenceReceiveTimeout() {}

type passivateReply struct{ ok bool }

// becomeResident registers the grain as active on this node; called once its
// activation succeeded.
func (g *grain) becomeResident(ctx actor.Context) {
	r := &resident{pid: ctx.Self()}
	r.used.Store(g.e.budget.seq.Add(1))
	r.revision.Store(g.rules.Revision)
	g.res = r
	g.e.active.Store(g.eventID, r)
	g.e.budget.n.Add(1)
	if h := activatedHook.Load(); h != nil {
		(*h)(g.eventID, g.m)
	}
	g.e.maybeShed(ctx.ActorSystem())
}

// activatedHook, when set, sees each grain's seat map once it is active
// (tests check that a passivated grain's memory can be collected).
var activatedHook atomic.Pointer[func(eventID uuid.UUID, m *seatmap.Map)]

// leaveResidence removes the grain's entry when it stops (only its own: a
// later instance of the same event may have registered since).
func (g *grain) leaveResidence() {
	if g.res == nil || !g.e.active.CompareAndDelete(g.eventID, g.res) {
		return
	}
	g.e.budget.n.Add(-1)
	if g.res.leaving.Load() {
		g.e.budget.leaving.Add(-1)
	}
}

// used stamps the grain as just used: it handled a command from a caller.
func (g *grain) used() {
	if g.res != nil {
		g.res.used.Store(g.e.budget.seq.Add(1))
	}
}

// idle reports whether the grain can passivate without abandoning anyone:
// nothing staged or in flight, no payment or refund running. Live holds do
// not count: they are durable, and the sweeper ends them on time.
func (g *grain) idle() bool {
	return g.m != nil && !g.broken && g.inflight == nil && g.open == nil &&
		len(g.payments) == 0 && len(g.refunds) == 0
}

// onPassivateAsk passivates the grain if it is idle: its Stopping writes
// the snapshot (passivate), then it stops.
func (g *grain) onPassivateAsk(ctx actor.Context) {
	if !g.idle() || g.res == nil || g.res.leaving.Load() {
		ctx.Respond(passivateReply{})
		return
	}
	g.res.leaving.Store(true)
	g.e.budget.leaving.Add(1)
	g.log.Debug("passivating for the memory budget", "event", g.eventID, "holds", g.m.Holds())
	ctx.Respond(passivateReply{ok: true})
	ctx.Poison(ctx.Self())
}

// over is how many grains the node holds beyond its budget, not counting
// those already stopping.
func (e *Engine) over() int64 {
	if e.cfg.MaxActive <= 0 {
		return 0
	}
	return e.budget.n.Load() - e.budget.leaving.Load() - int64(e.cfg.MaxActive)
}

// maybeShed starts a shedding run when the node is over its budget and no
// run is under way. A run that passivated something looks again when it
// ends, for activations that happened meanwhile.
func (e *Engine) maybeShed(sys *actor.ActorSystem) {
	if e.over() <= 0 || !e.budget.shedding.CompareAndSwap(false, true) {
		return
	}
	go func() { // one at a time (shedding); each ask bounded by RequestTimeout
		n := e.shed(sys)
		e.budget.shedding.Store(false)
		if n > 0 {
			e.maybeShed(sys)
		}
	}()
}

// shed asks the least recently used grains, oldest first, to passivate
// until the node is within its budget; it returns how many agreed.
func (e *Engine) shed(sys *actor.ActorSystem) int {
	excess := e.over()
	if excess <= 0 {
		return 0
	}
	type candidate struct {
		r    *resident
		used uint64
	}
	var cands []candidate
	e.active.Range(func(_, v any) bool {
		if r := v.(*resident); !r.leaving.Load() {
			cands = append(cands, candidate{r, r.used.Load()})
		}
		return true
	})
	sort.Slice(cands, func(i, j int) bool { return cands[i].used < cands[j].used })
	agreed := 0
	for _, c := range cands {
		if int64(agreed) >= excess {
			break
		}
		res, err := sys.Root.RequestFuture(c.r.pid, passivateAsk{}, e.cfg.RequestTimeout).Result()
		if r, ok := res.(passivateReply); err == nil && ok && r.ok {
			agreed++
		}
	}
	return agreed
}

// Resident reports how many event actors are active on this node (what
// Config.MaxActive bounds).
func (e *Engine) Resident() int { return int(e.budget.n.Load()) }

// Reserves is how many reserve commands this node's grains decided since
// it started (granted or refused), for the admin dashboard's reserves/s.
func (e *Engine) Reserves() uint64 { return e.budget.reserves.Load() }
