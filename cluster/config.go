package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// Config describes one node of the cluster. Build it from DefaultConfig and
// override what the deployment needs; Start calls Validate.
type Config struct {
	// NodeName is the stable, human name of the node (BOXOFFICE_NODE_ID). It
	// survives restarts and is what admin pages, logs and metrics show. The
	// Proto.Actor member id, by contrast, is new on every start (see
	// Node.MemberID). Letters, digits, '.', '_' and '-', at most 64 bytes.
	// Default: the host name, which is stable for a Kubernetes StatefulSet pod.
	NodeName string

	// GossipAddr is the host:port memberlist binds for gossip (UDP and TCP),
	// BOXOFFICE_GOSSIP_ADDR. Port 0 picks a random free port (tests).
	// Default 127.0.0.1:7946.
	GossipAddr string

	// Join lists seed gossip addresses (BOXOFFICE_JOIN). Joining any one live
	// member is enough; an empty list starts a new cluster. Seeds that cannot
	// be reached at start are retried every Gossip.RejoinInterval while this
	// node is alone, so nodes may start in any order.
	Join []string

	// RemoteHost is the host other members use to reach this node's
	// Proto.Actor gRPC server; it is advertised in gossip. Default 127.0.0.1.
	RemoteHost string

	// RemoteBindHost is the host the gRPC server listens on when it differs
	// from RemoteHost (for example 0.0.0.0 in a container). Empty means
	// RemoteHost. Binding elsewhere needs a fixed RemotePort, because the
	// advertised address must name the port before the server starts.
	RemoteBindHost string

	// RemotePort is the Proto.Actor gRPC port; 0 picks a random free port,
	// which gossip then advertises. Default 0.
	RemotePort int

	// HTTPAddr is this node's public HTTP address. It is only gossiped, so the
	// admin dashboard can show and link every node. It may be set later with
	// Node.SetHTTPAddr once the listener is bound.
	HTTPAddr string

	// Kinds are the grain kinds this node hosts. Placement only considers
	// members that host a kind, so every node that should share the load of a
	// kind must list it.
	Kinds []*pcluster.Kind

	// RequestTimeout is the default timeout of a grain request (Proto.Actor's
	// RequestTimeoutTime). Callers normally pass CallOptions instead.
	// Default 5s.
	RequestTimeout time.Duration

	// ClusterName separates clusters: it is Proto.Actor's cluster name and the
	// memberlist packet label, so nodes of another cluster that share a
	// network never merge with this one. Default "boxoffice".
	ClusterName string

	// Logger receives this package's logs. Proto.Actor's and memberlist's own
	// logs go to the same handler but only from LibraryLogLevel up, because
	// they log every topology change and retry at info. Default slog.Default().
	Logger *slog.Logger

	// LibraryLogLevel is the lowest level of Proto.Actor and memberlist logs
	// that reach Logger. Default slog.LevelWarn.
	LibraryLogLevel slog.Level

	// Gossip holds the failure-detector and gossip timings.
	Gossip GossipConfig

	// Placement is the shared placement record. When set, grains are placed
	// with bounded load (no member takes a new grain of a kind while it
	// holds PlacementLoad x the mean) and stay where they are when members
	// come and go; every node of the cluster must use the same store. Nil
	// keeps Proto.Actor's plain rendezvous hashing (disthash), which moves
	// grains back to a restarted node and can be far from even.
	Placement PlacementStore

	// PlacementLoad is the bound of bounded-load placement (a member holds
	// at most ceil(PlacementLoad x mean) grains of a kind). Default 1.15.
	PlacementLoad float64

	// PlacementFarOff: after a topology change, a member holding more than
	// PlacementFarOff x the bound of a kind stops its excess grains so they
	// re-place elsewhere; below that, grains move only when they passivate
	// or on Placement.Rebalance. Default 1.5.
	PlacementFarOff float64
}

