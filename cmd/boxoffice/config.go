package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice/api"
)

// Config is everything a node is told at start-up. Each field is a flag of
// `boxoffice serve` whose default comes from a BOXOFFICE_* environment
// variable (API.md "Configuration"), so containers use env and people use flags.
type Config struct {
	Addr        string
	Mode        string
	DatabaseURL string
	NATSURL     string
	JWTSecret   string
	JWKSURL     string
	// AdmissionSecret keys the waiting room's admission tokens (every node
	// of a cluster needs the same); empty derives the key from JWTSecret.
	// A node without either refuses to start: an admission key derived
	// from nothing would let anyone mint tokens.
	AdmissionSecret string
	HoldTTL         time.Duration
	NodeID          string
	Join            []string
	GossipAddr      string
	ActorAddr       string
	// GossipTimings is "lan" (memberlist's LAN defaults, for real networks)
	// or "fast" (cluster.FastGossipConfig: a crashed node is declared dead
	// in about a second; loopback clusters and tests only).
	GossipTimings string
	// NATSPort, NATSClusterPort and NATSRoutes shape the embedded
	// nats-server when NATSURL is empty: its client port, the port other
	// nodes' servers route to, and their route URLs.
	NATSPort        int
	NATSClusterPort int
	NATSRoutes      []string
	// NATSHost is the embedded nats-server's listen host for both ports:
	// loopback alone, the pod or VM address when other nodes route to it.
	NATSHost string
	// DataDir keeps the node's local state: its stable name, the search
	// index and the embedded JetStream store.
	DataDir       string
	SnapshotEvery int
	// CommitLinger is actors.Config.MaxLinger.
	CommitLinger time.Duration
	IdleTimeout  time.Duration
	LogLevel     string
	// PublicURL is how people reach this node, for printed links.
	PublicURL string
	// RateIP and RateUser are the sustained requests per second allowed
	// per client address and per user (bursts of twice that); 0 turns a
	// limit off, which a load test from one address needs.
	RateIP   float64
	RateUser float64
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) there:
	// a separate listener, so it can stay on loopback while Addr is public.
	DebugAddr string
}

// env reads BOXOFFICE_<name>.
type env func(string) string

func (e env) str(name, def string) string {
	if v := e("BOXOFFICE_" + name); v != "" {
		return v
	}
	return def
}

func (e env) dur(name string, def time.Duration) time.Duration {
	if v := e("BOXOFFICE_" + name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func (e env) num(name string, def int) int {
	if v := e("BOXOFFICE_" + name); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n
		}
	}
	return def
}

func (e env) flt(name string, def float64) float64 {
	if v := e("BOXOFFICE_" + name); v != "" {
		var f float64
		if _, err := fmt.Sscan(v, &f); err == nil {
			return f
		}
	}
	return def
}

