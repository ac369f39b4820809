package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Node is one running cluster member: a Proto.Actor actor system with
// remoting, the grain kinds of Config.Kinds placed by distributed hashing,
// and memberlist gossip for membership.
type Node struct {
	cfg  Config
	log  *slog.Logger
	sys  *actor.ActorSystem
	c    *pcluster.Cluster
	p    *provider
	pl   *placement // nil with plain rendezvous hashing
	once sync.Once
}

// noAddress is what actor.ActorSystem.Address returns before remoting starts.
const noAddress = "nonhost"

// Start validates cfg, binds the gossip port, starts the actor system with
// remoting, joins the seeds and registers as a member. It blocks for about a
// second (Proto.Actor waits for the first topology). A cancelled ctx stops
// the start; the node is then shut down again.
//
// Errors: an invalid Config (see Validate), a gossip or gRPC port that cannot
// be bound, metadata that does not fit in gossip, or ctx's error.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("node", cfg.NodeName)
	ml := &memberlistLog{log: libraryLogger(logger, cfg.LibraryLogLevel, "memberlist")}
	host, port, _ := splitHostPort(cfg.GossipAddr)
	tr, err := newFaultTransport(host, port, newMemberlistLogger(ml))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	p := newProvider(cfg, logger, tr, newMemberlistLogger(ml))
	ml.onRefute = p.onRefute

	protoLog := libraryLogger(logger, cfg.LibraryLogLevel, "protoactor")
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return protoLog }))
	n := &Node{cfg: cfg, log: logger.With("member_id", sys.ID), sys: sys, p: p}
	if err := n.startMember(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		n.Shutdown(false)
		return nil, err
	}
	n.log.Info("cluster: node started", "gossip_addr", n.GossipAddr(), "actor_addr", n.ActorAddr())
	return n, nil
}

// startMember builds the Proto.Actor cluster and starts it, turning the
// library's panics (it panics when a port cannot be bound or the provider
// fails) into an error and releasing what was already started.
func (n *Node) startMember() (err error) {
	cfg := n.cfg
	bind := cfg.RemoteBindHost
	if bind == "" {
		bind = cfg.RemoteHost
	}
	var ropts []remote.ConfigOption
	if bind != cfg.RemoteHost {
		ropts = append(ropts, remote.WithAdvertisedHost(net.JoinHostPort(cfg.RemoteHost, strconv.Itoa(cfg.RemotePort))))
	}
	rc := remote.Configure(bind, cfg.RemotePort, ropts...)
	// An endpoint writer that cannot connect blocks its mailbox for 2 s per
	// attempt before it gives up and dead-letters what it holds (the
	// library's default is 5 attempts). Messages to a crashed member's
	// address, such as placement lookups sent before gossip declared it
	// dead, then hang until their own 5 s timeout. One attempt turns them
	// into dead letters after 2 s, which grain calls retry on the new owner.
	rc.MaxRetryCount = 1
	lookup := disthash.New()
	if cfg.Placement != nil {
		n.pl = newPlacement(cfg.Placement, cfg.PlacementLoad, cfg.PlacementFarOff, cfg.RequestTimeout, n.log)
		lookup = n.pl
	}
	pc := pcluster.Configure(cfg.ClusterName, n.p, lookup, rc,
		pcluster.WithKinds(cfg.Kinds...), pcluster.WithRequestTimeout(cfg.RequestTimeout))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: start member: %v", r)
			if e, ok := r.(error); ok {
				err = fmt.Errorf("cluster: start member: %w", e)
			}
			n.abort()
		}
	}()
	n.c = pcluster.New(n.sys, pc)
	n.c.StartMember()
	return nil
}

// abort releases a half-started node.
func (n *Node) abort() {
	_ = n.p.Shutdown(false)
	n.sys.Shutdown()
	if n.c != nil && n.c.Remote != nil && n.sys.Address() != noAddress {
		n.c.Remote.Shutdown(false)
	}
}

// Cluster returns the Proto.Actor cluster, for grain requests
// (Cluster().Request(identity, kind, msg, CallOptions(timeout)...)).
func (n *Node) Cluster() *pcluster.Cluster { return n.c }

// Placement returns the bounded-load placement's controls (exclude a
// member, rebalance, counts, ownership), or nil when Config.Placement is
// nil and grains are placed by plain rendezvous hashing.
func (n *Node) Placement() *Placement {
	if n.pl == nil {
		return nil
	}
	return &Placement{p: n.pl}
}

// PlacementOf returns the bounded-load placement of a Proto.Actor cluster
// started by this package, or nil if it places by plain rendezvous hashing
// (or was started elsewhere). Packages that only hold the cluster (the seat
// engine's sweeper) use it to follow the placement.
func PlacementOf(c *pcluster.Cluster) *Placement {
	if c == nil || c.Config == nil {
		return nil
	}
	if pl, ok := c.Config.IdentityLookup.(*placement); ok {
		return &Placement{p: pl}
	}
	return nil
}

// System returns the actor system, for spawning local actors.
func (n *Node) System() *actor.ActorSystem { return n.sys }

// Name returns the stable node name (Config.NodeName).
func (n *Node) Name() string { return n.cfg.NodeName }

// MemberID returns the Proto.Actor member id, new on every start: peers
// block the ids of departed members forever, so a restart must not reuse it.
func (n *Node) MemberID() string { return n.sys.ID }

// GossipAddr returns the gossip address peers reach this node on (with the
// real port when Config.GossipAddr asked for port 0): give it to other nodes
// as a seed.
func (n *Node) GossipAddr() string { return n.p.localGossipAddr() }

