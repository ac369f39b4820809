package cluster

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/hashicorp/memberlist"
)

// provider feeds memberlist's member set to Proto.Actor: it is the
// pcluster.ClusterProvider the library lacks (notes §7). memberlist calls its
// event delegate while holding its node lock, so the callbacks only copy the
// node into gossip and signal; one loop goroutine turns that table into
// Proto.Actor's topology. (Reading the *memberlist.Node values Members()
// returns would race: memberlist rewrites their address and metadata in
// place under its lock.)
//
// Lock order: memberlist's node lock, then mu. Nothing holding mu calls into
// memberlist or Proto.Actor.
type provider struct {
	cfg      Config
	log      *slog.Logger
	started  time.Time
	tr       *faultTransport // bound in Start, before Proto.Actor, so bind errors surface early
	mlLogger *log.Logger

	// Set once by StartMember, read-only afterwards.
	c    *pcluster.Cluster
	ml   *memberlist.Memberlist
	self string

	metaMu sync.Mutex // guards meta, which memberlist reads from its goroutines
	meta   nodeMeta

	kick     chan struct{} // capacity 1: "membership may have changed"
	stop     chan struct{} // closed by Shutdown
	wg       sync.WaitGroup
	stopOnce sync.Once

	mu        sync.Mutex                 // guards the fields below
	gossip    map[string]memberlist.Node // live gossip members by member id, copied by the event delegate
	view      memberView
	failed    map[string]departure // members that died, by member id: rejoin targets
	blockedBy map[string]bool      // member ids that told us they blocked us
	joined    bool                 // the first topology reached Proto.Actor

	dead     chan struct{}
	deadOnce sync.Once

	// handoff is set by Node.Drain once peers were told this node drains:
	// from then on this node's own placement passes it over too, so its
	// grains stop here and activate on their next owners.
	handoff atomic.Bool
	// drainSig is the set of handing-off members last published to
	// Proto.Actor's placement (only the sync loop touches it).
	drainSig string
	// syncs counts finished syncs, for Drain to wait for one.
	syncs atomic.Uint64
}

var (
	_ pcluster.ClusterProvider = (*provider)(nil)
	_ memberlist.Delegate      = (*provider)(nil)
	_ memberlist.EventDelegate = (*provider)(nil)
)

func newProvider(cfg Config, logger *slog.Logger, tr *faultTransport, mlLogger *log.Logger) *provider {
	return &provider{
		cfg: cfg, log: logger, started: time.Now(), tr: tr, mlLogger: mlLogger,
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		gossip:    map[string]memberlist.Node{},
		failed:    map[string]departure{},
		blockedBy: map[string]bool{},
		dead:      make(chan struct{}),
	}
}

// StartMember implements pcluster.ClusterProvider. Proto.Actor calls it after
// its gRPC server started, so the actor address is known.
func (p *provider) StartMember(c *pcluster.Cluster) error { return p.start(c, c.GetClusterKinds()) }

// StartClient implements pcluster.ClusterProvider. boxoffice nodes are always
// members, but a client simply gossips no kinds.
func (p *provider) StartClient(c *pcluster.Cluster) error { return p.start(c, []string{}) }

func (p *provider) start(c *pcluster.Cluster, kinds []string) error {
	host, port, err := c.ActorSystem.GetHostPort()
	if err != nil {
		return fmt.Errorf("actor address: %w", err)
	}
	p.c, p.self = c, c.ActorSystem.ID
	p.view = newMemberView(p.self)
	p.meta = nodeMeta{Version: metaVersion, Name: p.cfg.NodeName, Host: host, Port: port,
		HTTP: p.cfg.HTTPAddr, Started: p.started.UnixMilli(), Kinds: kinds}
	if _, err := p.meta.encode(); err != nil {
		return err
	}
	if p.ml, err = memberlist.Create(p.memberlistConfig()); err != nil {
		return fmt.Errorf("start gossip: %w", err)
	}
	if len(p.cfg.Join) > 0 {
		if n, err := p.ml.Join(p.cfg.Join); err != nil {
			// The first node of a cluster has nobody to join; the rejoin loop
			// keeps trying while this node is alone.
			p.log.Info("cluster: no seed answered yet", "seeds", p.cfg.Join, "err", err)
		} else {
			p.log.Info("cluster: joined", "contacted", n)
		}
	}
	p.wg.Add(2)
	go p.run()
	go p.rejoinLoop()
	p.signal()
	return nil
}

