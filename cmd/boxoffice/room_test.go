package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// TestWaitingRoomBypass tries, over HTTP against a real node, every way
// around the waiting room issue 13 names: a place taken while the room is
// off, a token replayed after the room was switched off and on, another
// user's token, another event's token, a made-up token and one minted with
// the key an empty secret gives. Each is 403 queue_required; the room's own
// token admits its owner, and with the room off any token is ignored.
func TestWaitingRoomBypass(t *testing.T) {
	n := startTestNode(t)
	ev := dbtest.CreateEvent(t, n.db, dbtest.SmallHall(), boxoffice.WaitingRoom{}) // off
	other := dbtest.CreateEvent(t, n.db, dbtest.SmallHall(), boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 1000})
	admin := n.token(t, "admin@example.com", "admin")
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")
	aliceID := api.DevUserID("alice@example.com")
	seats := n.ticketIDs(t, ev.ID)
	otherSeats := n.ticketIDs(t, other.ID)
	next := 0
	seat := func() string { next++; return seats[next-1] }

	// Off: joining is open, with no token to keep for later; reserve needs
	// none and ignores whatever is sent.
	open := n.join(t, ev.ID, alice)
	if open.State != "open" || open.Position != 0 || open.QueueID == "" || open.AdmissionToken != "" {
		t.Fatalf("join with the room off: %+v, want open at 0 with a queue_id and no token", open)
	}
	n.wantReserve(t, alice, "", ev.ID, seat(), http.StatusCreated, "")
	n.wantReserve(t, alice, "let-me-in", ev.ID, seat(), http.StatusCreated, "")

	n.setRoom(t, admin, ev.ID, true)
	if s := n.queueStatus(t, ev.ID, open.QueueID); s.State != "expired" || s.AdmissionToken != "" {
		t.Fatalf("the place taken while the room was off, after the switch-on: %+v", s)
	}
	forged := queue.SignToken(queue.DeriveKey(nil), ev.ID, aliceID, 1, time.Now().Add(time.Hour))
	for name, tok := range map[string]string{"no token": "", "a made-up token": "let-me-in",
		"a token keyed by an empty secret": forged} {
		t.Run(name, func(t *testing.T) {
			n.wantReserve(t, alice, tok, ev.ID, seats[9], http.StatusForbidden, boxoffice.EQueueRequired)
		})
	}

	aliceTok := n.admitted(t, ev.ID, alice)
	bobTok := n.admitted(t, ev.ID, bob)
	n.wantReserve(t, bob, aliceTok, ev.ID, seats[9], http.StatusForbidden, boxoffice.EQueueRequired)
	n.wantReserve(t, alice, aliceTok, other.ID, otherSeats[0], http.StatusForbidden, boxoffice.EQueueRequired)
	n.wantReserve(t, alice, aliceTok, ev.ID, seat(), http.StatusCreated, "")
	n.wantReserve(t, bob, bobTok, ev.ID, seat(), http.StatusCreated, "")

	// Off and on again: the tokens of the first on-period are spent.
	n.setRoom(t, admin, ev.ID, false)
	n.wantReserve(t, alice, aliceTok, ev.ID, seat(), http.StatusCreated, "")
	n.setRoom(t, admin, ev.ID, true)
	n.wantReserve(t, alice, aliceTok, ev.ID, seats[9], http.StatusForbidden, boxoffice.EQueueRequired)
	n.wantReserve(t, bob, bobTok, ev.ID, seats[9], http.StatusForbidden, boxoffice.EQueueRequired)
	n.wantReserve(t, alice, n.admitted(t, ev.ID, alice), ev.ID, seats[9], http.StatusCreated, "")
}

// TestWaitingRoomSwitchReachesEveryNode switches the waiting room on and
// off through one node of a cluster and reserves through the other, whose
// event cache must not keep the room off (a bypass) nor keep a voided
// token's on-period current for its TTL.
func TestWaitingRoomSwitchReachesEveryNode(t *testing.T) {
	tc := startCluster(t, 2)
	a, b := tc.nodes[0], tc.nodes[1]
	ev := dbtest.CreateEvent(t, a.db, dbtest.SmallHall(), boxoffice.WaitingRoom{})
	admin, fan := a.token(t, "admin@example.com", "admin"), b.token(t, "fan@example.com")
	seats := b.ticketIDs(t, ev.ID)
	b.wantReserve(t, fan, "", ev.ID, seats[0], http.StatusCreated, "") // node 2 caches the room off

	a.setRoom(t, admin, ev.ID, true)
	b.waitRoom(t, ev.ID, true)
	b.wantReserve(t, fan, "", ev.ID, seats[1], http.StatusForbidden, boxoffice.EQueueRequired)
	tok := a.admitted(t, ev.ID, fan)
	b.wantReserve(t, fan, tok, ev.ID, seats[1], http.StatusCreated, "")

	a.setRoom(t, admin, ev.ID, false)
	b.waitRoom(t, ev.ID, false)
	a.setRoom(t, admin, ev.ID, true)
	b.waitRoom(t, ev.ID, true)
	b.wantReserve(t, fan, tok, ev.ID, seats[2], http.StatusForbidden, boxoffice.EQueueRequired)
}

