package queueroom_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/api/queueroom"
)

func TestJoinAndStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	alice, bob := uuid.New(), uuid.New()
	a := e.join(t, alice)
	if a.status != 200 || a.body["position"] != 1.0 || a.body["state"] != "waiting" {
		t.Fatalf("join: %d %v", a.status, a.body)
	}
	if _, has := a.body["admission_token"]; has {
		t.Fatalf("a waiting place has a token: %v", a.body)
	}
	qid, err := uuid.Parse(a.body["queue_id"].(string))
	if err != nil {
		t.Fatalf("queue_id %v", a.body["queue_id"])
	}
	if b := e.join(t, bob); b.body["position"] != 2.0 {
		t.Fatalf("bob: %v", b.body)
	}
	if again := e.join(t, alice); again.body["queue_id"] != qid.String() || again.body["position"] != 1.0 {
		t.Fatalf("join again: %v", again.body)
	}
	path := "/events/" + e.ev.ID.String() + "/queue/" + qid.String()
	if s := e.do(t, "GET", path, uuid.Nil); s.status != 200 || s.body["position"] != 1.0 || s.body["queue_id"] != qid.String() {
		t.Fatalf("status: %d %v", s.status, s.body)
	}

	e.setRoom(t, true, 1000)
	require.Eventually(t, func() bool {
		return e.do(t, "GET", path, uuid.Nil).body["state"] == "admitted"
	}, 5*time.Second, 10*time.Millisecond, "alice admitted")
	s := e.do(t, "GET", path, uuid.Nil)
	tok, _ := s.body["admission_token"].(string)
	if s.body["position"] != 0.0 || tok == "" || s.body["expires_at"] == nil {
		t.Fatalf("admitted: %v", s.body)
	}
	r := httptest.NewRequest("POST", "/booking/reserve", nil)
	r.Header.Set(queueroom.AdmissionHeader, tok)
	if err := e.h.CheckAdmission(r, alice, e.ev); err != nil {
		t.Fatalf("the pushed token does not admit its owner: %v", err)
	}
}

func TestRouteErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	ev := e.ev.ID.String()
	cases := []struct {
		name, method, path string
		user               uuid.UUID
		status             int
		code               string
	}{
		{"join without login", "POST", "/events/" + ev + "/queue", uuid.Nil, 401, boxoffice.EUnauthenticated},
		{"join a bad event ID", "POST", "/events/nope/queue", uuid.New(), 400, boxoffice.EInvalid},
		{"join an unknown event", "POST", "/events/" + uuid.NewString() + "/queue", uuid.New(), 404, boxoffice.ENotFound},
		{"status of a bad queue ID", "GET", "/events/" + ev + "/queue/x", uuid.Nil, 400, boxoffice.EInvalid},
		{"status of an unknown place", "GET", "/events/" + ev + "/queue/" + uuid.NewString(), uuid.Nil, 404, boxoffice.ENotFound},
		{"socket of an unknown place", "GET", "/events/" + ev + "/queue/" + uuid.NewString() + "/ws", uuid.Nil, 404, boxoffice.ENotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do(t, c.method, c.path, c.user), c.status, c.code)
		})
	}
	r := e.do(t, "GET", "/events/"+ev+"/queue/x", uuid.Nil)
	if d, _ := r.body["error"].(map[string]any)["details"].(map[string]any); d["field"] != "queue_id" {
		t.Fatalf("400 does not name the field: %v", r.body)
	}
}