// memberlistConfig maps GossipConfig onto memberlist's LAN defaults.
func (p *provider) memberlistConfig() *memberlist.Config {
	g := p.cfg.Gossip
	mc := memberlist.DefaultLANConfig()
	mc.Name = p.self // unique per process: Proto.Actor blocks departed ids forever
	mc.Label = p.cfg.ClusterName
	mc.Transport = p.tr
	mc.Logger = p.mlLogger
	host, _, _ := splitHostPort(p.cfg.GossipAddr)
	mc.BindAddr, mc.BindPort = host, p.tr.GetAutoBindPort()
	mc.AdvertisePort = mc.BindPort
	if g.AdvertiseAddr != "" {
		mc.AdvertiseAddr, mc.AdvertisePort, _ = splitHostPort(g.AdvertiseAddr)
	}
	mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult = g.ProbeInterval, g.ProbeTimeout, g.SuspicionMult
	mc.GossipInterval, mc.GossipToTheDeadTime = g.GossipInterval, g.GossipToTheDeadTime
	mc.PushPullInterval, mc.TCPTimeout = g.PushPullInterval, g.TCPTimeout
	mc.Delegate, mc.Events = p, p
	return mc
}

// Shutdown implements pcluster.ClusterProvider: it stops the loops, leaves
// the gossip if graceful (peers then see "left", not "dead", at once) and
// closes the gossip sockets. Safe to call more than once.
func (p *provider) Shutdown(graceful bool) error {
	var err error
	p.stopOnce.Do(func() {
		close(p.stop)
		p.wg.Wait()
		if p.ml == nil {
			err = p.tr.Shutdown()
			return
		}
		if graceful {
			p.announceLeave()
			if lerr := p.ml.Leave(p.cfg.Gossip.LeaveTimeout); lerr != nil {
				p.log.Warn("cluster: leave", "err", lerr)
			}
		}
		err = errors.Join(p.ml.Shutdown(), p.tr.Shutdown())
	})
	return err
}

// signal asks the loop to sync soon; it never blocks.
func (p *provider) signal() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run owns the sync: on every memberlist event and every SyncInterval.
func (p *provider) run() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.Gossip.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-t.C:
		}
		p.sync()
	}
}

// sync reads memberlist, hands the full member set to Proto.Actor (which
// diffs it, blocks departed ids and publishes a ClusterTopology), refreshes
// the admin view, tells zombies they are blocked and checks whether this node
// is one.
func (p *provider) sync() {
	nodes := p.gossipNodes()
	blocked := p.blockedMembers()
	seen := make(map[string]MemberInfo, len(nodes))
	byID := make(map[string]*memberlist.Node, len(nodes))
	for _, n := range nodes {
		if info, ok := memberInfo(n); ok {
			info.Self = n.Name == p.self
			seen[n.Name], byID[n.Name] = info, n
		}
	}
	p.mu.Lock()
	p.view.keepMissing(time.Now(), seen, p.cfg.Gossip.DeadGrace)
	p.mu.Unlock()
	members := make(pcluster.Members, 0, len(seen))
	var zombies []*memberlist.Node
	var handingOff []string
	for id, info := range seen {
		if !blocked.Contains(id) {
			h := info.Draining && (id != p.self || p.handoff.Load())
			if h {
				handingOff = append(handingOff, id)
			}
			members = append(members, info.protoMember(h))
			continue
		}
		info.Status = StatusBlocked
		seen[id] = info
		if n := byID[id]; n != nil {
			zombies = append(zombies, n)
		}
	}
	p.c.MemberList.UpdateClusterTopology(members)
	p.publishHandoff(members, handingOff)
	p.record(seen)
	p.notifyBlocked(zombies)
	p.checkDead(seen)
	p.syncs.Add(1)
}

// publishHandoff re-publishes the topology when the set of members handing
// off changed, and on every sync while this node hands off. Proto.Actor
// only publishes a topology when its member ids change, and its placement
// (the distributed hash and the placement actor, which stops the grains
// this node no longer owns) learns member kinds only from that event; the
// same member ids with a draining member's kinds removed make placement
// pass the member over while it stays reachable. Repeating it while this
// node hands off stops grains that late callers (peers that had not heard
// of the drain yet) activated here meanwhile.
func (p *provider) publishHandoff(members pcluster.Members, handingOff []string) {
	slices.Sort(handingOff)
	sig := strings.Join(handingOff, ",")
	if sig == p.drainSig && !p.handoff.Load() {
		return
	}
	p.drainSig = sig
	cp := slices.Clone(members)
	p.c.ActorSystem.EventStream.Publish(&pcluster.ClusterTopology{TopologyHash: pcluster.TopologyHash(slices.Clone(cp)), Members: cp})
}

// setDraining gossips that this node drains (NodeMeta) and waits until the
// update was broadcast, bounded by Gossip.TCPTimeout.
func (p *provider) setDraining() error {
	p.metaMu.Lock()
	p.meta.Draining = true
	p.metaMu.Unlock()
	if err := p.ml.UpdateNode(p.cfg.Gossip.TCPTimeout); err != nil {
		return fmt.Errorf("gossip the drain: %w", err)
	}
	p.signal()
	return nil
}

