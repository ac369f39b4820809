package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Mode is how a node serves: for development or for production. A type of
// its own so that callers compare with the constants, never a literal.
type Mode string

// Modes of a node. Development mode exists so that `make run` is usable
// without an identity provider: it serves POST /auth/token.
const (
	ModeDev  Mode = "dev"
	ModeProd Mode = "prod"
)

// MinSecretBytes is the shortest HS256 secret New accepts; shorter secrets
// can be brute-forced offline from any token.
const MinSecretBytes = 32

// RateConfig is one token bucket per key (an IP or a user).
type RateConfig struct {
	// PerSecond is the sustained rate a key may send. Zero or less turns the
	// limit off, which load tests behind one address need.
	PerSecond float64
	// Burst is how many requests a key may send at once after being idle;
	// it must be at least 1 when the limit is on.
	Burst int
}

// Config tunes the HTTP layer. DefaultConfig gives the production values;
// Validate says what cannot work.
type Config struct {
	// Mode is ModeDev or ModeProd. Development mode serves POST /auth/token
	// (tokens for any email, with any roles); production mode does not.
	Mode Mode
	// JWTSecret verifies HS256 tokens and, in development mode, signs the
	// tokens of POST /auth/token. Required in production unless JWKSURL is
	// set; at least MinSecretBytes long when set.
	JWTSecret []byte
	// JWKSURL, when set, also accepts RS256 and ES256 tokens signed by a key
	// of this JSON Web Key Set. The set is fetched in the background,
	// refreshed hourly and on an unknown key ID (rate-limited).
	JWKSURL string
	// JWTIssuer and JWTAudience, when set, are the iss and aud claims
	// every token must carry: a JWKS usually signs tokens for many
	// applications, and a token meant for another one must not log in here.
	// Development tokens (POST /auth/token) carry them.
	JWTIssuer   string
	JWTAudience string
	// JWTClockSkew is how far in the future a token's iat may lie.
	JWTClockSkew time.Duration
	// HoldTTL is how long a hold lasts. The seat engine enforces it; the API
	// only reports it in the index at GET /.
	HoldTTL time.Duration
	// RateIP limits every route per client address: a generous bucket that
	// stops one address from flooding a node.
	RateIP RateConfig
	// RateUser limits the booking routes per authenticated user, so that
	// one account cannot hammer the seat engine from many addresses.
	RateUser RateConfig
	// RateMaxKeys bounds the buckets each limiter keeps. Idle buckets are
	// evicted once they have refilled (forgetting them changes nothing);
	// beyond the bound an arbitrary bucket is dropped, so memory stays
	// bounded under an address-spraying flood.
	RateMaxKeys int
	// TrustedProxies are the reverse proxies (an Ingress, a load balancer)
	// whose X-Forwarded-For is believed: from such a peer, the client is the
	// rightmost address of the header that is not itself a trusted proxy.
	// Empty means the TCP peer address, the only safe choice without a
	// proxy, since clients can write any header they like.
	TrustedProxies []netip.Prefix
	// WebhookAllow are the loopback, private or otherwise special address
	// ranges organisers' webhooks may still point at (public addresses
	// always may); empty allows none of them (API.md Roles).
	WebhookAllow []netip.Prefix
	// MaxBodyBytes is the largest request body (API.md: 64 KiB); larger
	// bodies are 413 too_large.
	MaxBodyBytes int64
	// NodeName identifies this node in logs, GET /healthz and the
	// single-node cluster view.
	NodeName string
	// CatalogTTL is how long the catalog half of an event (name, venue,
	// tickets and prices) is cached. A PATCH through this node forgets it at
	// once; other nodes see the change after at most this long.
	CatalogTTL time.Duration
	// EventViewMaxAge is how old a rendered GET /events/{id} body may be
	// and still be served without asking the seat engine. The body always
	// shows the statuses at its own "version"; a hot event read thousands
	// of times a second is then rendered at most once per interval.
	EventViewMaxAge time.Duration
	// EventCacheSize bounds how many events' catalog data and rendered
	// views are cached; a 50,000-seat event costs a few MB.
	EventCacheSize int
	// RequestTimeout bounds the work behind one HTTP request (engine,
	// catalog, bookings), so a stuck dependency yields 503, not a hang.
	RequestTimeout time.Duration
	// WSSendQueue is how many frames a WebSocket client may fall behind
	// before it is disconnected; it never slows the other clients.
	WSSendQueue int
	// WSPingInterval is how often the server pings a client; a client that
	// sends nothing (not even a pong) for two intervals is dropped.
	WSPingInterval time.Duration
	// SeatFrameTick is how long compact WebSocket and SSE seat-map deltas
	// are gathered before one frame carries them all to every such client
	// of the event on the node: longer means fewer frames and write system
	// calls per client under load, shorter means fresher seat maps. A
	// change after a tick without frames goes out at once, so the tick
	// delays a change only when changes come faster than one per tick.
	SeatFrameTick time.Duration
	// WSWriteTimeout bounds one frame write to a client.
	WSWriteTimeout time.Duration
	// WSMaxPerIP and WSMax cap the WebSockets (seat maps and waiting
	// room together) open at once per client address and on the node; a
	// connection past a cap is refused with 429 rate_limited before the
	// upgrade. Zero means no cap, for load tests from one loopback address.
	WSMaxPerIP int
	WSMax      int
	// MetricsOnAPI serves GET /metrics on the API handler. A node with a
	// separate metrics listener (BOXOFFICE_METRICS_ADDR) turns it off and
	// serves MetricsHandler there, so the public port does not expose its
	// internals; admins still read them at GET /admin/api/metrics.
	MetricsOnAPI bool
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// http.Server's (see Server.ConfigureHTTP): headers, the whole request
	// with its body, the reply, and an idle keep-alive connection.
	// WebSocket routes are exempt from the read and write timeouts.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// Logger receives errors the API cannot report to a caller (internal
	// errors with their cause, WebSocket drops) and one access line per
	// request at level info. New wraps its handler in LogHandler, so every
	// line of a request names its request id and trace id.
	Logger *slog.Logger
	// LogLevel is the level of the node's logger, which PUT
	// /admin/api/log-level changes at run time; nil gives the route a
	// level of its own that changes nothing else.
	LogLevel *slog.LevelVar
	// TracerProvider makes the server span of every request (otelhttp) and
	// carries the trace to the seat engine through the request's context;
	// nil traces nothing.
	TracerProvider trace.TracerProvider
}