// waitRoom waits until the node shows the event's waiting room on or off.
// The deadline is generous for a loaded machine (a 10 s one ran out once
// beside seven other test runs) and still below the catalog cache's 30 s
// lifetime, so only the catalog stream can make the switch show in time.
func (n *testNode) waitRoom(t testing.TB, eventID uuid.UUID, on bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		var view struct {
			Event struct {
				WaitingRoom struct {
					Enabled bool `json:"enabled"`
				} `json:"waiting_room"`
			} `json:"event"`
		}
		n.call(t, http.MethodGet, "/events/"+eventID.String(), "", nil, &view)
		return view.Event.WaitingRoom.Enabled == on
	}, 25*time.Second, 25*time.Millisecond, "the node shows the waiting room switched")
}

// TestAdmissionSecretConfig: a node whose logins are verified only with a
// JWKS has no JWT secret to derive the admission key from; without
// BOXOFFICE_ADMISSION_SECRET (of a real length) it refuses to start.
func TestAdmissionSecretConfig(t *testing.T) {
	secret := strings.Repeat("s", 32)
	cases := []struct {
		name string
		env  map[string]string
		want string // a word of the error, "" when valid
	}{
		{"JWKS only, no admission secret", map[string]string{"BOXOFFICE_JWKS_URL": "https://idp.example/jwks"}, "BOXOFFICE_ADMISSION_SECRET"},
		{"JWKS only, short admission secret", map[string]string{"BOXOFFICE_JWKS_URL": "https://idp.example/jwks", "BOXOFFICE_ADMISSION_SECRET": "short"}, "BOXOFFICE_ADMISSION_SECRET"},
		{"JWKS only, admission secret", map[string]string{"BOXOFFICE_JWKS_URL": "https://idp.example/jwks", "BOXOFFICE_ADMISSION_SECRET": secret}, ""},
		{"JWT secret: the key derives from it", map[string]string{"BOXOFFICE_JWT_SECRET": secret}, ""},
		{"JWT secret and JWKS", map[string]string{"BOXOFFICE_JWT_SECRET": secret, "BOXOFFICE_JWKS_URL": "https://idp.example/jwks"}, ""},
		{"dev mode", map[string]string{"BOXOFFICE_MODE": "dev"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseConfig("serve", nil, func(k string) string {
				if k == "BOXOFFICE_DATABASE_URL" {
					return "postgres://unused"
				}
				return c.env[k]
			}, io.Discard)
			if c.want == "" {
				// Other prod settings may be missing here; none of them
				// is the admission secret.
				if err != nil && strings.Contains(err.Error(), "ADMISSION") {
					t.Fatalf("parseConfig = %v, want the admission secret accepted", err)
				}
				if s, err := cfg.admissionSecret(); err != nil || len(s) < api.MinSecretBytes {
					t.Fatalf("admission secret of %d bytes, %v", len(s), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("parseConfig = %v, want an error naming %s", err, c.want)
			}
		})
	}
	// A Config built in code skips parseConfig: the node itself refuses
	// (it fails before the API would notice dev mode has no JWT secret).
	cfg := testNodeConfig(t, pgtest.NewDB(t), func(c *Config) { c.JWTSecret, c.JWKSURL = "", "https://idp.example/jwks" })
	n, err := startNode(t.Context(), cfg, newLogger(io.Discard, "error"))
	if err == nil {
		n.Close()
		t.Fatal("a node without an admission secret started")
	}
	if !strings.Contains(err.Error(), "BOXOFFICE_ADMISSION_SECRET") {
		t.Fatalf("start refused with %v, want it to name BOXOFFICE_ADMISSION_SECRET", err)
	}
}

// TestAdmissionKeyWithJWKSOnly runs a prod node that verifies logins only
// with a JWKS (no JWT secret) and has BOXOFFICE_ADMISSION_SECRET: an
// admission token minted with the key an empty secret derives is refused,
// and the room's own tokens admit.
func TestAdmissionKeyWithJWKSOnly(t *testing.T) {
	idp := newTestIDP(t)
	n := startTestNode(t, func(c *Config) {
		c.Mode, c.JWTSecret, c.JWKSURL = "prod", "", idp.url
		c.AdmissionSecret = "admission-secret-of-this-test-0123456789"
	})
	ev := dbtest.CreateEvent(t, n.db, dbtest.SmallHall(), boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 1000})
	seats := n.ticketIDs(t, ev.ID)
	user := uuid.New()
	login := idp.token(t, user)

	forged := queue.SignToken(queue.DeriveKey(nil), ev.ID, user, ev.WaitingRoom.Period, time.Now().Add(time.Hour))
	n.wantReserve(t, login, forged, ev.ID, seats[0], http.StatusForbidden, boxoffice.EQueueRequired)
	forged = queue.SignToken(queue.DeriveKey([]byte("")), ev.ID, user, ev.WaitingRoom.Period, time.Now().Add(time.Hour))
	n.wantReserve(t, login, forged, ev.ID, seats[0], http.StatusForbidden, boxoffice.EQueueRequired)
	n.wantReserve(t, login, n.admitted(t, ev.ID, login), ev.ID, seats[0], http.StatusCreated, "")
}

// placeReply is the waiting room's reply shape.
type placeReply struct {
	QueueID        string `json:"queue_id"`
	Position       int64  `json:"position"`
	State          string `json:"state"`
	AdmissionToken string `json:"admission_token"`
}

func (n *testNode) join(t testing.TB, eventID uuid.UUID, token string) placeReply {
	t.Helper()
	var p placeReply
	if code := n.call(t, http.MethodPost, "/events/"+eventID.String()+"/queue", token, nil, &p); code != http.StatusOK {
		t.Fatalf("join: %d", code)
	}
	return p
}

func (n *testNode) queueStatus(t testing.TB, eventID uuid.UUID, queueID string) placeReply {
	t.Helper()
	var p placeReply
	if code := n.call(t, http.MethodGet, "/events/"+eventID.String()+"/queue/"+queueID, "", nil, &p); code != http.StatusOK {
		t.Fatalf("queue status: %d", code)
	}
	return p
}

// admitted joins the queue with token and waits for the admission token.
func (n *testNode) admitted(t testing.TB, eventID uuid.UUID, token string) string {
	t.Helper()
	p := n.join(t, eventID, token)
	require.Eventually(t, func() bool {
		if p.State != "admitted" {
			p = n.queueStatus(t, eventID, p.QueueID)
		}
		return p.State == "admitted"
	}, 10*time.Second, 25*time.Millisecond, "admitted")
	if p.AdmissionToken == "" {
		t.Fatalf("admitted without a token: %+v", p)
	}
	return p.AdmissionToken
}

// setRoom switches the event's waiting room through the admin API.
func (n *testNode) setRoom(t testing.TB, admin string, eventID uuid.UUID, on bool) {
	t.Helper()
	body := map[string]any{"waiting_room": map[string]any{"enabled": on, "rate_per_second": 1000}}
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+eventID.String(), admin, body, nil); code != http.StatusOK {
		t.Fatalf("PATCH waiting room on=%v: %d", on, code)
	}
}