// listFlag is a comma-separated list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = splitList(s)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseConfig fills a Config from args and the environment.
func parseConfig(name string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	e := env(getenv)
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", e.str("ADDR", ":8080"), "HTTP listen address (BOXOFFICE_ADDR)")
	fs.StringVar(&c.DebugAddr, "debug-addr", e.str("DEBUG_ADDR", ""), "serve /debug/pprof/ on this address, e.g. 127.0.0.1:6060; empty = off (BOXOFFICE_DEBUG_ADDR)")
	fs.StringVar(&c.Mode, "mode", e.str("MODE", "prod"), "dev serves POST /auth/token and test payment tokens (BOXOFFICE_MODE)")
	fs.StringVar(&c.DatabaseURL, "database-url", e.str("DATABASE_URL", ""), "PostgreSQL URL (BOXOFFICE_DATABASE_URL)")
	fs.StringVar(&c.NATSURL, "nats-url", e.str("NATS_URL", ""), "external NATS; empty starts an embedded one (BOXOFFICE_NATS_URL)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", e.str("JWT_SECRET", ""), "HS256 secret (BOXOFFICE_JWT_SECRET)")
	fs.StringVar(&c.JWKSURL, "jwks-url", e.str("JWKS_URL", ""), "verify RS256/ES256 tokens against this JWKS (BOXOFFICE_JWKS_URL)")
	fs.StringVar(&c.AdmissionSecret, "admission-secret", e.str("ADMISSION_SECRET", ""), "key of waiting-room admission tokens, at least 32 bytes; empty = derived from the JWT secret (BOXOFFICE_ADMISSION_SECRET)")
	fs.DurationVar(&c.HoldTTL, "hold-ttl", e.dur("HOLD_TTL", 10*time.Minute), "how long a hold lasts (BOXOFFICE_HOLD_TTL)")
	fs.StringVar(&c.NodeID, "node-id", e.str("NODE_ID", ""), "stable node name; generated and kept in the data dir if empty (BOXOFFICE_NODE_ID)")
	c.Join = splitList(e.str("JOIN", ""))
	fs.Var((*listFlag)(&c.Join), "join", "comma-separated gossip addresses of seed nodes (BOXOFFICE_JOIN)")
	fs.StringVar(&c.GossipAddr, "gossip-addr", e.str("GOSSIP_ADDR", "127.0.0.1:7946"), "memberlist address (BOXOFFICE_GOSSIP_ADDR)")
	fs.StringVar(&c.GossipTimings, "gossip-timings", e.str("GOSSIP_TIMINGS", "lan"), "failure-detector timings: lan, or fast for loopback clusters (BOXOFFICE_GOSSIP_TIMINGS)")
	fs.StringVar(&c.ActorAddr, "actor-addr", e.str("ACTOR_ADDR", "127.0.0.1:0"), "Proto.Actor remote host:port (BOXOFFICE_ACTOR_ADDR)")
	fs.StringVar(&c.NATSHost, "nats-host", e.str("NATS_HOST", "127.0.0.1"), "embedded NATS listen host of the client and route ports (BOXOFFICE_NATS_HOST)")
	fs.IntVar(&c.NATSPort, "nats-port", e.num("NATS_PORT", 0), "embedded NATS client port, 0 = random (BOXOFFICE_NATS_PORT)")
	fs.IntVar(&c.NATSClusterPort, "nats-cluster-port", e.num("NATS_CLUSTER_PORT", 0), "embedded NATS route port, 0 = no NATS cluster (BOXOFFICE_NATS_CLUSTER_PORT)")
	c.NATSRoutes = splitList(e.str("NATS_ROUTES", ""))
	fs.Var((*listFlag)(&c.NATSRoutes), "nats-routes", "comma-separated nats-route:// URLs of other nodes (BOXOFFICE_NATS_ROUTES)")
	fs.StringVar(&c.DataDir, "data-dir", e.str("DATA_DIR", ".data/node"), "local state: node name, search index, JetStream (BOXOFFICE_DATA_DIR)")
	fs.IntVar(&c.SnapshotEvery, "snapshot-every", e.num("SNAPSHOT_EVERY", 10_000), "journal records between snapshots (BOXOFFICE_SNAPSHOT_EVERY)")
	fs.DurationVar(&c.CommitLinger, "commit-linger", e.dur("COMMIT_LINGER", time.Millisecond), "longest an event actor holds a commit back for its callers to return, negative = off (BOXOFFICE_COMMIT_LINGER)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", e.dur("IDLE_TIMEOUT", 5*time.Minute), "passivate an idle event actor after this long (BOXOFFICE_IDLE_TIMEOUT)")
	fs.StringVar(&c.LogLevel, "log-level", e.str("LOG_LEVEL", "info"), "debug, info, warn or error (BOXOFFICE_LOG_LEVEL)")
	fs.StringVar(&c.PublicURL, "public-url", e.str("PUBLIC_URL", ""), "base URL people use to reach this node (BOXOFFICE_PUBLIC_URL)")
	fs.Float64Var(&c.RateIP, "rate-ip", e.flt("RATE_IP", 50), "requests/s per client address, 0 = off (BOXOFFICE_RATE_IP)")
	fs.Float64Var(&c.RateUser, "rate-user", e.flt("RATE_USER", 20), "booking requests/s per user, 0 = off (BOXOFFICE_RATE_USER)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Mode == "dev" && c.JWTSecret == "" {
		// API.md: random per start in dev; tokens from a previous run stop working.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.JWTSecret = hex.EncodeToString(b)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	switch {
	case c.Mode != "dev" && c.Mode != "prod":
		return fmt.Errorf("mode %q: want dev or prod", c.Mode)
	case c.DatabaseURL == "":
		return errors.New("no database: set BOXOFFICE_DATABASE_URL (or use `make run`, which starts a local PostgreSQL)")
	case c.Mode == "prod" && c.JWTSecret == "" && c.JWKSURL == "":
		return errors.New("prod mode needs BOXOFFICE_JWT_SECRET or BOXOFFICE_JWKS_URL to verify tokens")
	case c.AdmissionSecret == "" && c.JWTSecret == "":
		return errors.New("BOXOFFICE_ADMISSION_SECRET is required without BOXOFFICE_JWT_SECRET: waiting-room admission tokens need a secret key")
	case c.AdmissionSecret != "" && len(c.AdmissionSecret) < api.MinSecretBytes:
		return fmt.Errorf("BOXOFFICE_ADMISSION_SECRET must be at least %d bytes", api.MinSecretBytes)
	case c.GossipTimings != "lan" && c.GossipTimings != "fast":
		return fmt.Errorf("gossip-timings %q: want lan or fast", c.GossipTimings)
	case c.HoldTTL <= 0:
		return errors.New("hold-ttl must be positive")
	case c.SnapshotEvery < 1:
		return errors.New("snapshot-every must be at least 1")
	}
	return nil
}

