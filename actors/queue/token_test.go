package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
)

func TestVerifyToken(t *testing.T) {
	key := queue.DeriveKey([]byte("node secret"))
	ev, user := uuid.New(), uuid.New()
	now := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	const period = 7
	good := queue.SignToken(key, ev, user, period, now.Add(time.Minute))
	tamper := func(s string) string { // flip one character of the MAC
		b := []byte(s)
		i := len(b) - 3
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name    string
		key     []byte
		token   string
		ev      uuid.UUID
		user    uuid.UUID
		period  int64
		now     time.Time
		wantErr string // "" for valid, else a word of the message
	}{
		{"valid", key, good, ev, user, period, now, ""},
		{"valid until the last millisecond", key, good, ev, user, period, now.Add(time.Minute - time.Millisecond), ""},
		{"expired", key, good, ev, user, period, now.Add(time.Minute), "expired"},
		{"long expired", key, good, ev, user, period, now.Add(time.Hour), "expired"},
		{"forged MAC", key, tamper(good), ev, user, period, now, "not valid"},
		{"other key", queue.DeriveKey([]byte("another secret")), good, ev, user, period, now, "not valid"},
		{"raw secret as key", []byte("node secret"), good, ev, user, period, now, "not valid"},
		{"minted with the empty-secret key", key, queue.SignToken(queue.DeriveKey(nil), ev, user, period, now.Add(time.Minute)), ev, user, period, now, "not valid"},
		{"other event", key, good, uuid.New(), user, period, now, "another event"},
		{"other user", key, good, ev, uuid.New(), period, now, "another user"},
		{"earlier on-period", key, good, ev, user, period + 1, now, "last switched on"},
		{"later on-period than the caller knows", key, good, ev, user, period - 1, now, ""},
		{"payload swapped in", key, swapPayload(good, queue.SignToken(key, ev, uuid.New(), period, now.Add(time.Hour))), ev, user, period, now, "not valid"},
		{"empty", key, "", ev, user, period, now, "not valid"},
		{"garbage", key, "adm2.%%%.!!!", ev, user, period, now, "not valid"},
		{"no prefix", key, strings.TrimPrefix(good, "adm2."), ev, user, period, now, "not valid"},
		{"the old format", key, "adm1." + strings.TrimPrefix(good, "adm2."), ev, user, period, now, "not valid"},
		{"a JWT", key, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", ev, user, period, now, "not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := queue.VerifyToken(c.key, c.token, c.ev, c.user, c.period, c.now)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifyToken = %v, want nil", err)
				}
				return
			}
			wantCode(t, err, boxoffice.EQueueRequired)
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %q, want it to mention %q", err, c.wantErr)
			}
		})
	}
}

// swapPayload puts b's payload under a's MAC: what a user who edits their
// token to name someone else would send.
func swapPayload(a, b string) string {
	pa := strings.Split(a, ".")
	pb := strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

func TestDeriveKeyDiffersFromSecret(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := queue.DeriveKey(secret)
	if len(k) != 32 || string(k) == string(secret) {
		t.Fatalf("DeriveKey = %x", k)
	}
	if string(queue.DeriveKey(secret)) != string(k) {
		t.Fatal("DeriveKey is not deterministic; nodes would disagree")
	}
}

// TestWeakKeyRefused: a room keyed from an empty secret (a node that
// verifies logins only with a JWKS and so has no JWT secret) would let
// anyone mint admission tokens; the room refuses to start with it.
func TestWeakKeyRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		key  []byte
		weak bool
	}{
		{"derived from nil", queue.DeriveKey(nil), true},
		{"derived from empty", queue.DeriveKey([]byte{}), true},
		{"short", []byte("0123456789"), true},
		{"derived from a secret", queue.DeriveKey([]byte("a real secret of enough bytes")), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := queue.WeakKey(c.key); got != c.weak {
				t.Fatalf("WeakKey = %v, want %v", got, c.weak)
			}
			cfg := queue.DefaultConfig()
			cfg.Key = c.key
			if err := cfg.Validate(); (err != nil) != c.weak {
				t.Fatalf("Validate = %v, want refused %v", err, c.weak)
			}
		})
	}
}