func (n *testNode) ticketIDs(t testing.TB, eventID uuid.UUID) []string {
	t.Helper()
	var ev struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+eventID.String(), "", nil, &ev); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	ids := make([]string, len(ev.Tickets))
	for i, tk := range ev.Tickets {
		ids[i] = tk.TicketID
	}
	return ids
}

// wantReserve reserves seat with an X-Admission-Token (none when empty)
// and checks the status and error code.
func (n *testNode) wantReserve(t testing.TB, login, admission string, eventID uuid.UUID, seat string, status int, code string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.URL+"/booking/reserve",
		jsonBody(t, map[string]any{"event_id": eventID.String(), "ticket_ids": []string{seat}}))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+login)
	if admission != "" {
		req.Header.Set("X-Admission-Token", admission)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	data, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(data, &body)
	if res.StatusCode != status || body.Error.Code != code {
		t.Fatalf("reserve: %d %s, want %d %q", res.StatusCode, data, status, code)
	}
}

// testIDP is an identity provider: a JWKS with one RSA key, and the
// RS256 logins it signs.
type testIDP struct {
	url string
	key *rsa.PrivateKey
}

func newTestIDP(t testing.TB) testIDP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return testIDP{url: srv.URL, key: key}
}

func (p testIDP) token(t testing.TB, user uuid.UUID) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"sub": user.String(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
