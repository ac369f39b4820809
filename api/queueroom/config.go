package queueroom

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Config tunes the waiting-room routes; start from DefaultConfig.
type Config struct {
	// JoinsPerUser and UserBurst limit one user's joins. Joining again
	// returns the same place, so a person needs few; a bot polling POST to
	// learn its position is slowed down instead.
	JoinsPerUser float64
	UserBurst    int
	// JoinsPerIP and IPBurst limit the joins from one address, on top of
	// the API's general per-IP limit. Many people may share an address
	// (a venue's Wi-Fi, a carrier's NAT), so this is generous; it stops
	// one machine from queueing thousands of accounts.
	JoinsPerIP float64
	IPBurst    int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client's address (clientip); empty uses the TCP
	// peer. Set it as the API's Config.TrustedProxies.
	TrustedProxies []netip.Prefix
	// MaxLimiterKeys bounds the limiters' memory: beyond it, buckets that
	// have refilled are forgotten first.
	MaxLimiterKeys int
	// WSWriteTimeout bounds one WebSocket frame write; a client slower than
	// that is disconnected.
	WSWriteTimeout time.Duration
	// WSPingInterval is how often an idle WebSocket is pinged, so proxies
	// keep it open and dead clients are noticed.
	WSPingInterval time.Duration
	// Now is the clock tokens are checked against and the join rate
	// limits refill by; tests move it.
	Now func() time.Time
	// Logger receives the routes' logs.
	Logger *slog.Logger
}

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{
		JoinsPerUser:   0.5, // one join every two seconds...
		UserBurst:      5,   // ...after a handful in a row (reloads, tabs)
		JoinsPerIP:     20,
		IPBurst:        200,
		MaxLimiterKeys: 1_000_000, // ~100 MB at the worst; a surge has this many people
		WSWriteTimeout: 10 * time.Second,
		WSPingInterval: 30 * time.Second,
		Now:            time.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.JoinsPerUser <= 0 || c.UserBurst < 1 || c.JoinsPerIP <= 0 || c.IPBurst < 1:
		return errors.New("queueroom: join limits must be positive")
	case c.MaxLimiterKeys < 1:
		return errors.New("queueroom: MaxLimiterKeys must be at least 1")
	case c.WSWriteTimeout <= 0 || c.WSPingInterval <= 0:
		return errors.New("queueroom: WebSocket timeouts must be positive")
	case c.Now == nil || c.Logger == nil:
		return errors.New("queueroom: Now and Logger are required")
	}
	return nil
}

// Deps are the routes' collaborators. Room is required.
type Deps struct {
	// Room is the node's waiting room (actors/queue's *Room).
	Room boxoffice.Admissions
	// Challenge, if set, is asked before every join and may refuse it with
	// an *boxoffice.Error: the hook for a proof-of-work or CAPTCHA check
	// (see the package doc of actors/queue). It runs after the rate limits.
	Challenge func(r *http.Request, userID, eventID uuid.UUID) error
}
