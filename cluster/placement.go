package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
)

// DefaultPlacementLoad is the bound of the bounded-load placement: no member
// takes a new grain of a kind while it holds ceil(1.15 x mean) of them.
const DefaultPlacementLoad = 1.15

// DefaultPlacementFarOff is how far over the bound a member must be before
// it sheds grains on its own (see Config.PlacementFarOff).
const DefaultPlacementFarOff = 1.5

// activatorName is the well-known name of every member's placement actor,
// which spawns the grains placed on that member.
const activatorName = "placement-activator"

// PlacementStore is the shared placement record every member agrees on:
// which member hosts each active grain. Rendezvous hashing alone placed 300
// events 162/71/67 on three nodes; a shared record lets every member see the
// load and keep each member within the bound, and keeps an active grain
// where it is when members come and go. persistence.DB implements it in
// PostgreSQL; MemoryPlacement serves nodes that share one process.
//
// Members are Proto.Actor member ids, new on every start, so the records of
// a crashed or restarted process are simply not live any more: they are
// ignored and overwritten, never handed back to the restarted node.
type PlacementStore interface {
	// Claim returns the member hosting each of identities (one absent when
	// choose returned ""). A record whose member is in live stands
	// (sticky). The others, serialised with every other Claim of the kind
	// and in one step, get choose(identity, counts) as their owner, in
	// order: counts holds the records per live member (-1 for a member
	// excluded with Exclude), and each pick is added to it before the next
	// choice, as if they were claimed one after another.
	Claim(ctx context.Context, kind string, identities, live []string, choose func(identity string, counts map[string]int) string) (map[string]string, error)
	// HeldBy returns the identities of kind whose records name one of
	// members (the members that left, whose grains are re-placed at once).
	HeldBy(ctx context.Context, kind string, members []string) ([]string, error)
	// Ensure records member as the host of each of identities that has no
	// record; an activation calls it in case its record was released in
	// between (a passivation racing a new call). A node's writer gathers
	// the activations queued behind each other into one call.
	Ensure(ctx context.Context, kind string, identities []string, member string) error
	// Release deletes the record of identity if member holds it (the grain
	// passivated or stopped).
	Release(ctx context.Context, kind, identity, member string) error
	// ReleaseMember deletes every record member holds (graceful stop).
	ReleaseMember(ctx context.Context, member string) error
	// Owners returns the recorded member of each identity that has a
	// record.
	Owners(ctx context.Context, kind string, identities []string) (map[string]string, error)
	// Counts returns how many records each live member holds.
	Counts(ctx context.Context, kind string, live []string) (map[string]int, error)
	// Exclude marks member (true) as taking no new grains, for every node's
	// claims, or clears the mark (false); a draining node excludes itself.
	Exclude(ctx context.Context, member string, excluded bool) error
}

// placementMember is a member that hosts a kind, as placement sees it.
type placementMember struct {
	id, addr string
	kinds    []string
}

// Bound returns the most grains one of n members may hold when total grains
// are active: ceil(load x total / n).
func Bound(total, n int, load float64) int {
	if n <= 0 {
		return 0
	}
	return int(math.Ceil(load * float64(total) / float64(n)))
}

// rendezvousScore is the strong hash of (member key, identity) that orders
// members for an identity: SHA-256, so nearby identities (event-001,
// event-002) and nearby addresses are as independent as random draws. The
// library's 32-bit FNV-1a of the same inputs clusters badly.
func rendezvousScore(member, identity string) uint64 {
	h := sha256.New()
	h.Write([]byte(member))
	h.Write([]byte{0})
	h.Write([]byte(identity))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// RendezvousOrder returns members in rendezvous order for identity: highest
// score first, ties broken by name. Placement prefers the first and
// overflows to the next.
func RendezvousOrder(identity string, members []string) []string {
	type scored struct {
		m string
		s uint64
	}
	s := make([]scored, len(members))
	for i, m := range members {
		s[i] = scored{m, rendezvousScore(m, identity)}
	}
	slices.SortFunc(s, func(a, b scored) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		if a.m < b.m {
			return -1
		}
		if a.m > b.m {
			return 1
		}
		return 0
	})
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.m
	}
	return out
}