// DefaultConfig returns production settings; the caller still sets the
// secret or JWKS URL.
func DefaultConfig() Config {
	return Config{
		Mode:            ModeProd,
		JWTClockSkew:    time.Minute,
		HoldTTL:         10 * time.Minute,
		RateIP:          RateConfig{PerSecond: 50, Burst: 100}, // a busy browser tab plus its WebSocket
		RateUser:        RateConfig{PerSecond: 20, Burst: 40},  // far above any human booking
		RateMaxKeys:     100_000,                               // ~10 MB of buckets at most
		MaxBodyBytes:    64 << 10,                              // API.md
		NodeName:        "node",
		CatalogTTL:      30 * time.Second,
		EventViewMaxAge: 100 * time.Millisecond,
		EventCacheSize:  1024,
		RequestTimeout:  10 * time.Second,
		WSSendQueue:     256,              // ~25 s of one delta per 100 ms
		WSPingInterval:  30 * time.Second, // under common proxies' 60 s idle timeout
		WSWriteTimeout:  10 * time.Second,
		WSMaxPerIP:      200,    // a venue's Wi-Fi behind one NAT, not one machine's 2,000 idle sockets
		WSMax:           20_000, // an idle socket costs two goroutines and buffers: ~200 MB at the cap
		// A 64 KiB body takes 20 s at 3.3 KB/s, slower than any real
		// client; replies fit in RequestTimeout plus slack.
		MetricsOnAPI:      true,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		SeatFrameTick:     25 * time.Millisecond, // 40 frames a second at most, well inside API.md's 100 ms
	}
}

// Validate reports settings New cannot work with.
func (c Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeDev:
		if len(c.JWTSecret) == 0 {
			errs = append(errs, errors.New("dev mode needs JWTSecret to sign POST /auth/token tokens"))
		}
	case ModeProd:
		if len(c.JWTSecret) == 0 && c.JWKSURL == "" {
			errs = append(errs, errors.New("prod mode needs JWTSecret or JWKSURL"))
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q: want %q or %q", c.Mode, ModeDev, ModeProd))
	}
	if len(c.JWTSecret) > 0 && len(c.JWTSecret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("JWTSecret has %d bytes, want at least %d", len(c.JWTSecret), MinSecretBytes))
	}
	errs = append(errs, c.RateIP.validate("RateIP"), c.RateUser.validate("RateUser"))
	positive := []struct {
		name string
		ok   bool
	}{
		{"HoldTTL", c.HoldTTL > 0},
		{"RateMaxKeys", c.RateMaxKeys > 0},
		{"MaxBodyBytes", c.MaxBodyBytes > 0},
		{"NodeName", c.NodeName != ""},
		{"CatalogTTL", c.CatalogTTL > 0},
		{"EventViewMaxAge", c.EventViewMaxAge >= 0},
		{"EventCacheSize", c.EventCacheSize > 0},
		{"RequestTimeout", c.RequestTimeout > 0},
		{"WSSendQueue", c.WSSendQueue > 0},
		{"WSPingInterval", c.WSPingInterval > 0},
		{"SeatFrameTick", c.SeatFrameTick > 0},
		{"WSWriteTimeout", c.WSWriteTimeout > 0},
		{"Logger", c.Logger != nil},
		{"JWTClockSkew", c.JWTClockSkew >= 0},
		{"WSMaxPerIP", c.WSMaxPerIP >= 0},
		{"WSMax", c.WSMax >= 0},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout > 0},
		{"ReadTimeout", c.ReadTimeout > 0},
		{"WriteTimeout", c.WriteTimeout > 0},
		{"IdleTimeout", c.IdleTimeout > 0},
	}
	if c.WriteTimeout > 0 && c.WriteTimeout <= c.RequestTimeout {
		errs = append(errs, fmt.Errorf("WriteTimeout (%s) must exceed RequestTimeout (%s), or a timed-out request cannot be answered", c.WriteTimeout, c.RequestTimeout))
	}
	for _, p := range positive {
		if !p.ok {
			errs = append(errs, fmt.Errorf("%s must be set and positive", p.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api: config: %w", err)
	}
	return nil
}

func (r RateConfig) validate(name string) error {
	if r.PerSecond > 0 && r.Burst < 1 {
		return fmt.Errorf("%s.Burst must be at least 1 when PerSecond is set", name)
	}
	return nil
}