// admissionSecret is the secret the waiting room's key derives from, or an
// error when there is none (validate refuses that configuration too; this
// guards nodes started from a Config built in code).
func (c Config) admissionSecret() ([]byte, error) {
	s := c.AdmissionSecret
	if s == "" {
		s = c.JWTSecret
	}
	if s == "" {
		return nil, errors.New("no admission secret: set BOXOFFICE_ADMISSION_SECRET (or BOXOFFICE_JWT_SECRET)")
	}
	return []byte(s), nil
}

// String prints the configuration at start-up with secrets masked.
func (c Config) String() string {
	mask := func(s string) string {
		if s == "" {
			return "(unset)"
		}
		return "****"
	}
	return fmt.Sprintf("addr=%s mode=%s database=%s nats=%s jwt_secret=%s jwks=%s hold_ttl=%s node=%s join=%v gossip=%s actor=%s data_dir=%s snapshot_every=%d idle=%s admission_secret=%s",
		c.Addr, c.Mode, redactURL(c.DatabaseURL), orEmbedded(c.NATSURL), mask(c.JWTSecret), c.JWKSURL, c.HoldTTL,
		c.NodeID, c.Join, c.GossipAddr, c.ActorAddr, c.DataDir, c.SnapshotEvery, c.IdleTimeout, mask(c.AdmissionSecret))
}

func orEmbedded(u string) string {
	if u == "" {
		return "(embedded)"
	}
	return u
}

// redactURL hides a password in a connection URL.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	cred := u[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return u[:scheme+3] + user + ":****" + u[at:]
	}
	return u
}

// nodeName returns the configured node name, or one generated once and kept
// in the data dir so it survives restarts.
func nodeName(c Config) (string, error) {
	if c.NodeID != "" {
		return c.NodeID, nil
	}
	path := filepath.Join(c.DataDir, "node-name")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s-%d", host, time.Now().UnixNano()%100000)
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return "", fmt.Errorf("data dir %s: %w", c.DataDir, err)
	}
	return name, os.WriteFile(path, []byte(name+"\n"), 0o644)
}