// GossipConfig holds the memberlist knobs and this package's own timings.
// Smaller values detect failures faster but declare slow nodes dead more
// often; a node declared dead must restart (see Node.Dead), so production
// keeps memberlist's LAN defaults and tests shrink them (FastGossipConfig).
type GossipConfig struct {
	// AdvertiseAddr is the host:port peers use to reach this node's gossip
	// port when it differs from GossipAddr (NAT, 0.0.0.0 binds). Empty lets
	// memberlist choose: the bound address, or a private IP for 0.0.0.0.
	AdvertiseAddr string

	// ProbeInterval is how often a random member is pinged. LAN default 1s.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a ping waits for its ack before indirect
	// probes. LAN default 500ms.
	ProbeTimeout time.Duration
	// SuspicionMult scales how long a suspected member has to refute before
	// it is declared dead: SuspicionMult * log10(N) * ProbeInterval, at least
	// SuspicionMult * ProbeInterval. LAN default 4.
	SuspicionMult int
	// GossipInterval is how often queued broadcasts are gossiped. LAN
	// default 200ms.
	GossipInterval time.Duration
	// GossipToTheDeadTime is how long dead members still receive gossip, so a
	// member wrongly declared dead hears about it. LAN default 30s.
	GossipToTheDeadTime time.Duration
	// PushPullInterval is how often full state is exchanged with one random
	// member; it repairs anything gossip lost. LAN default 30s.
	PushPullInterval time.Duration
	// TCPTimeout bounds TCP dials and push/pull exchanges. LAN default 10s.
	TCPTimeout time.Duration
	// LeaveTimeout bounds how long a graceful shutdown waits for its leave
	// message to spread. Default 2s.
	LeaveTimeout time.Duration

	// DeadGrace is how long a member memberlist declared dead keeps its
	// place in Proto.Actor's topology, shown as suspect. Proto.Actor blocks a
	// removed member id forever, and a member wrongly declared dead (a stale
	// rumour arriving when a partition heals, a short pause) usually refutes
	// within a gossip round or two; without the grace it would have to
	// restart. The price is that a crashed node's grains move this much
	// later. A graceful leave is not delayed. Default 2s.
	DeadGrace time.Duration

	// SyncInterval is how often the member view is re-read even without a
	// memberlist event: it picks up members Proto.Actor blocked on its own
	// (expired heartbeats) and repeats "you are blocked" notices to zombies.
	// Default 1s.
	SyncInterval time.Duration
	// RejoinInterval is how often a node that is alone retries its seeds, and
	// every node retries members it saw die. This heals partitions: memberlist
	// itself never contacts a dead member again once GossipToTheDeadTime is
	// over. Default 10s.
	RejoinInterval time.Duration
	// ReconnectTimeout is how long a dead member's address keeps being
	// retried. Default 10m.
	ReconnectTimeout time.Duration
	// DepartedRetention is how long a departed node stays listed (as dead or
	// left) in Node.Members after it is gone. Default 10m.
	DepartedRetention time.Duration
}

// DefaultGossipConfig returns memberlist's LAN timings plus this package's
// defaults: good for nodes in one data centre.
func DefaultGossipConfig() GossipConfig {
	return GossipConfig{
		ProbeInterval:       time.Second,
		ProbeTimeout:        500 * time.Millisecond,
		SuspicionMult:       4,
		GossipInterval:      200 * time.Millisecond,
		GossipToTheDeadTime: 30 * time.Second,
		PushPullInterval:    30 * time.Second,
		TCPTimeout:          10 * time.Second,
		LeaveTimeout:        2 * time.Second,
		DeadGrace:           2 * time.Second,
		SyncInterval:        time.Second,
		RejoinInterval:      10 * time.Second,
		ReconnectTimeout:    10 * time.Minute,
		DepartedRetention:   10 * time.Minute,
	}
}

// FastGossipConfig returns timings for tests on loopback: a crashed node is
// declared dead within about a second and partitions heal within a few. They
// are still loose enough that a busy two-core machine does not declare live
// nodes dead. Do not use them across a real network.
func FastGossipConfig() GossipConfig {
	return GossipConfig{
		ProbeInterval:       200 * time.Millisecond,
		ProbeTimeout:        100 * time.Millisecond,
		SuspicionMult:       3,
		GossipInterval:      50 * time.Millisecond,
		GossipToTheDeadTime: 2 * time.Second,
		PushPullInterval:    time.Second,
		TCPTimeout:          time.Second,
		LeaveTimeout:        500 * time.Millisecond,
		DeadGrace:           400 * time.Millisecond,
		SyncInterval:        100 * time.Millisecond,
		RejoinInterval:      500 * time.Millisecond,
		ReconnectTimeout:    time.Minute,
		DepartedRetention:   time.Minute,
	}
}

