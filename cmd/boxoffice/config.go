package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/api/notify"
)

// Config is everything a node is told at start-up. Each field is a flag of
// `boxoffice serve` whose default comes from a BOXOFFICE_* environment
// variable (API.md "Configuration"), so containers use env and people use flags.
type Config struct {
	Addr        string
	Mode        api.Mode
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
	// Placement is how event and room actors are placed on nodes: "bounded"
	// (bounded load through the shared record in PostgreSQL: the busiest
	// node holds at most PlacementLoad x the mean, and a restarted node does
	// not take its events back) or "hash" (Proto.Actor's plain rendezvous
	// hashing). Every node of a cluster must use the same.
	Placement     string  // "" is bounded
	PlacementLoad float64 // 0 is 1.15
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
	// MaxActiveEvents is actors.Config.MaxActive: the node's memory budget
	// in active event actors (0: no limit).
	MaxActiveEvents int
	// DrainDelay is how long a draining node (SIGTERM, or POST
	// /admin/api/nodes/{name}/drain) keeps serving with /readyz failing
	// before it hands its events over and stops: the time a load balancer
	// needs to notice and send requests elsewhere. Negative while parsing
	// means the default, 0 in dev mode and defaultDrainDelay otherwise.
	DrainDelay time.Duration
	LogLevel   string
	// LogFormat is json, text, or auto: text when dev mode writes to a
	// terminal (people read it), JSON otherwise (log collectors parse it).
	LogFormat string
	// BookingsWindow is actors.Config.BookingsWindow: positive (the
	// default, actors.DefaultBookingsWindow) writes the bookings of holds
	// behind the journal, coalesced over this window; 0 writes them in the
	// journal's commit. Every node of a cluster must use the same setting:
	// a node reads bookings exactly from any other only while both write
	// behind or both do not.
	BookingsWindow time.Duration
	// Tracing is the OpenTelemetry export the OTEL_* variables configure.
	Tracing Tracing
	// tracerProvider, when set, replaces the one Tracing would start: tests
	// give each node the SDK with an in-memory exporter.
	tracerProvider trace.TracerProvider
	// logLevel is the level of the logger cmdServe built, which PUT
	// /admin/api/log-level changes; nil in tests that pass their own.
	logLevel *slog.LevelVar
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
	// TrustedProxies are the reverse proxies (an Ingress, a load balancer)
	// whose X-Forwarded-For is believed for the client's address.
	TrustedProxies []netip.Prefix
	// WebhookAllow are the private, loopback or special ranges
	// organisers' webhooks may target (an in-house receiver; the tests'
	// local ones); public addresses need no entry.
	WebhookAllow []netip.Prefix
	// JWTIssuer and JWTAudience, when set, are the iss and aud every token
	// must carry (a JWKS serves many applications: their tokens are not ours).
	JWTIssuer   string
	JWTAudience string
	// MetricsAddr, when set, serves /metrics there and not on Addr, so the
	// public port does not expose it.
	MetricsAddr string
	// WSMaxPerIP and WSMax cap concurrent WebSockets per client address and
	// per node; 0 = no cap (loopback load tests).
	WSMaxPerIP int
	WSMax      int
	// SeatFrameTick is how long compact and SSE seat-map deltas are
	// gathered into one frame (api.Config.SeatFrameTick).
	SeatFrameTick time.Duration
	// Payments is the payment provider: "dev" (the test tokens; refused in
	// prod, where it would sell seats for nothing) or "stripe". Empty is
	// dev in dev mode; prod must name one that can charge.
	Payments string
	// Stripe's keys (API.md "Payments"): the secret API key, the webhook
	// signing secret, another API base URL (stripe-mock, tests) and the
	// publishable key the checkout page uses.
	StripeSecretKey      string
	StripeWebhookSecret  string
	StripeAPIURL         string
	StripePublishableKey string
	// queueNow is the waiting rooms' clock (nil: the wall clock), for
	// admission, tokens and join limits alike. Only tests set it: with it
	// frozen, nobody is admitted until the test moves it.
	queueNow func() time.Time
	// stripeTune adjusts the Stripe provider's settings (tests: a breaker
	// that stays open, short backoffs); nil keeps the defaults.
	stripeTune stripeTuner
	// ReconcileInterval is actors.Config.ReconcileInterval: how often an
	// active event asks the payment provider about its pending payments.
	ReconcileInterval time.Duration
	// devPay, when set in dev mode, is the development provider to use
	// (tests: one provider that outlives a node's restart keeps counting).
	devPay *devpay.Provider
	// TicketKeys are the Ed25519 seeds that sign ticket codes (the first)
	// and verify older ones (the rest), base64url, comma-separated; empty
	// uses a key generated once and kept in PostgreSQL.
	TicketKeys string
	// SMTPURL is the server buyers' e-mails go through,
	// smtp://user:pass@host:port (or smtps://); empty logs them instead.
	SMTPURL string
	// noticeTune adjusts the notice workers (tests: short backoffs); nil
	// keeps the defaults.
	noticeTune func(*noticeTuning)
}

