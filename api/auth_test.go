package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// sign builds a token with arbitrary claims and method, for the hostile
// cases MintToken refuses to make.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": uuid.NewString(), "exp": time.Now().Add(time.Hour).Unix(), "name": "Ada"}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	if v == nil {
		delete(c, k)
	}
	return c
}

// unsigned is an alg=none token.
func unsigned(claims jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

// hostileTokens are tokens a node with testSecret must refuse, whatever
// else it is configured with; pub is the JWKS's RSA public key, which an
// attacker knows.
func hostileTokens(t testing.TB, pub *rsa.PublicKey) map[string]string {
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(pub))})
	otherRSA := must(rsa.GenerateKey(rand.Reader, 2048))
	return map[string]string{
		"garbage":                   "abc.def.ghi",
		"not a JWT":                 "hello",
		"alg none":                  unsigned(validClaims()),
		"alg none, admin":           unsigned(with(validClaims(), "roles", []string{"admin"})),
		"expired":                   sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "exp", time.Now().Add(-time.Minute).Unix()), ""),
		"no exp":                    sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "exp", nil), ""),
		"exp as text":               sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "exp", "tomorrow"), ""),
		"sub not a UUID":            sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "sub", "ada"), ""),
		"sub UUID without hyphens":  sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "sub", strings.ReplaceAll(uuid.NewString(), "-", "")), ""),
		"no sub":                    sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "sub", nil), ""),
		"roles not an array":        sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "roles", "admin"), ""),
		"wrong secret":              sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-xyz"), validClaims(), ""),
		"HS384 with the secret":     sign(t, jwt.SigningMethodHS384, testSecret, validClaims(), ""),
		"HS256 keyed by public key": sign(t, jwt.SigningMethodHS256, pubPEM, validClaims(), "rsa1"),
		"HS256 keyed by DER key":    sign(t, jwt.SigningMethodHS256, must(x509.MarshalPKIXPublicKey(pub)), validClaims(), "rsa1"),
		"RS256 by another key":      sign(t, jwt.SigningMethodRS256, otherRSA, validClaims(), "rsa1"),
		"not yet valid":             sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "nbf", time.Now().Add(time.Hour).Unix()), ""),
		"too long":                  sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "name", strings.Repeat("a", 9000)), ""),
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestHostileTokens(t *testing.T) {
	keys := newJWKS(t)
	for _, mode := range []struct {
		name string
		opt  option
	}{
		{"secret only", func(*apiConfig, *apiDeps) {}},
		{"secret and JWKS", func(c *apiConfig, _ *apiDeps) { c.JWKSURL = keys.url }},
		{"JWKS only", func(c *apiConfig, _ *apiDeps) { c.Mode, c.JWTSecret, c.JWKSURL = api.ModeProd, nil, keys.url }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			h := newHarness(t, mode.opt)
			for name, tok := range hostileTokens(t, &keys.rsa.PublicKey) {
				r := h.do("GET", "/user/bookings", nil, auth(tok)...)
				if r.status != http.StatusUnauthorized || r.errorCode() != boxoffice.EUnauthenticated {
					t.Errorf("%s: %d %s, want 401 unauthenticated", name, r.status, r.body)
				}
				r = h.do("GET", "/admin/api/cluster", nil, auth(tok)...)
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s on an admin route: %d, want 401", name, r.status)
				}
			}
			for _, header := range []string{"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token abc"} {
				r := h.do("GET", "/user/bookings", nil, "Authorization", header)
				wantError(t, r, http.StatusUnauthorized, boxoffice.EUnauthenticated)
			}
		})
	}
}

func TestExpiredTokenMessage(t *testing.T) {
	h := newHarness(t)
	tok := sign(t, jwt.SigningMethodHS256, testSecret, with(validClaims(), "exp", time.Now().Add(-time.Hour).Unix()), "")
	r := h.do("GET", "/user/bookings", nil, auth(tok)...)
	wantError(t, r, http.StatusUnauthorized, boxoffice.EUnauthenticated)
	if !strings.Contains(string(r.body), "expired") {
		t.Errorf("body %s does not say the token expired", r.body)
	}
}