// TestCheckAdmission is what reserve asks: nothing with the room off (a
// token is ignored then), a valid token of this user for this event in the
// room's current on-period with it on; every other token is answered
// queue_required, as API.md says.
func TestCheckAdmission(t *testing.T) {
	t.Parallel()
	key, h := queuetest.Key, newEnv(t, paused, nil).h
	user, now := uuid.New(), time.Now()
	on := boxoffice.Event{ID: uuid.New(), WaitingRoom: boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 10, Period: 3}}
	off := on
	off.WaitingRoom.Enabled = false
	valid := queue.SignToken(key, on.ID, user, 3, now.Add(time.Minute))
	q := boxoffice.EQueueRequired
	cases := []struct {
		name  string
		event boxoffice.Event
		token string
		code  string // "" when admitted
	}{
		{"room off, no token", off, "", ""},
		{"room off, junk token", off, "junk", ""},
		{"room on, valid token", on, valid, ""},
		{"room on, no token", on, "", boxoffice.EQueueRequired},
		{"room off, valid token", off, valid, ""},
		{"room on, made-up token", on, "let-me-in", q},
		{"room on, forged token", on, valid[:len(valid)-2] + "xx", q},
		{"room on, other key", on, queue.SignToken([]byte("some other key, 32 bytes long..."), on.ID, user, 3, now.Add(time.Minute)), q},
		{"room on, key from an empty secret", on, queue.SignToken(queue.DeriveKey(nil), on.ID, user, 3, now.Add(time.Minute)), q},
		{"room on, expired token", on, queue.SignToken(key, on.ID, user, 3, now.Add(-time.Second)), q},
		{"room on, another user's token", on, queue.SignToken(key, on.ID, uuid.New(), 3, now.Add(time.Minute)), q},
		{"room on, another event's token", on, queue.SignToken(key, uuid.New(), user, 3, now.Add(time.Minute)), q},
		{"room on, token of an earlier on-period", on, queue.SignToken(key, on.ID, user, 2, now.Add(time.Minute)), q},
		{"room on, token of an on-period newer than the event's (a stale cache)", on, queue.SignToken(key, on.ID, user, 4, now.Add(time.Minute)), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/booking/reserve", nil)
			if c.token != "" {
				r.Header.Set(queueroom.AdmissionHeader, c.token)
			}
			err := h.CheckAdmission(r, user, c.event)
			if got := code(err); got != c.code {
				t.Fatalf("CheckAdmission = %v, want code %q", err, c.code)
			}
		})
	}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return boxoffice.ErrorCode(err)
}

// TestJoinRateLimits: per-user and per-address join buckets refill by the
// handler's clock, which only the test moves, so the counts are exact.
func TestJoinRateLimits(t *testing.T) {
	t.Parallel()
	// The handler's clock: start plus what the test has moved it by.
	start, moved := time.Now(), new(atomic.Int64)
	e := newEnv(t, paused, func(c *queueroom.Config, _ *queueroom.Deps) {
		c.JoinsPerUser, c.UserBurst = 0.1, 2
		c.JoinsPerIP, c.IPBurst = 0.1, 4
		c.Now = func() time.Time { return start.Add(time.Duration(moved.Load())) }
	})
	alice := uuid.New()
	for range 2 {
		if r := e.join(t, alice); r.status != 200 {
			t.Fatalf("join within the burst: %d %v", r.status, r.body)
		}
	}
	r := e.join(t, alice)
	wantError(t, r, http.StatusTooManyRequests, boxoffice.ERateLimited)
	if got := r.header.Get("Retry-After"); got != "10" {
		t.Fatalf("Retry-After %q, want 10 at 0.1/s", got)
	}
	// Alice's refusal still spent an address token: 3 of 4 are gone, so
	// the address allows one more join from anyone, then refuses.
	if r := e.join(t, uuid.New()); r.status != 200 {
		t.Fatalf("another user from the same address: %d %v", r.status, r.body)
	}
	wantError(t, e.join(t, uuid.New()), http.StatusTooManyRequests, boxoffice.ERateLimited)

	moved.Add(int64(10*time.Second - time.Millisecond))
	wantError(t, e.join(t, alice), http.StatusTooManyRequests, boxoffice.ERateLimited)
	moved.Add(int64(time.Millisecond)) // one token in each bucket
	if r := e.join(t, alice); r.status != 200 {
		t.Fatalf("alice after 10 s: %d %v", r.status, r.body)
	}
	wantError(t, e.join(t, uuid.New()), http.StatusTooManyRequests, boxoffice.ERateLimited)
}

func TestChallengeHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, func(_ *queueroom.Config, d *queueroom.Deps) {
		d.Challenge = func(r *http.Request, _, _ uuid.UUID) error {
			if r.Header.Get("X-Challenge") != "solved" {
				return &boxoffice.Error{Code: boxoffice.EForbidden, Message: "solve the challenge first"}
			}
			return nil
		}
	})
	wantError(t, e.join(t, uuid.New()), http.StatusForbidden, boxoffice.EForbidden)
	r := e.do(t, "POST", "/events/"+e.ev.ID.String()+"/queue", uuid.New(), "X-Challenge", "solved")
	if r.status != 200 || r.body["position"] != 1.0 {
		t.Fatalf("solved challenge: %d %v (a refused join must not take a place)", r.status, r.body)
	}
}