// DefaultConfig returns a single-node configuration on loopback: gossip on
// 127.0.0.1:7946, Proto.Actor on a random loopback port, named after the host.
func DefaultConfig() Config {
	name, err := os.Hostname()
	if err != nil || !nodeNameRE.MatchString(name) {
		name = "boxoffice"
	}
	return Config{
		NodeName:        name,
		GossipAddr:      "127.0.0.1:7946",
		RemoteHost:      "127.0.0.1",
		RequestTimeout:  5 * time.Second,
		ClusterName:     "boxoffice",
		LibraryLogLevel: slog.LevelWarn,
		Gossip:          DefaultGossipConfig(),
	}
}

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate reports every invalid field at once, so a misconfigured node fails
// at start with one message instead of one restart per mistake.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !nodeNameRE.MatchString(c.NodeName) {
		bad("cluster: node name %q: want 1-64 letters, digits, '.', '_' or '-'", c.NodeName)
	}
	if err := checkIPPort(c.GossipAddr); err != nil {
		bad("cluster: gossip address: %w", err)
	}
	if c.Gossip.AdvertiseAddr != "" {
		if err := checkIPPort(c.Gossip.AdvertiseAddr); err != nil {
			bad("cluster: gossip advertise address: %w", err)
		}
	}
	if c.RemoteHost == "" {
		bad("cluster: remote host is empty")
	}
	if c.RemotePort < 0 || c.RemotePort > 65535 {
		bad("cluster: remote port %d out of range", c.RemotePort)
	}
	if c.RemoteBindHost != "" && c.RemoteBindHost != c.RemoteHost && c.RemotePort == 0 {
		bad("cluster: remote bind host %q differs from remote host %q, so remote port must be fixed", c.RemoteBindHost, c.RemoteHost)
	}
	if c.ClusterName == "" || len(c.ClusterName) > 255 {
		bad("cluster: cluster name must be 1-255 bytes")
	}
	if c.RequestTimeout <= 0 {
		bad("cluster: request timeout must be positive")
	}
	for i, k := range c.Kinds {
		switch {
		case k == nil || k.Kind == "" || k.Props == nil:
			bad("cluster: kind %d is incomplete", i)
		case strings.Contains(k.Kind, "/"):
			// Proto.Actor keys grains as kind/identity and splits at the first '/'.
			bad("cluster: kind %q contains '/'", k.Kind)
		}
	}
	if c.PlacementLoad < 0 || (c.PlacementLoad > 0 && c.PlacementLoad < 1) {
		bad("cluster: placement load %v must be at least 1", c.PlacementLoad)
	}
	if c.PlacementFarOff < 0 || (c.PlacementFarOff > 0 && c.PlacementFarOff < 1) {
		bad("cluster: placement far-off factor %v must be at least 1", c.PlacementFarOff)
	}
	if err := c.Gossip.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (g GossipConfig) validate() error {
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"probe interval", g.ProbeInterval}, {"probe timeout", g.ProbeTimeout},
		{"gossip interval", g.GossipInterval}, {"gossip-to-the-dead time", g.GossipToTheDeadTime},
		{"push/pull interval", g.PushPullInterval}, {"TCP timeout", g.TCPTimeout},
		{"leave timeout", g.LeaveTimeout}, {"dead grace", g.DeadGrace}, {"sync interval", g.SyncInterval},
		{"rejoin interval", g.RejoinInterval}, {"reconnect timeout", g.ReconnectTimeout},
		{"departed retention", g.DepartedRetention},
	}
	var errs []error
	for _, d := range durations {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("cluster: gossip %s must be positive", d.name))
		}
	}
	if g.SuspicionMult < 1 {
		errs = append(errs, errors.New("cluster: gossip suspicion multiplier must be at least 1"))
	}
	if g.ProbeTimeout > g.ProbeInterval {
		errs = append(errs, errors.New("cluster: gossip probe timeout must not exceed the probe interval"))
	}
	return errors.Join(errs...)
}

// checkIPPort accepts ip:port only: memberlist binds every interface when
// the host is not an IP literal, and cannot advertise a host name.
func checkIPPort(addr string) error {
	host, _, err := splitHostPort(addr)
	if err != nil {
		return err
	}
	if net.ParseIP(host) == nil {
		return fmt.Errorf("%q: host must be an IP address", addr)
	}
	return nil
}

// splitHostPort parses host:port with a numeric port (0 allowed).
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", addr)
	}
	return host, port, nil
}
