package queueroom_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/queueroom"
)

// TestJoinLimitTrustedProxies: the join limit per address counts the
// client behind a trusted proxy (the loopback peer here), and ignores the
// header from a peer that is not one (issue 13).
func TestJoinLimitTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		// second is the status of a join from another client address
		// after the first address spent its burst.
		second int
	}{
		{"behind a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, http.StatusOK},
		{"spoofed from an untrusted peer", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, paused, func(c *queueroom.Config, _ *queueroom.Deps) {
				c.JoinsPerIP, c.IPBurst = 0.01, 1
				c.TrustedProxies = tc.trusted
			})
			path := "/events/" + e.ev.ID.String() + "/queue"
			if r := e.do(t, "POST", path, uuid.New(), "X-Forwarded-For", "198.51.100.1"); r.status != http.StatusOK {
				t.Fatalf("first join: %d %v", r.status, r.body)
			}
			r := e.do(t, "POST", path, uuid.New(), "X-Forwarded-For", "198.51.100.2")
			if r.status != tc.second {
				t.Fatalf("join from another address: %d %v, want %d", r.status, r.body, tc.second)
			}
			if tc.second == http.StatusTooManyRequests {
				wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
			}
		})
	}
}