// Socket caps: the API's defaults (an idle WebSocket costs a goroutine
// pair and buffers, so one address must not park thousands; a venue's
// Wi-Fi behind one NAT still gets a few hundred).
var (
	defaultWSMaxPerIP = api.DefaultConfig().WSMaxPerIP
	defaultWSMax      = api.DefaultConfig().WSMax
)

// env reads BOXOFFICE_<name> values. A value that is set but does not
// parse is remembered as an error naming the variable, and parseConfig
// refuses to start: a typo must never fall back to the default silently
// (BOXOFFICE_HOLD_TTL=10 is not ten minutes, "12abc" is not 12).
type env struct {
	get  func(string) string
	errs []error
}

func (e *env) lookup(name string) (string, bool) {
	v := e.get("BOXOFFICE_" + name)
	return v, v != ""
}

func (e *env) bad(name, v string, err error) {
	e.errs = append(e.errs, fmt.Errorf("BOXOFFICE_%s=%q: %w", name, v, err))
}

func (e *env) str(name, def string) string {
	if v, ok := e.lookup(name); ok {
		return v
	}
	return def
}

func (e *env) dur(name string, def time.Duration) time.Duration {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.bad(name, v, errors.New("want a duration with a unit, such as 10m or 500ms"))
		return def
	}
	return d
}

func (e *env) num(name string, def int) int {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		e.bad(name, v, errors.New("want an integer"))
		return def
	}
	return n
}

func (e *env) flt(name string, def float64) float64 {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		e.bad(name, v, errors.New("want a number"))
		return def
	}
	return f
}

// boolean reads true/false (and the other spellings of strconv.ParseBool).
func (e *env) boolean(name string, def bool) bool {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		e.bad(name, v, errors.New("want true or false"))
		return def
	}
	return b
}

// cidrs reads a comma-separated list of CIDRs; a bare address counts as
// a one-address prefix.
func (e *env) cidrs(name string) []netip.Prefix {
	v, ok := e.lookup(name)
	if !ok {
		return nil
	}
	p, err := parsePrefixes(v)
	if err != nil {
		e.bad(name, v, err)
	}
	return p
}

// err joins every bad value seen.
func (e *env) err() error { return errors.Join(e.errs...) }