// ActorAddr returns the Proto.Actor address, the host:port in PIDs of grains
// this node hosts.
func (n *Node) ActorAddr() string { return n.sys.Address() }

// Members returns every node gossip reaches (alive, or blocked zombies), then
// recently departed nodes (dead or left) that have not come back, each group
// sorted by name. The view is refreshed on every membership event and every
// Gossip.SyncInterval.
func (n *Node) Members() []MemberInfo { return n.p.members() }

// NameOf returns the node name owning a Proto.Actor address (a PID's
// Address), or "" if no known node has it. Placement views use it to show
// where a grain lives.
func (n *Node) NameOf(actorAddr string) string { return n.p.nameOf(actorAddr) }

// Joined reports whether this node's membership reached Proto.Actor, so it
// can place and serve grains (for readiness checks).
func (n *Node) Joined() bool {
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	return n.p.joined
}

// Dead is closed when a majority of this node's live peers declared it dead
// and blocked its member id. Such a node can no longer reach them or host
// grains for them, so the process should shut down and start again (with a
// new member id). Shutdown does not close it.
func (n *Node) Dead() <-chan struct{} { return n.p.dead }

// Drain hands this node's grains to the other members before it leaves:
// it gossips that the node drains, so peers place no grain on it (it stays
// a member: calls in flight to it are answered, and callers whose calls
// reach a grain that already stopped get a dead letter and retry on the
// new owner), waits four gossip intervals for the news to spread, then passes itself over
// in its own placement, which stops its grains (each passivates: a final
// snapshot). Their next call activates them on their new owners at once,
// with no failure detector involved. Shutdown(true) afterwards leaves the
// cluster with nothing left to move.
//
// With the bounded placement (Config.Placement), which moves only the
// grains of departed members and so stops nothing when a member merely
// hosts no kinds, Drain also excludes this node from the shared placement
// record first (no claim picks it) and ends with its Handoff: every local
// grain stops and its record is released before Drain returns.
//
// Otherwise Drain returns once the local placement changed; the grains stop
// asynchronously (their owners, e.g. actors.Engine, can wait for them).
// Errors: the gossip or placement update failed, or ctx ended first.
func (n *Node) Drain(ctx context.Context) error {
	settle := 4 * n.cfg.Gossip.GossipInterval
	n.log.Info("cluster: draining: handing grains to the other members")
	pl := n.Placement()
	if pl != nil {
		if err := pl.Exclude(ctx, n.MemberID(), true); err != nil {
			return fmt.Errorf("cluster: drain: exclude from placement: %w", err)
		}
	}
	if err := n.p.setDraining(); err != nil {
		return err
	}
	if err := n.p.waitSync(ctx); err != nil {
		return err
	}
	t := time.NewTimer(settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	n.p.handoff.Store(true)
	if err := n.p.waitSync(ctx); err != nil {
		return err
	}
	if pl != nil {
		if _, err := pl.Handoff(ctx); err != nil {
			return fmt.Errorf("cluster: drain: hand grains off: %w", err)
		}
	}
	return nil
}

// Draining reports whether Drain was called.
func (n *Node) Draining() bool {
	n.p.metaMu.Lock()
	defer n.p.metaMu.Unlock()
	return n.p.meta.Draining
}

// SetHTTPAddr gossips a new HTTP address, for nodes that bind their HTTP
// listener after Start (port 0). Errors: metadata too large, or the update
// could not be gossiped within Gossip.TCPTimeout.
func (n *Node) SetHTTPAddr(addr string) error { return n.p.setHTTPAddr(addr) }

// PartitionGossip cuts (true) or restores (false) this node's gossip traffic
// in both directions, as a network partition would. It is a fault-injection
// hook for failure tests; Proto.Actor's gRPC traffic is not affected.
func (n *Node) PartitionGossip(cut bool) { n.p.tr.setCut(cut) }

// Shutdown stops the node; only the first call acts, later ones return at
// once (after the first finished, if it is still running).
//
// Graceful: announce the leave, leave the gossip (peers re-place this node's
// grains at once), stop the local grains (each writes its snapshot; the
// identity lookup waits for every one), then stop gossip and remoting. This
// is Proto.Actor's own graceful Cluster.Shutdown without its fixed two-second
// sleep "for ownership transfer": our grains hand over through PostgreSQL
// (snapshot, journal, epoch fence), not through the lookup, so the sleep only
// delayed every stop (a rolling restart, and each node a test stops). Not graceful: drop gossip
// without a word and kill remoting, as a crash would; peers find out through
// failure detection.
func (n *Node) Shutdown(graceful bool) {
	n.once.Do(func() {
		n.log.Info("cluster: node stopping", "graceful", graceful)
		if graceful {
			n.c.Gossip.SetState(pcluster.GracefullyLeftKey, &emptypb.Empty{})
			n.c.ActorSystem.Shutdown()
			if err := n.p.Shutdown(true); err != nil && !errors.Is(err, net.ErrClosed) {
				n.log.Warn("cluster: leave gossip", "err", err)
			}
			n.c.IdentityLookup.Shutdown()
			n.c.Gossip.Shutdown()
			n.c.Remote.Shutdown(true)
		} else {
			if err := n.p.Shutdown(false); err != nil {
				n.log.Warn("cluster: stop gossip", "err", err)
			}
			n.c.Shutdown(false)
		}
		if err := n.p.Shutdown(graceful); err != nil && !errors.Is(err, net.ErrClosed) {
			n.log.Warn("cluster: stop gossip", "err", err)
		}
		n.log.Info("cluster: node stopped")
	})
}