// TestCachedTokenExpires: a token accepted once (and so remembered by the
// verified-token cache) is refused as expired once its exp has passed.
func TestCachedTokenExpires(t *testing.T) {
	h := newHarness(t)
	clock := &rateClock{start: time.Now().Truncate(time.Second)}
	api.SetAuthClock(h.srv, clock.Now)
	exp := clock.Now().Add(2 * time.Second)
	tok := sign(t, jwt.SigningMethodHS256, testSecret, with(with(validClaims(), "exp", exp.Unix()), "iat", clock.Now().Unix()), "")
	for range 2 {
		if r := h.do("GET", "/user/bookings", nil, auth(tok)...); r.status != http.StatusOK {
			t.Fatalf("fresh token: %d %s", r.status, r.body)
		}
	}
	clock.Advance(exp.Sub(clock.Now())) // exactly at exp: expired for the cache and the parser
	for range 2 {                       // the second comes after any re-caching
		r := h.do("GET", "/user/bookings", nil, auth(tok)...)
		wantError(t, r, http.StatusUnauthorized, boxoffice.EUnauthenticated)
		if !strings.Contains(string(r.body), "expired") {
			t.Errorf("body %s does not say the token expired", r.body)
		}
	}
}

func TestJWKSTokens(t *testing.T) {
	keys := newJWKS(t)
	h := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.Mode, c.JWTSecret, c.JWKSURL = api.ModeProd, nil, keys.url })
	admin := with(validClaims(), "roles", []string{"admin"})
	for name, tok := range map[string]string{
		"RS256": sign(t, jwt.SigningMethodRS256, keys.rsa, admin, "rsa1"),
		"ES256": sign(t, jwt.SigningMethodES256, keys.ec, admin, "ec1"),
	} {
		mustStatus(t, h.do("GET", "/user/bookings", nil, auth(tok)...), http.StatusOK)
		if r := h.do("GET", "/admin/api/cluster", nil, auth(tok)...); r.status != http.StatusOK {
			t.Errorf("%s admin: %d %s", name, r.status, r.body)
		}
	}
	for name, tok := range map[string]string{
		"unknown kid":           sign(t, jwt.SigningMethodRS256, keys.rsa, validClaims(), "nope"),
		"ES256 under RSA kid":   sign(t, jwt.SigningMethodES256, keys.ec, validClaims(), "rsa1"),
		"expired RS256":         sign(t, jwt.SigningMethodRS256, keys.rsa, with(validClaims(), "exp", time.Now().Add(-time.Hour).Unix()), "rsa1"),
		"HS256 without secret":  sign(t, jwt.SigningMethodHS256, testSecret, validClaims(), ""),
		"PS256 by the RSA key":  sign(t, jwt.SigningMethodPS256, keys.rsa, validClaims(), "rsa1"),
		"RS512 by the RSA key":  sign(t, jwt.SigningMethodRS512, keys.rsa, validClaims(), "rsa1"),
		"ES384 is not accepted": sign(t, jwt.SigningMethodES384, must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)), validClaims(), "ec1"),
	} {
		if r := h.do("GET", "/user/bookings", nil, auth(tok)...); r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}
	wantError(t, h.do("POST", "/auth/token", map[string]any{"email": "a@b.c"}), http.StatusNotFound, boxoffice.ENotFound)
}

type jwks struct {
	url string
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}

// newJWKS serves a JSON Web Key Set with one RSA and one P-256 key.
func newJWKS(t *testing.T) jwks {
	t.Helper()
	k := jwks{rsa: must(rsa.GenerateKey(rand.Reader, 2048)), ec: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))}
	b64 := base64.RawURLEncoding.EncodeToString
	point := must(k.ec.PublicKey.Bytes()) // 0x04 || X || Y
	set := map[string]any{"keys": []any{
		map[string]any{"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
			"n": b64(k.rsa.N.Bytes()), "e": b64(big.NewInt(int64(k.rsa.E)).Bytes())},
		map[string]any{"kty": "EC", "kid": "ec1", "alg": "ES256", "use": "sig", "crv": "P-256",
			"x": b64(point[1:33]), "y": b64(point[33:65])},
	}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(ts.Close)
	k.url = ts.URL
	return k
}

