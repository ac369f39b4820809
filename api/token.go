package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// DevTokenTTL is how long a POST /auth/token token lasts.
const DevTokenTTL = 24 * time.Hour

// userNamespace is the UUIDv5 namespace of development users; fixed so
// that an email maps to the same user on every node and every restart.
var userNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://boxoffice.dev/users"))

// DevUserID is the user ID POST /auth/token gives an email: the same email,
// in any letter case, is always the same user.
func DevUserID(email string) uuid.UUID {
	return uuid.NewSHA1(userNamespace, []byte(strings.ToLower(strings.TrimSpace(email))))
}

// MintToken signs an HS256 token for u valid for ttl, with the claims the
// API verifies (sub, exp, iat, name, email, roles). POST /auth/token, cmd's
// token subcommand and the tests use it.
func MintToken(secret []byte, u boxoffice.User, ttl time.Duration) (string, error) {
	return MintTokenFor(secret, u, ttl, "", "")
}

// MintTokenFor is MintToken with iss and aud claims (omitted when empty),
// for nodes configured with an expected issuer and audience.
func MintTokenFor(secret []byte, u boxoffice.User, ttl time.Duration, issuer, audience string) (string, error) {
	switch {
	case len(secret) == 0:
		return "", errors.New("api: MintToken: empty secret")
	case ttl <= 0:
		return "", errors.New("api: MintToken: ttl must be positive")
	case u.ID == uuid.Nil:
		return "", errors.New("api: MintToken: user has no ID")
	}
	now := time.Now()
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.ID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			Issuer:    issuer,
		},
		Name: u.Name, Email: u.Email, Roles: u.Roles,
	}
	if u.OrgID != uuid.Nil {
		c.OrgID = u.OrgID.String()
	}
	for _, id := range u.EventIDs {
		c.EventIDs = append(c.EventIDs, id.String())
	}
	if audience != "" {
		c.Audience = jwt.ClaimStrings{audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

type tokenRequest struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// EventIDs assigns a scanner to events (API.md Roles).
	EventIDs []uuid.UUID `json:"event_ids"`
	// OrgID makes an organiser of that organisation (API.md Roles).
	OrgID *uuid.UUID `json:"org_id"`
}

type tokenResponse struct {
	Token  string    `json:"token"`
	UserID uuid.UUID `json:"user_id"`
}

// handleDevToken is POST /auth/token, served in development mode only.
func (s *Server) handleDevToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	u, err := req.user()
	if err != nil {
		return err
	}
	if s.deps.Users != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		if err := s.deps.Users.UpsertUser(ctx, u); err != nil {
			return err
		}
	}
	tok, err := MintTokenFor(s.cfg.JWTSecret, u, DevTokenTTL, s.cfg.JWTIssuer, s.cfg.JWTAudience)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, tokenResponse{Token: tok, UserID: u.ID})
	return nil
}

// user validates the request and derives the user.
func (req tokenRequest) user() (boxoffice.User, error) {
	email := strings.TrimSpace(req.Email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || len(email) > 254 || strings.ContainsAny(email, " \t\r\n") {
		return boxoffice.User{}, boxoffice.InvalidField("email", "email must be an address such as ada@example.com")
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = local
	}
	if len(name) > 200 {
		return boxoffice.User{}, boxoffice.InvalidField("name", "name is at most 200 characters")
	}
	if len(req.Roles) > 8 {
		return boxoffice.User{}, boxoffice.InvalidField("roles", "at most 8 roles")
	}
	for _, role := range req.Roles {
		if !validType(role) {
			return boxoffice.User{}, boxoffice.InvalidField("roles", "roles are lower-case words such as admin")
		}
	}
	if len(req.EventIDs) > maxScannerEvents {
		return boxoffice.User{}, boxoffice.InvalidField("event_ids", "at most %d event_ids", maxScannerEvents)
	}
	u := boxoffice.User{ID: DevUserID(email), Email: strings.ToLower(email), Name: name, Roles: req.Roles,
		EventIDs: req.EventIDs}
	if req.OrgID != nil {
		u.OrgID = *req.OrgID
	}
	return u, nil
}

// validType accepts short lower-case words (roles, event types).
func validType(t string) bool {
	if len(t) == 0 || len(t) > 32 {
		return false
	}
	for _, r := range t {
		if (r < 'a' || r > 'z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}