// parsePrefixes parses "10.0.0.0/8, 192.168.1.7, fd00::/8".
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range splitList(s) {
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or an IP address", part)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// prefixFlag is a comma-separated CIDR list flag.
type prefixFlag []netip.Prefix

func (p *prefixFlag) String() string {
	parts := make([]string, len(*p))
	for i, x := range *p {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (p *prefixFlag) Set(s string) error {
	v, err := parsePrefixes(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// checkURL says why s is not an absolute URL with one of schemes.
func checkURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		return fmt.Errorf("want an absolute %s URL", strings.Join(schemes, " or "))
	}
	return nil
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
	e := &env{get: getenv}
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", e.str("ADDR", ":8080"), "HTTP listen address (BOXOFFICE_ADDR)")
	fs.StringVar(&c.DebugAddr, "debug-addr", e.str("DEBUG_ADDR", ""), "serve /debug/pprof/ on this address, e.g. 127.0.0.1:6060; empty = off (BOXOFFICE_DEBUG_ADDR)")
	fs.StringVar((*string)(&c.Mode), "mode", e.str("MODE", string(api.ModeProd)), "dev serves POST /auth/token and test payment tokens (BOXOFFICE_MODE)")
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
	fs.StringVar(&c.Placement, "placement", e.str("PLACEMENT", "bounded"), "actor placement: bounded (even, sticky; shared record in PostgreSQL) or hash (BOXOFFICE_PLACEMENT)")
	fs.Float64Var(&c.PlacementLoad, "placement-load", e.flt("PLACEMENT_LOAD", 1.15), "bounded placement: a node holds at most this x the mean of active events (BOXOFFICE_PLACEMENT_LOAD)")
	fs.StringVar(&c.ActorAddr, "actor-addr", e.str("ACTOR_ADDR", "127.0.0.1:0"), "Proto.Actor remote host:port (BOXOFFICE_ACTOR_ADDR)")
	fs.StringVar(&c.NATSHost, "nats-host", e.str("NATS_HOST", "127.0.0.1"), "embedded NATS listen host of the client and route ports (BOXOFFICE_NATS_HOST)")
	fs.IntVar(&c.NATSPort, "nats-port", e.num("NATS_PORT", 0), "embedded NATS client port, 0 = random (BOXOFFICE_NATS_PORT)")
	fs.IntVar(&c.NATSClusterPort, "nats-cluster-port", e.num("NATS_CLUSTER_PORT", 0), "embedded NATS route port, 0 = no NATS cluster (BOXOFFICE_NATS_CLUSTER_PORT)")
	c.NATSRoutes = splitList(e.str("NATS_ROUTES", ""))
	fs.Var((*listFlag)(&c.NATSRoutes), "nats-routes", "comma-separated nats-route:// URLs of other nodes (BOXOFFICE_NATS_ROUTES)")
	fs.StringVar(&c.DataDir, "data-dir", e.str("DATA_DIR", ".data/node"), "local state: node name, search index, JetStream (BOXOFFICE_DATA_DIR)")
	fs.IntVar(&c.SnapshotEvery, "snapshot-every", e.num("SNAPSHOT_EVERY", 10_000), "journal records between snapshots (BOXOFFICE_SNAPSHOT_EVERY)")
	fs.DurationVar(&c.CommitLinger, "commit-linger", e.dur("COMMIT_LINGER", time.Millisecond), "longest an event actor holds a commit back for its callers to return, negative = off (BOXOFFICE_COMMIT_LINGER)")
	fs.DurationVar(&c.BookingsWindow, "bookings-window", e.dur("BOOKINGS_WINDOW", actors.DefaultBookingsWindow), "write the bookings of holds behind the journal, coalesced over this window (0 = in the journal's commit, at most 1m; every node of a cluster alike) (BOXOFFICE_BOOKINGS_WINDOW)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", e.dur("IDLE_TIMEOUT", 5*time.Minute), "passivate an idle event actor after this long (BOXOFFICE_IDLE_TIMEOUT)")
	fs.IntVar(&c.MaxActiveEvents, "max-active-events", e.num("MAX_ACTIVE_EVENTS", 0), "memory budget: at most this many active event actors on the node, the least recently used idle ones passivate beyond it; 0 is no limit (BOXOFFICE_MAX_ACTIVE_EVENTS)")
	fs.StringVar(&c.LogLevel, "log-level", e.str("LOG_LEVEL", "info"), "debug, info, warn or error; PUT /admin/api/log-level changes it at run time (BOXOFFICE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", e.str("LOG_FORMAT", "auto"), "json, text, or auto: text on a terminal in dev mode, else JSON (BOXOFFICE_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", e.str("PUBLIC_URL", ""), "base URL people use to reach this node (BOXOFFICE_PUBLIC_URL)")
	fs.Float64Var(&c.RateIP, "rate-ip", e.flt("RATE_IP", 50), "requests/s per client address, 0 = off (BOXOFFICE_RATE_IP)")
	fs.Float64Var(&c.RateUser, "rate-user", e.flt("RATE_USER", 20), "booking requests/s per user, 0 = off (BOXOFFICE_RATE_USER)")
	fs.Var((*prefixFlag)(&c.TrustedProxies), "trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (BOXOFFICE_TRUSTED_PROXIES)")
	c.TrustedProxies = e.cidrs("TRUSTED_PROXIES")
	fs.Var((*prefixFlag)(&c.WebhookAllow), "webhook-allow-cidrs", "comma-separated CIDRs of private or loopback addresses organisers' webhooks may target (BOXOFFICE_WEBHOOK_ALLOW_CIDRS)")
	c.WebhookAllow = e.cidrs("WEBHOOK_ALLOW_CIDRS")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", e.str("JWT_ISSUER", ""), "expected iss claim of tokens; empty = not checked (BOXOFFICE_JWT_ISSUER)")
	fs.StringVar(&c.JWTAudience, "jwt-audience", e.str("JWT_AUDIENCE", ""), "expected aud claim of tokens; empty = not checked (BOXOFFICE_JWT_AUDIENCE)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", e.str("METRICS_ADDR", ""), "serve /metrics on this address instead of the API port; empty = API port (BOXOFFICE_METRICS_ADDR)")
	fs.IntVar(&c.WSMaxPerIP, "ws-max-per-ip", e.num("WS_MAX_PER_IP", defaultWSMaxPerIP), "concurrent WebSockets per client IP, 0 = no cap (BOXOFFICE_WS_MAX_PER_IP)")
	fs.IntVar(&c.WSMax, "ws-max", e.num("WS_MAX", defaultWSMax), "concurrent WebSockets per node, 0 = no cap (BOXOFFICE_WS_MAX)")
	fs.DurationVar(&c.SeatFrameTick, "seat-frame-tick", e.dur("SEAT_FRAME_TICK", api.DefaultConfig().SeatFrameTick), "gather compact and SSE seat-map deltas this long into one frame (BOXOFFICE_SEAT_FRAME_TICK)")
	fs.StringVar(&c.Payments, "payments", e.str("PAYMENTS", ""), "payment provider: dev or stripe; empty = dev in dev mode (BOXOFFICE_PAYMENTS)")
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", e.str("STRIPE_SECRET_KEY", ""), "Stripe secret API key (BOXOFFICE_STRIPE_SECRET_KEY)")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", e.str("STRIPE_WEBHOOK_SECRET", ""), "Stripe webhook signing secret, whsec_... (BOXOFFICE_STRIPE_WEBHOOK_SECRET)")
	fs.StringVar(&c.StripeAPIURL, "stripe-api-url", e.str("STRIPE_API_URL", ""), "another Stripe API base URL, e.g. stripe-mock's; empty = Stripe (BOXOFFICE_STRIPE_API_URL)")
	fs.StringVar(&c.StripePublishableKey, "stripe-publishable-key", e.str("STRIPE_PUBLISHABLE_KEY", ""), "Stripe publishable key for the checkout page (BOXOFFICE_STRIPE_PUBLISHABLE_KEY)")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", e.dur("RECONCILE_INTERVAL", time.Minute), "how often an active event asks the payment provider about its pending payments, at most 1h (BOXOFFICE_RECONCILE_INTERVAL)")
	fs.StringVar(&c.TicketKeys, "ticket-keys", e.str("TICKET_KEYS", ""), "comma-separated base64url Ed25519 seeds signing ticket codes, the first signs; empty = one kept in PostgreSQL (BOXOFFICE_TICKET_KEYS)")
	fs.DurationVar(&c.DrainDelay, "drain-delay", e.dur("DRAIN_DELAY", -1), "on SIGTERM or a drain request, serve this long with /readyz failing before handing events over and stopping; default 5s, 0 in dev mode (BOXOFFICE_DRAIN_DELAY)")
	fs.StringVar(&c.SMTPURL, "smtp-url", e.str("SMTP_URL", ""), "SMTP server for buyer e-mail, smtp://user:pass@host:port; empty = logged, not sent (BOXOFFICE_SMTP_URL)")
	if err := e.err(); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Payments == "" && c.Mode == api.ModeDev {
		c.Payments = "dev"
	}
	if c.DrainDelay < 0 {
		c.DrainDelay = defaultDrainDelay
		if c.Mode == api.ModeDev {
			c.DrainDelay = 0
		}
	}
	if c.Mode == api.ModeDev && c.JWTSecret == "" {
		// API.md: random per start in dev; tokens from a previous run stop working.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.JWTSecret = hex.EncodeToString(b)
	}
	t, err := parseTracing(getenv)
	if err != nil {
		return c, err
	}
	c.Tracing = t
	return c, c.validate()
}

// defaultDrainDelay is DrainDelay outside dev mode: a few readiness probe
// periods of a load balancer (Kubernetes probes every 10 s by default; set
// the probe period to 1-2 s or raise BOXOFFICE_DRAIN_DELAY).
const defaultDrainDelay = 5 * time.Second

func (c Config) validate() error {
	switch {
	case c.Mode != api.ModeDev && c.Mode != api.ModeProd:
		return fmt.Errorf("mode %q: want dev or prod", c.Mode)
	case c.DatabaseURL == "":
		return errors.New("no database: set BOXOFFICE_DATABASE_URL (or use `make run`, which starts a local PostgreSQL)")
	case c.Mode == api.ModeProd && c.JWTSecret == "" && c.JWKSURL == "":
		return errors.New("prod mode needs BOXOFFICE_JWT_SECRET or BOXOFFICE_JWKS_URL to verify tokens")
	case c.AdmissionSecret == "" && c.JWTSecret == "":
		return errors.New("BOXOFFICE_ADMISSION_SECRET is required without BOXOFFICE_JWT_SECRET: waiting-room admission tokens need a secret key")
	case c.AdmissionSecret != "" && len(c.AdmissionSecret) < api.MinSecretBytes:
		return fmt.Errorf("BOXOFFICE_ADMISSION_SECRET must be at least %d bytes", api.MinSecretBytes)
	case c.GossipTimings != "lan" && c.GossipTimings != "fast":
		return fmt.Errorf("gossip-timings %q: want lan or fast", c.GossipTimings)
	case c.Placement != "" && c.Placement != "bounded" && c.Placement != "hash":
		return fmt.Errorf("placement %q: want bounded or hash", c.Placement)
	case c.PlacementLoad != 0 && c.PlacementLoad < 1:
		return fmt.Errorf("BOXOFFICE_PLACEMENT_LOAD (-placement-load) %v must be at least 1", c.PlacementLoad)
	case c.HoldTTL <= 0:
		return errors.New("hold-ttl must be positive")
	case c.SnapshotEvery < 1:
		return errors.New("snapshot-every must be at least 1")
	case c.MaxActiveEvents < 0:
		return errors.New("BOXOFFICE_MAX_ACTIVE_EVENTS (-max-active-events) must be 0 (no limit) or positive")
	case c.ReconcileInterval < 0 || c.ReconcileInterval > actors.MaxReconcileInterval:
		return fmt.Errorf("BOXOFFICE_RECONCILE_INTERVAL (-reconcile-interval) must be in (0, %s]", actors.MaxReconcileInterval)
	case c.WSMaxPerIP < 0 || c.WSMax < 0:
		return errors.New("BOXOFFICE_WS_MAX_PER_IP and BOXOFFICE_WS_MAX must be 0 (no cap) or positive")
	case c.LogFormat != "" && c.LogFormat != "auto" && c.LogFormat != "json" && c.LogFormat != "text":
		return fmt.Errorf("BOXOFFICE_LOG_FORMAT %q: want json, text or auto", c.LogFormat)
	case c.SeatFrameTick <= 0:
		return errors.New("BOXOFFICE_SEAT_FRAME_TICK must be positive")
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil && c.LogLevel != "" {
		return fmt.Errorf("BOXOFFICE_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	if err := c.validatePayments(); err != nil {
		return err
	}
	if _, err := parseTicketKeys(c.TicketKeys); err != nil {
		return err
	}
	if c.SMTPURL != "" {
		if err := notify.ParseSMTPURL(c.SMTPURL); err != nil {
			return fmt.Errorf("BOXOFFICE_SMTP_URL=%q: %w", redactURL(c.SMTPURL), err)
		}
	}
	return c.validateURLs()
}

// validateURLs checks the URL settings, from flags or env, at start: a
// typo in one otherwise shows up as an odd failure much later.
func (c Config) validateURLs() error {
	var errs []error
	check := func(name, v string, schemes ...string) {
		if v == "" {
			return
		}
		if err := checkURL(v, schemes...); err != nil {
			errs = append(errs, fmt.Errorf("BOXOFFICE_%s=%q: %w", name, v, err))
		}
	}
	check("JWKS_URL", c.JWKSURL, "https", "http")
	check("PUBLIC_URL", c.PublicURL, "https", "http")
	check("STRIPE_API_URL", c.StripeAPIURL, "https", "http")
	if strings.Contains(c.DatabaseURL, "://") { // else a key=value connection string, which pgx checks
		check("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
	}
	for _, u := range splitList(c.NATSURL) {
		check("NATS_URL", u, "nats", "tls", "ws", "wss")
	}
	return errors.Join(errs...)
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
		c.NodeID, c.Join, c.GossipAddr, c.ActorAddr, c.DataDir, c.SnapshotEvery, c.IdleTimeout, mask(c.AdmissionSecret)) +
		fmt.Sprintf(" trusted_proxies=%s ws_max_per_ip=%d ws_max=%d metrics_addr=%s jwt_issuer=%s jwt_audience=%s",
			(*prefixFlag)(&c.TrustedProxies).String(), c.WSMaxPerIP, c.WSMax, c.MetricsAddr, c.JWTIssuer, c.JWTAudience) +
		fmt.Sprintf(" log_level=%s log_format=%s %s", c.LogLevel, c.LogFormat, c.Tracing) +
		fmt.Sprintf(" smtp=%s", orUnset(redactURL(c.SMTPURL))) +
		fmt.Sprintf(" max_active_events=%d", c.MaxActiveEvents)
}

func orUnset(s string) string {
	if s == "" {
		return "(unset: mails are logged)"
	}
	return s
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
