package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestTokenIssuedAtAndAudience forges each claim a node must check: iat
// beyond the clock skew, and, when configured, iss and aud; for HS256 and
// for JWKS tokens (issue 13).
func TestTokenIssuedAtAndAudience(t *testing.T) {
	const iss, aud = "https://idp.example.com/", "boxoffice"
	keys := newJWKS(t)
	good := func() jwt.MapClaims {
		return with(with(with(validClaims(), "iss", iss), "aud", aud), "iat", time.Now().Unix())
	}
	for _, mode := range []struct {
		name string
		opt  option
		sign func(jwt.MapClaims) string
	}{
		{"HS256", func(c *apiConfig, _ *apiDeps) { c.JWTIssuer, c.JWTAudience = iss, aud },
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, testSecret, c, "") }},
		{"JWKS", func(c *apiConfig, _ *apiDeps) {
			c.JWTIssuer, c.JWTAudience, c.JWKSURL, c.JWTSecret, c.Mode = iss, aud, keys.url, nil, "prod"
		}, func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, keys.rsa, c, "rsa1") }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			h := newHarness(t, mode.opt)
			for _, tc := range []struct {
				name   string
				claims jwt.MapClaims
				want   int
			}{
				{"good", good(), http.StatusOK},
				{"iat within the skew", with(good(), "iat", time.Now().Add(10*time.Second).Unix()), http.StatusOK},
				{"aud a list holding ours", with(good(), "aud", []string{"other", aud}), http.StatusOK},
				{"iat an hour ahead", with(good(), "iat", time.Now().Add(time.Hour).Unix()), http.StatusUnauthorized},
				{"iat a year ahead", with(good(), "iat", time.Now().AddDate(1, 0, 0).Unix()), http.StatusUnauthorized},
				{"no iss", with(good(), "iss", nil), http.StatusUnauthorized},
				{"another iss", with(good(), "iss", "https://evil.example.com/"), http.StatusUnauthorized},
				{"no aud", with(good(), "aud", nil), http.StatusUnauthorized},
				{"another aud", with(good(), "aud", "another-app"), http.StatusUnauthorized},
				{"aud case-folded", with(good(), "aud", "BOXOFFICE"), http.StatusUnauthorized},
			} {
				if r := h.do("GET", "/user/bookings", nil, auth(mode.sign(tc.claims))...); r.status != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
				}
			}
		})
	}
	// Without iss/aud configured, a future iat is still refused.
	h := newHarness(t)
	tok := sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "iat", time.Now().Add(time.Hour).Unix()), "")
	if r := h.do("GET", "/user/bookings", nil, auth(tok)...); r.status != http.StatusUnauthorized {
		t.Errorf("future iat without iss/aud: %d %s, want 401", r.status, r.body)
	}
}

// TestDevTokenCarriesIssuerAndAudience: POST /auth/token on a node that
// expects iss and aud mints tokens that pass its own checks.
func TestDevTokenCarriesIssuerAndAudience(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.JWTIssuer, c.JWTAudience = "boxoffice-dev", "boxoffice" })
	r := h.do("POST", "/auth/token", map[string]any{"email": "ada@example.com"})
	mustStatus(t, r, http.StatusOK)
	var tok struct {
		Token string `json:"token"`
	}
	r.decode(t, &tok)
	mustStatus(t, h.do("GET", "/user/bookings", nil, auth(tok.Token)...), http.StatusOK)
}

// TestScannerEventIDsClaim: a scanner's events travel in the token's
// event_ids claim; a claim that is not a list of UUIDs makes the token
// unauthenticated, and a scanner without the claim reaches the route
// (this harness has no check-in service: 503) but scans for no event.
func TestScannerEventIDsClaim(t *testing.T) {
	h := newHarness(t)
	scanner := func() jwt.MapClaims { return with(validClaims(), "roles", []string{"scanner"}) }
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		want   int
	}{
		{"event_ids of UUIDs", with(scanner(), "event_ids", []string{"852fe9f7-0e9d-4f7f-ae13-359d7896f4f3"}), http.StatusServiceUnavailable},
		{"no event_ids", scanner(), http.StatusServiceUnavailable},
		{"not a UUID", with(scanner(), "event_ids", []string{"all"}), http.StatusUnauthorized},
		{"not a list", with(scanner(), "event_ids", "852fe9f7-0e9d-4f7f-ae13-359d7896f4f3"), http.StatusUnauthorized},
		{"a buyer", validClaims(), http.StatusForbidden},
	} {
		tok := sign(t, jwt.SigningMethodHS256, testSecret, tc.claims, "")
		if r := h.do("POST", "/checkin", map[string]any{"code": "x"}, auth(tok)...); r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
		}
	}
}
