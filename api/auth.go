package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/boxoffice/boxoffice"
)

// maxTokenBytes bounds the bearer token a request may carry; real tokens
// are a few hundred bytes, and parsing costs grow with size.
const maxTokenBytes = 8 << 10

// tokenClaims are the claims API.md defines: sub (the user's UUID) and exp
// are required, name, email and roles optional.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name  string   `json:"name,omitempty"`
	Email string   `json:"email,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// EventIDs are a scanner's events (API.md Roles).
	EventIDs []string `json:"event_ids,omitempty"`
	// OrgID is an organiser's organisation (API.md Roles).
	OrgID string `json:"org_id,omitempty"`
}

// authenticator verifies bearer tokens. Which algorithms it accepts
// follows from the configured keys and nothing else: HS256 only with a
// secret, RS256/ES256 only with a JWKS. Each algorithm gets its key from
// its own source, so a token cannot pick an HMAC check against a public key
// (HS/RS confusion), and alg=none is never in the list.
type authenticator struct {
	secret []byte
	// skew is how far in the future a token's iat may be: clocks of an
	// identity provider and a node differ a little, never by hours.
	skew   time.Duration
	jwks   keyfunc.Keyfunc // nil without a JWKS URL
	parser *jwt.Parser
	// verified remembers tokens that passed every check, so that a client
	// reusing its token (every browser tab and integrator does) skips the
	// base64 and JSON decoding and the signature check: about a third of
	// a reserve's CPU in the handler. Entries live at most tokenCacheTTL,
	// which bounds how long a token signed by a key since removed from
	// the JWKS stays accepted, and never past the token's own exp.
	verified *expirable.LRU[string, verifiedToken]
	// clock is the time exp and iat are judged by (nil: time.Now), for
	// the cache and the parser alike; tests move it so that a token
	// expires when they say (SetAuthClock).
	clock atomic.Pointer[func() time.Time]
}

// now is the time tokens are judged by.
func (a *authenticator) now() time.Time {
	if f := a.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// Bounds of the verified-token cache.
const (
	tokenCacheSize = 10_000
	tokenCacheTTL  = time.Minute
)

// verifiedToken is what authenticate learnt from a token.
type verifiedToken struct {
	user boxoffice.User
	exp  time.Time
}

func newAuthenticator(ctx context.Context, cfg Config) (*authenticator, error) {
	a := &authenticator{secret: cfg.JWTSecret, skew: cfg.JWTClockSkew,
		verified: expirable.NewLRU[string, verifiedToken](tokenCacheSize, nil, tokenCacheTTL)}
	var methods []string
	if len(cfg.JWTSecret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKSURL != "" {
		log := cfg.Logger
		kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
			HTTPTimeout:      10 * time.Second,
			RateLimitWaitMax: 2 * time.Second, // a request never waits long for a refresh
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(ctx context.Context, err error) {
					log.LogAttrs(ctx, slog.LevelWarn, "JWKS refresh failed", slog.String("url", u), slog.Any("err", err))
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("api: JWKS %s: %w", cfg.JWKSURL, err)
		}
		a.jwks = kf
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithTimeFunc(a.now)}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// keyFor returns the verification key for t's algorithm from the one
// source that may supply it.
func (a *authenticator) keyFor(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case jwt.SigningMethodHS256.Alg():
			if len(a.secret) > 0 {
				return a.secret, nil
			}
		case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
			if a.jwks != nil {
				return a.jwks.KeyfuncCtx(ctx)(t)
			}
		}
		return nil, errors.New("algorithm not accepted")
	}
}

// authenticate returns the caller of r, or unauthenticated.
func (a *authenticator) authenticate(r *http.Request) (boxoffice.User, error) {
	raw, err := bearer(r)
	if err != nil {
		return boxoffice.User{}, err
	}
	if v, ok := a.verified.Get(raw); ok && a.now().Before(v.exp) {
		return v.user, nil
	}
	var c tokenClaims
	if _, err := a.parser.ParseWithClaims(raw, &c, a.keyFor(r.Context())); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return boxoffice.User{}, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token has expired")
		}
		return boxoffice.User{}, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token is malformed or badly signed")
	}
	// The parser checks iat only with a leeway that would also stretch
	// exp; a token issued in the future is a forged or broken clock.
	if c.IssuedAt != nil && c.IssuedAt.After(a.now().Add(a.skew)) {
		return boxoffice.User{}, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token's iat is in the future")
	}
	id, err := parseID("sub", c.Subject)
	if err != nil {
		return boxoffice.User{}, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token's sub must be the user's UUID")
	}
	u := boxoffice.User{ID: id, Name: c.Name, Email: c.Email, Roles: c.Roles}
	if u.EventIDs, err = scannerEvents(c.EventIDs); err != nil {
		return boxoffice.User{}, err
	}
	if c.OrgID != "" {
		if u.OrgID, err = parseID("org_id", c.OrgID); err != nil {
			return boxoffice.User{}, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token's org_id must be a UUID")
		}
	}
	if c.ExpiresAt != nil { // required by the parser; checked for safety
		a.verified.Add(raw, verifiedToken{user: u, exp: c.ExpiresAt.Time})
	}
	return u, nil
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", boxoffice.Errorf(boxoffice.EUnauthenticated, "this route needs an Authorization: Bearer token")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", boxoffice.Errorf(boxoffice.EUnauthenticated, "the Authorization header must be \"Bearer <token>\"")
	}
	if len(token) > maxTokenBytes {
		return "", boxoffice.Errorf(boxoffice.EUnauthenticated, "the token is too long")
	}
	return token, nil
}

type ctxKey int

const userKey ctxKey = 0

// UserFromContext returns the caller a request was authenticated as; plugs
// whose routes are wrapped by the auth function of Queue.Routes use it.
func UserFromContext(ctx context.Context) (boxoffice.User, bool) {
	u, ok := ctx.Value(userKey).(boxoffice.User)
	return u, ok
}

// ContextWithUser returns ctx carrying u as the authenticated caller, as
// the auth wrapper does; a plug's tests stand in for the API's auth with it.
func ContextWithUser(ctx context.Context, u boxoffice.User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// userHandler is a handler that needs the authenticated caller.
type userHandler func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error

// authed requires a valid token and hands the caller to f.
func (s *Server) authed(f userHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.auth.authenticate(r)
		if err != nil {
			return err
		}
		noteUser(r.Context(), u.ID.String())
		return f(w, r.WithContext(ContextWithUser(r.Context(), u)), u)
	}
}

// booking is authed plus the per-user rate limit of the booking routes.
func (s *Server) booking(f userHandler) handlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
		if err := s.userLimit.allow(u.ID.String(), s.rateNow()); err != nil {
			return err
		}
		return f(w, r, u)
	})
}

// admin requires the admin role: 401 without a token, 403 without the role
// (an organiser too: these routes are node-wide). Its actions are audited
// (orgs.go).
func (s *Server) admin(f userHandler) handlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
		if !u.IsAdmin() {
			return boxoffice.Errorf(boxoffice.EForbidden, "this route needs the admin role")
		}
		return s.audited(f)(w, r, u)
	})
}

// requireUser is the auth function handed to plugs: it answers 401 itself
// and otherwise puts the caller in the request's context.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return s.h(s.authed(func(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
		next.ServeHTTP(w, r)
		return nil
	}))
}

// maxScannerEvents bounds a token's event_ids.
const maxScannerEvents = 1000

// scannerEvents parses a token's event_ids claim.
func scannerEvents(ids []string) ([]uuid.UUID, error) {
	if len(ids) > maxScannerEvents {
		return nil, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token names more than %d event_ids", maxScannerEvents)
	}
	var out []uuid.UUID
	for _, s := range ids {
		id, err := parseID("event_ids", s)
		if err != nil {
			return nil, boxoffice.Errorf(boxoffice.EUnauthenticated, "the token's event_ids must be UUIDs")
		}
		out = append(out, id)
	}
	return out, nil
}