// ChooseOwner is the bounded-load rule: the first member in order whose
// count is under Bound(total+1, n, load), where n and total count the
// members in order and their active grains. One always exists (n x bound
// >= load x (total+1) > total); the least loaded is a fallback for load <
// 1. A negative count marks an excluded member (draining): it is skipped,
// unless every member is excluded.
func ChooseOwner(order []string, counts map[string]int, load float64) string {
	var in []string
	total := 0
	for _, m := range order {
		if counts[m] >= 0 {
			in = append(in, m)
			total += counts[m]
		}
	}
	if len(in) == 0 {
		if len(order) == 0 {
			return ""
		}
		return order[0]
	}
	limit := Bound(total+1, len(in), load)
	best := in[0]
	for _, m := range in {
		if counts[m] < limit {
			return m
		}
		if counts[m] < counts[best] {
			best = m
		}
	}
	return best
}

// placement is the bounded-load identity lookup (pcluster.IdentityLookup).
// A caller claims the owner in the store and asks that member's placement
// actor for the grain's PID; the placement actor spawns grains and releases
// their records when they stop. Unlike disthash, nothing moves on a
// topology change except the grains of members that left (their records are
// no longer live) and, when a member is far over the bound, its excess.
type placement struct {
	store   PlacementStore
	load    float64
	farOff  float64
	timeout time.Duration
	log     *slog.Logger

	c      *pcluster.Cluster
	self   string // member id
	sub    *eventstream.Subscription
	actor  *actor.PID
	writes chan placementWrite
	done   chan struct{}

	// claims and reclaims feed the claimer; stop ends it, claimDone says
	// it ended.
	claims    chan *claimReq
	reclaims  chan []string
	stop      chan struct{}
	claimDone chan struct{}

	stopOnce sync.Once

	// shedRefused counts activations refused because their grain was shed
	// and its record not yet released (activator.shedding).
	shedRefused atomic.Int64

	mu       sync.Mutex
	members  []placementMember
	excluded map[string]bool
}

// Placement is the seam other parts of the node use to steer the
// bounded-load placement (Node.Placement). It is nil when the node uses
// plain rendezvous hashing (no Config.Placement).
type Placement struct{ p *placement }

func newPlacement(store PlacementStore, load, farOff float64, timeout time.Duration, log *slog.Logger) *placement {
	if load <= 0 {
		load = DefaultPlacementLoad
	}
	if farOff <= 0 {
		farOff = DefaultPlacementFarOff
	}
	return &placement{store: store, load: load, farOff: farOff, timeout: timeout, log: log, excluded: map[string]bool{}}
}

// NewPlacementLookup returns the bounded-load identity lookup over store
// (load 0 is DefaultPlacementLoad) for Proto.Actor clusters configured
// outside Start, such as the in-memory test clusters of clustertest; Start
// builds it itself from Config.Placement.
func NewPlacementLookup(store PlacementStore, load float64, timeout time.Duration, logger *slog.Logger) pcluster.IdentityLookup {
	return newPlacement(store, load, 0, timeout, logger)
}

// Setup implements pcluster.IdentityLookup.
func (p *placement) Setup(c *pcluster.Cluster, _ []string, _ bool) {
	p.c, p.self = c, c.ActorSystem.ID
	p.writes = make(chan placementWrite, 4096)
	p.done = make(chan struct{})
	go p.writer()
	p.claims = make(chan *claimReq, maxClaimBatch)
	p.reclaims = make(chan []string, 16)
	p.stop, p.claimDone = make(chan struct{}), make(chan struct{})
	go p.claimer()
	props := actor.PropsFromProducer(func() actor.Actor {
		return &activator{p: p, grains: map[string]activation{}, shedding: map[string]bool{}}
	})
	p.actor, _ = c.ActorSystem.Root.SpawnNamed(props, activatorName)
	p.sub = c.ActorSystem.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*pcluster.ClusterTopology); ok {
			p.onTopology(t)
		}
	})
}

// Shutdown implements pcluster.IdentityLookup: stops the local grains and
// releases their records, so their next calls place them on the members
// that stay. Proto.Actor calls it twice on a graceful stop; the second call
// does nothing.
func (p *placement) Shutdown() {
	p.stopOnce.Do(p.shutdown)
}

func (p *placement) shutdown() {
	sys := p.c.ActorSystem
	sys.EventStream.Unsubscribe(p.sub)
	close(p.stop)
	<-p.claimDone
	if err := sys.Root.PoisonFuture(p.actor).Wait(); err != nil {
		p.log.Warn("cluster: stop placement actor", "err", err)
	}
	close(p.writes)
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	if err := p.store.ReleaseMember(ctx, p.self); err != nil {
		p.log.Warn("cluster: release placement records", "err", err)
	}
}

