package api_test

import (
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// rateClock is the rate limits' clock in a test: it moves only when the
// test says, so no bucket refills between two requests on a slow machine.
type rateClock struct {
	start time.Time
	moved atomic.Int64 // nanoseconds
}

func (c *rateClock) Now() time.Time          { return c.start.Add(time.Duration(c.moved.Load())) }
func (c *rateClock) Advance(d time.Duration) { c.moved.Add(int64(d)) }

// freezeRateClock makes h's rate limits go by a clock the test moves.
func freezeRateClock(h *harness) *rateClock {
	h.t.Helper()
	c := &rateClock{start: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	api.SetRateClock(h.srv, c.Now)
	return c
}

// TestRateLimitPerIP: a burst of 3 at 0.5/s allows three requests, then
// refuses with Retry-After 2, and allows one more exactly when the clock
// has moved 2 s (one token), not a moment earlier.
func TestRateLimitPerIP(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.RateIP = api.RateConfig{PerSecond: 0.5, Burst: 3} })
	clock := freezeRateClock(h)
	for i := 0; i < 3; i++ {
		mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	}
	r := h.do("GET", "/healthz", nil)
	wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2 seconds at 0.5/s", got)
	}
	// Unknown paths count too: a scanner is limited like anyone.
	wantError(t, h.do("GET", "/wp-login.php", nil), http.StatusTooManyRequests, boxoffice.ERateLimited)

	clock.Advance(2*time.Second - time.Millisecond)
	wantError(t, h.do("GET", "/healthz", nil), http.StatusTooManyRequests, boxoffice.ERateLimited)
	clock.Advance(time.Millisecond) // one token earned, and only one
	mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	wantError(t, h.do("GET", "/healthz", nil), http.StatusTooManyRequests, boxoffice.ERateLimited)
	clock.Advance(time.Hour) // the bucket refills to its burst, no further
	for i := 0; i < 3; i++ {
		mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	}
	wantError(t, h.do("GET", "/healthz", nil), http.StatusTooManyRequests, boxoffice.ERateLimited)
}

func TestRateLimitProxyHeader(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) {
		c.RateIP = api.RateConfig{PerSecond: 0.001, Burst: 1}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	freezeRateClock(h)
	// The proxy (the loopback peer here) appends the real client last;
	// earlier entries are the client's own claims and must not pick the
	// bucket, and trusted proxies in the chain are skipped.
	mustStatus(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "1.1.1.1, 198.51.100.1"), http.StatusOK)
	wantError(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "2.2.2.2, 198.51.100.1"), http.StatusTooManyRequests, boxoffice.ERateLimited)
	wantError(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "198.51.100.1, 10.0.0.1"), http.StatusTooManyRequests, boxoffice.ERateLimited)
	mustStatus(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "198.51.100.2"), http.StatusOK)
}

// TestRateLimitSpoofedForwardedFor: X-Forwarded-For from a peer that is
// not a trusted proxy is ignored, so a client cannot pick a fresh bucket
// per request by writing the header (issue 13).
func TestRateLimitSpoofedForwardedFor(t *testing.T) {
	for _, trusted := range [][]netip.Prefix{nil, {netip.MustParsePrefix("10.0.0.0/8")}} {
		h := newHarness(t, func(c *apiConfig, _ *apiDeps) {
			c.RateIP = api.RateConfig{PerSecond: 0.001, Burst: 1}
			c.TrustedProxies = trusted
		})
		freezeRateClock(h)
		mustStatus(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "198.51.100.1"), http.StatusOK)
		for _, spoof := range []string{"198.51.100.2", "10.0.0.1", "198.51.100.3, 10.0.0.1"} {
			wantError(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", spoof), http.StatusTooManyRequests, boxoffice.ERateLimited)
		}
	}
}

// TestRateLimitPerUser: the booking routes share a per-user bucket (burst
// 2 at 0.5/s), another user has one of their own, reads are not limited by
// it, and the user may book again once the clock has earned a token.
func TestRateLimitPerUser(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.RateUser = api.RateConfig{PerSecond: 0.5, Burst: 2} })
	clock := freezeRateClock(h)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")
	h.reserve(ada, event, tickets[0])
	mustStatus(t, h.do("GET", "/user/bookings", nil, auth(ada)...), http.StatusOK)
	r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[1:2]}, auth(ada)...)
	wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2 seconds at 0.5/s", got)
	}
	h.reserve(bob, event, tickets[1]) // another user has a bucket of their own
	for i := 0; i < 5; i++ {
		mustStatus(t, h.do("GET", "/events/"+event.String(), nil), http.StatusOK) // reads are not booking routes
	}
	clock.Advance(2 * time.Second)
	h.reserve(ada, event, tickets[2]) // one token earned
	wantError(t, h.do("GET", "/user/bookings", nil, auth(ada)...), http.StatusTooManyRequests, boxoffice.ERateLimited)
}