// waitSync waits until a sync that started after the call has finished.
func (p *provider) waitSync(ctx context.Context) error {
	target := p.syncs.Load() + 2
	p.signal()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for p.syncs.Load() < target {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.stop:
			return errors.New("cluster: node stopped")
		case <-t.C:
			p.signal()
		}
	}
	return nil
}

// gossipNodes returns a copy of the live gossip members.
func (p *provider) gossipNodes() []*memberlist.Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*memberlist.Node, 0, len(p.gossip))
	for _, n := range p.gossip {
		out = append(out, &n)
	}
	return out
}

// blockedMembers returns Proto.Actor's set of blocked member ids.
// BlockList.BlockedMembers reads the set without its lock; Len takes the
// read lock first, so at least every block finished before this call is
// visible (the library itself reads the set the same unlocked way).
func (p *provider) blockedMembers() interface{ Contains(string) bool } {
	bl := p.c.Remote.BlockList()
	_ = bl.Len()
	return bl.BlockedMembers()
}

// record stores the new view and logs what changed.
func (p *provider) record(alive map[string]MemberInfo) {
	now := time.Now()
	p.mu.Lock()
	changes := p.view.update(now, alive, p.cfg.Gossip.DepartedRetention)
	for _, ch := range changes {
		switch ch.info.Status {
		case StatusDead:
			p.failed[ch.info.MemberID] = departure{info: ch.info, at: now}
		case StatusAlive, StatusBlocked, StatusSuspect:
			delete(p.failed, ch.info.MemberID)
		}
	}
	for id, f := range p.failed {
		if now.Sub(f.at) > p.cfg.Gossip.ReconnectTimeout {
			delete(p.failed, id)
		}
	}
	p.joined = true
	p.mu.Unlock()
	for _, ch := range changes {
		lvl := slog.LevelInfo
		if ch.info.Status != StatusAlive && ch.info.Status != StatusLeft {
			lvl = slog.LevelWarn
		}
		p.log.Log(context.Background(), lvl, "cluster: member "+string(ch.info.Status), "node", ch.info.Name,
			"member_id", ch.info.MemberID, "was", string(ch.from), "actor_addr", ch.info.ActorAddr)
	}
}

// members returns the admin view.
func (p *provider) members() []MemberInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.view.list()
}

// nameOf maps a Proto.Actor address to a node name.
func (p *provider) nameOf(actorAddr string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.view.nameOf(actorAddr)
}

// setHTTPAddr changes the gossiped HTTP address and pushes it to peers.
func (p *provider) setHTTPAddr(addr string) error {
	p.metaMu.Lock()
	old := p.meta.HTTP
	p.meta.HTTP = addr
	_, err := p.meta.encode()
	if err != nil {
		p.meta.HTTP = old
	}
	p.metaMu.Unlock()
	if err != nil {
		return err
	}
	if err := p.ml.UpdateNode(p.cfg.Gossip.TCPTimeout); err != nil {
		return fmt.Errorf("gossip new HTTP address: %w", err)
	}
	p.signal()
	return nil
}

// localGossipAddr is the address peers reach this node's gossip on.
func (p *provider) localGossipAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.gossip[p.self]
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// NodeMeta implements memberlist.Delegate.
func (p *provider) NodeMeta(limit int) []byte {
	p.metaMu.Lock()
	defer p.metaMu.Unlock()
	b, err := p.meta.encode()
	if err != nil || len(b) > limit {
		return nil
	}
	return b
}

// GetBroadcasts implements memberlist.Delegate; nothing is piggybacked.
func (p *provider) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState implements memberlist.Delegate; there is no extra state.
func (p *provider) LocalState(join bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate.
func (p *provider) MergeRemoteState(buf []byte, join bool) {}

// NotifyJoin implements memberlist.EventDelegate. memberlist holds its node
// lock here: calling back into it would deadlock, so the node is copied (its
// fields are safe to read under that lock) and the loop signalled.
func (p *provider) NotifyJoin(n *memberlist.Node) { p.remember(n) }

// NotifyUpdate implements memberlist.EventDelegate (metadata changed).
func (p *provider) NotifyUpdate(n *memberlist.Node) { p.remember(n) }

// NotifyLeave implements memberlist.EventDelegate (dead or left).
func (p *provider) NotifyLeave(n *memberlist.Node) {
	p.mu.Lock()
	delete(p.gossip, n.Name)
	p.mu.Unlock()
	p.signal()
}

// remember copies a live node. memberlist replaces Addr and Meta with new
// slices rather than writing into them, so sharing their arrays is safe.
func (p *provider) remember(n *memberlist.Node) {
	p.mu.Lock()
	p.gossip[n.Name] = *n
	p.mu.Unlock()
	p.signal()
}