// writer runs the store writes of the placement actor in order (a release
// must not overtake the Ensure of a later activation of the same grain),
// off the actor's mailbox.
func (p *placement) writer() {
	defer close(p.done)
	var next *placementWrite
	for {
		var w placementWrite
		if next != nil {
			w, next = *next, nil
		} else {
			var ok bool
			if w, ok = <-p.writes; !ok {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		if e := w.ensure; e != nil {
			// Records of activations queued behind each other go in one
			// statement, up to the first other write (kept in order).
			ids := []string{e.id}
		gather:
			for len(ids) < maxClaimBatch {
				select {
				case w2, ok := <-p.writes:
					if !ok {
						break gather
					}
					if e2 := w2.ensure; e2 != nil && e2.kind == e.kind {
						ids = append(ids, e2.id)
						continue
					}
					next = &w2
					break gather
				default:
					break gather
				}
			}
			if err := p.store.Ensure(ctx, e.kind, ids, p.self); err != nil {
				p.log.Warn("cluster: record placements", "kind", e.kind, "grains", len(ids), "err", err)
			}
		} else {
			w.fn(ctx)
		}
		cancel()
	}
}

func (p *placement) onTopology(t *pcluster.ClusterTopology) {
	ms := make([]placementMember, 0, len(t.Members))
	for _, m := range t.Members {
		ms = append(ms, placementMember{id: m.Id, addr: m.Address(), kinds: m.Kinds})
	}
	p.mu.Lock()
	p.members = ms
	p.mu.Unlock()
	if len(t.Left) > 0 {
		gone := make([]string, 0, len(t.Left))
		for _, m := range t.Left {
			gone = append(gone, m.Id)
		}
		select {
		case p.reclaims <- gone:
		default: // the claimer is far behind: each grain is claimed on its next call
		}
	}
	p.c.ActorSystem.Root.Send(p.actor, &shedFarOff{})
}

// view returns the live member ids hosting kind, the candidates for new
// grains (live minus excluded) and each member's address.
func (p *placement) view(kind string) (live, candidates []string, addrs map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	addrs = map[string]string{}
	for _, m := range p.members {
		if !slices.Contains(m.kinds, kind) {
			continue
		}
		live = append(live, m.id)
		addrs[m.id] = m.addr
		if !p.excluded[m.id] {
			candidates = append(candidates, m.id)
		}
	}
	if len(candidates) == 0 {
		candidates = live
	}
	return live, candidates, addrs
}

// Get implements pcluster.IdentityLookup. A nil PID makes the caller retry.
func (p *placement) Get(ci *pcluster.ClusterIdentity) *actor.PID {
	live, _, addrs := p.view(ci.Kind)
	if len(live) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	owner, err := p.ownerOf(ctx, ci.Kind, ci.Identity, live)
	if err != nil {
		p.log.Warn("cluster: placement claim failed", "kind", ci.Kind, "identity", ci.Identity, "err", err)
		return nil
	}
	addr := addrs[owner]
	if addr == "" {
		return nil
	}
	res, err := p.c.ActorSystem.Root.RequestFuture(actor.NewPID(addr, activatorName),
		&pcluster.ActivationRequest{ClusterIdentity: ci}, p.timeout).Result()
	if err != nil {
		return nil
	}
	if r, ok := res.(*pcluster.ActivationResponse); ok && r.Pid != nil {
		return r.Pid
	}
	return nil
}

// RemovePid implements pcluster.IdentityLookup as disthash does: every
// member drops the PID from its cache.
func (p *placement) RemovePid(ci *pcluster.ClusterIdentity, pid *actor.PID) {
	p.c.MemberList.BroadcastEvent(&pcluster.ActivationTerminated{Pid: pid, ClusterIdentity: ci}, true)
}

// owned answers, for each identity of kind, whether this member hosts it
// or, if no live member does, would be first to place it.
func (p *placement) owned(ctx context.Context, kind string, ids []string) (map[string]bool, error) {
	live, candidates, _ := p.view(kind)
	owners, err := p.store.Owners(ctx, kind, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		if o, ok := owners[id]; ok && slices.Contains(live, o) {
			out[id] = o == p.self
			continue
		}
		order := RendezvousOrder(id, candidates)
		out[id] = len(order) > 0 && order[0] == p.self
	}
	return out, nil
}

// Exclude takes member (a member id; Node.MemberID for this node) out of
// (true) or back into (false) the candidates for new grains, on every node:
// the mark is in the shared store, and this node also skips the member at
// once. Grains the member hosts stay until they stop; a draining node
// excludes itself and then stops its grains (Handoff), so their next calls
// place them on the others. A node that excluded itself refuses new
// activations (the caller retries elsewhere), even when it is the last.
func (pl *Placement) Exclude(ctx context.Context, member string, excluded bool) error {
	pl.p.mu.Lock()
	if excluded {
		pl.p.excluded[member] = true
	} else {
		delete(pl.p.excluded, member)
	}
	pl.p.mu.Unlock()
	return pl.p.store.Exclude(ctx, member, excluded)
}

// Handoff stops every grain this node hosts; each one's record is released
// as it stops, and its next call places it elsewhere (call Exclude for this
// node first, or it may come back). It returns how many it stopped, after
// they stopped or ctx ended.
func (pl *Placement) Handoff(ctx context.Context) (int, error) {
	res, err := pl.p.c.ActorSystem.Root.RequestFuture(pl.p.actor, &handoff{}, pl.p.timeout).Result()
	if err != nil {
		return 0, err
	}
	futures := res.([]*actor.Future)
	for _, f := range futures {
		if err := ctx.Err(); err != nil {
			return len(futures), err
		}
		_ = f.Wait()
	}
	// Their releases are queued behind earlier writes: wait for them, or
	// a claim could still find this node and activate the grain here again.
	flushed := make(chan struct{})
	if !pl.p.enqueue(func(context.Context) { close(flushed) }) {
		return len(futures), nil
	}
	select {
	case <-flushed:
	case <-ctx.Done():
		return len(futures), ctx.Err()
	}
	return len(futures), nil
}

// Rebalance stops this node's grains beyond the bound of their kind, so
// their next calls place them on less loaded members (for example after a
// restarted node came back empty). It returns how many it stopped.
func (pl *Placement) Rebalance(ctx context.Context) (int, error) {
	return pl.p.shed(ctx, 1)
}

// Counts returns the active grains of kind per live member id, from the
// shared record (for spread views).
func (pl *Placement) Counts(ctx context.Context, kind string) (map[string]int, error) {
	live, _, _ := pl.p.view(kind)
	return pl.p.store.Counts(ctx, kind, live)
}

// Owned reports, for each identity of kind, whether this node hosts it now
// or, when no live member does, would be the first choice to: the node that
// should wake it (the sweeper of overdue holds).
func (pl *Placement) Owned(ctx context.Context, kind string, ids []string) (map[string]bool, error) {
	return pl.p.owned(ctx, kind, ids)
}

// shed stops local grains of every kind beyond factor x bound and returns
// how many it asked to stop.
func (p *placement) shed(ctx context.Context, factor float64) (int, error) {
	res, err := p.c.ActorSystem.Root.RequestFuture(p.actor, &shedFarOff{factor: factor, ctx: ctx}, p.timeout).Result()
	if err != nil {
		return 0, err
	}
	r := res.(*shedResult)
	return r.n, r.err
}

// excessOf returns how many of its n grains of kind this member holds
// beyond factor x the bound, from the shared counts.
func (p *placement) excessOf(ctx context.Context, kind string, n int, factor float64) (int, error) {
	live, _, _ := p.view(kind)
	if len(live) < 2 {
		return 0, nil
	}
	counts, err := p.store.Counts(ctx, kind, live)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	limit := int(math.Ceil(factor * float64(Bound(total, len(live), p.load))))
	if n > limit {
		return n - limit, nil
	}
	return 0, nil
}

// maxClaimBatch bounds the identities one claim transaction decides.
const maxClaimBatch = 2048

// claimReq is a caller of Get waiting for the owner of an identity that
// has no live record.
type claimReq struct {
	kind, id string
	reply    chan claimResult // buffered: the claimer never blocks on it
}

type claimResult struct {
	owner string
	err   error
}

// errPlacementStopped answers the claims still queued when the node stops.
var errPlacementStopped = errors.New("cluster: placement stopped")

// ownerOf returns the member hosting identity: its record if a live member
// holds it (read without the kind's lock, as most calls find), otherwise
// the claimer's decision.
func (p *placement) ownerOf(ctx context.Context, kind, identity string, live []string) (string, error) {
	owners, err := p.store.Owners(ctx, kind, []string{identity})
	if err != nil {
		return "", err
	}
	if o, ok := owners[identity]; ok && slices.Contains(live, o) {
		return o, nil
	}
	r := &claimReq{kind: kind, id: identity, reply: make(chan claimResult, 1)}
	select {
	case p.claims <- r:
	case <-p.stop:
		return "", errPlacementStopped
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case res := <-r.reply:
		return res.owner, res.err
	case <-p.claimDone:
		return "", errPlacementStopped
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
