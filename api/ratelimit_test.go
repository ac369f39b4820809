package api_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

func TestRateLimitPerIP(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.RateIP = api.RateConfig{PerSecond: 0.5, Burst: 3} })
	for i := 0; i < 3; i++ {
		mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
	}
	r := h.do("GET", "/healthz", nil)
	wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Errorf("Retry-After %q, want 1..2 seconds at 0.5/s", r.header.Get("Retry-After"))
	}
	// Unknown paths count too: a scanner is limited like anyone.
	wantError(t, h.do("GET", "/wp-login.php", nil), http.StatusTooManyRequests, boxoffice.ERateLimited)
}

func TestRateLimitProxyHeader(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) {
		c.RateIP = api.RateConfig{PerSecond: 0.001, Burst: 1}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
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
		mustStatus(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", "198.51.100.1"), http.StatusOK)
		for _, spoof := range []string{"198.51.100.2", "10.0.0.1", "198.51.100.3, 10.0.0.1"} {
			wantError(t, h.do("GET", "/healthz", nil, "X-Forwarded-For", spoof), http.StatusTooManyRequests, boxoffice.ERateLimited)
		}
	}
}

func TestRateLimitPerUser(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.RateUser = api.RateConfig{PerSecond: 0.5, Burst: 2} })
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")
	h.reserve(ada, event, tickets[0])
	mustStatus(t, h.do("GET", "/user/bookings", nil, auth(ada)...), http.StatusOK)
	r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[1:2]}, auth(ada)...)
	wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	h.reserve(bob, event, tickets[1]) // another user has a bucket of their own
	for i := 0; i < 5; i++ {
		mustStatus(t, h.do("GET", "/events/"+event.String(), nil), http.StatusOK) // reads are not booking routes
	}
}