func TestDevToken(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/auth/token", map[string]any{"email": "Ada@Example.com", "name": "Ada"})
	mustStatus(t, r, http.StatusOK)
	var got struct {
		Token  string    `json:"token"`
		UserID uuid.UUID `json:"user_id"`
	}
	r.decode(t, &got)
	if got.UserID != api.DevUserID("ada@example.com") {
		t.Errorf("user_id %s, want DevUserID of the lower-cased email", got.UserID)
	}
	again := h.do("POST", "/auth/token", map[string]any{"email": "ada@example.COM"})
	var got2 struct {
		UserID uuid.UUID `json:"user_id"`
	}
	again.decode(t, &got2)
	if got2.UserID != got.UserID {
		t.Errorf("same email, another user: %s vs %s", got2.UserID, got.UserID)
	}
	if u := h.users.m[got.UserID]; u.Email != "ada@example.com" {
		t.Errorf("upserted user %+v", u)
	}
	mustStatus(t, h.do("GET", "/user/bookings", nil, auth(got.Token)...), http.StatusOK)
	wantError(t, h.do("GET", "/admin/api/cluster", nil, auth(got.Token)...), http.StatusForbidden, boxoffice.EForbidden)

	r = h.do("POST", "/auth/token", map[string]any{"email": "root@example.com", "roles": []string{"admin"}})
	r.decode(t, &got)
	mustStatus(t, h.do("GET", "/admin/api/cluster", nil, auth(got.Token)...), http.StatusOK)

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"email": "not-an-email"}, "email"},
		{map[string]any{"email": ""}, "email"},
		{map[string]any{"email": "a@b.c", "roles": []string{"Admin!"}}, "roles"},
		{map[string]any{"email": "a@b.c", "roles": "admin"}, "roles"},
		{map[string]any{"email": "a@b.c", "password": "x"}, "password"},
		{map[string]any{"email": "a@b.c", "name": strings.Repeat("n", 201)}, "name"},
	} {
		r := h.do("POST", "/auth/token", tc.body)
		wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
		if r.errorField() != tc.field {
			t.Errorf("%v: field %q, want %q", tc.body, r.errorField(), tc.field)
		}
	}

	prod := newHarness(t, func(c *apiConfig, _ *apiDeps) { c.Mode = api.ModeProd })
	wantError(t, prod.do("POST", "/auth/token", map[string]any{"email": "a@b.c"}), http.StatusNotFound, boxoffice.ENotFound)
}

func TestMintToken(t *testing.T) {
	u := boxoffice.User{ID: uuid.New(), Name: "Ada", Email: "ada@example.com", Roles: []string{"admin"}}
	tok, err := api.MintToken(testSecret, u, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.MapClaims
	if _, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return testSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if c["sub"] != u.ID.String() || c["email"] != u.Email || c["name"] != u.Name {
		t.Errorf("claims %v", c)
	}
	for _, bad := range []struct {
		secret []byte
		u      boxoffice.User
		ttl    time.Duration
	}{{nil, u, time.Hour}, {testSecret, boxoffice.User{}, time.Hour}, {testSecret, u, 0}} {
		if _, err := api.MintToken(bad.secret, bad.u, bad.ttl); err == nil {
			t.Errorf("MintToken(%q, %v, %v) succeeded", bad.secret, bad.u.ID, bad.ttl)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := api.DefaultConfig()
	ok.JWTSecret = testSecret
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mod := range map[string]func(*api.Config){
		"prod without keys":       func(c *api.Config) { c.JWTSecret = nil },
		"dev without secret":      func(c *api.Config) { c.Mode, c.JWTSecret, c.JWKSURL = api.ModeDev, nil, "https://idp/jwks" },
		"short secret":            func(c *api.Config) { c.JWTSecret = []byte("short") },
		"unknown mode":            func(c *api.Config) { c.Mode = "staging" },
		"rate without burst":      func(c *api.Config) { c.RateIP = api.RateConfig{PerSecond: 5} },
		"no body limit":           func(c *api.Config) { c.MaxBodyBytes = 0 },
		"no WebSocket send queue": func(c *api.Config) { c.WSSendQueue = 0 },
		"no logger":               func(c *api.Config) { c.Logger = nil },
	} {
		c := ok
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
		if _, err := api.New(c, api.Deps{}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := api.New(ok, api.Deps{}); err == nil {
		t.Error("New accepted Deps without Engine and Catalog")
	}
}
