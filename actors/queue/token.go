package queue

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Labels separate the three uses of one key, so that no MAC made for one
// purpose verifies for another.
const (
	keyLabel     = "boxoffice/queue/key/v1"
	tokenLabel   = "boxoffice/queue/admission/v2\x00"
	queueIDLabel = "boxoffice/queue/queue-id/v1\x00"
	tokenPrefix  = "adm2."
)

// DeriveKey turns a deployment secret (BOXOFFICE_ADMISSION_SECRET, or by
// default BOXOFFICE_JWT_SECRET) into the room's Config.Key. The derived key
// differs from the secret, so an admission token can never pass for a
// login token or the other way round. An empty secret gives a key anyone
// can compute; Config.Validate refuses it (WeakKey).
func DeriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// minKeyLen is the shortest key Config accepts.
const minKeyLen = 16

// WeakKey reports a key that cannot be trusted: too short, or derived from
// an empty secret (a public constant: what a node verifying logins only
// with a JWKS, and so without a JWT secret, would otherwise use).
func WeakKey(key []byte) bool {
	return len(key) < minKeyLen || hmac.Equal(key, DeriveKey(nil))
}

// tokenPayload is event(16) | user(16) | period(8) | expiry in Unix
// milliseconds(8).
const tokenPayload = 16 + 16 + 8 + 8

// SignToken mints the admission token of userID for eventID in the room's
// on-period period (boxoffice.WaitingRoom.Period), valid until expires.
// Rooms mint them; it is exported for tools and tests. The token is opaque
// text: "adm2." + base64url(payload) + "." + base64url(MAC).
func SignToken(key []byte, eventID, userID uuid.UUID, period int64, expires time.Time) string {
	var p [tokenPayload]byte
	copy(p[0:16], eventID[:])
	copy(p[16:32], userID[:])
	binary.BigEndian.PutUint64(p[32:40], uint64(period))
	binary.BigEndian.PutUint64(p[40:48], uint64(expires.UnixMilli()))
	enc := base64.RawURLEncoding
	return tokenPrefix + enc.EncodeToString(p[:]) + "." + enc.EncodeToString(tokenMAC(key, p[:]))
}

func tokenMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenLabel))
	m.Write(payload)
	return m.Sum(nil)
}

// VerifyToken checks an admission token without asking anyone: that key
// signed it, that it was issued for eventID and userID in the room's
// current on-period period, and that it has not expired at now. A token of
// a later period than period is accepted: only a room that saw that
// switch-on mints it, so the caller's view of the event (a cache) is the
// older one. Every
// failure is a queue_required *boxoffice.Error (API.md: no valid admission
// token was sent) whose message says which check failed.
func VerifyToken(key []byte, token string, eventID, userID uuid.UUID, period int64, now time.Time) error {
	p, ok := parseToken(key, token)
	if !ok {
		return refused("the admission token is not valid")
	}
	if !hmac.Equal(p[0:16], eventID[:]) {
		return refused("the admission token is for another event")
	}
	if !hmac.Equal(p[16:32], userID[:]) {
		return refused("the admission token belongs to another user")
	}
	if got := int64(binary.BigEndian.Uint64(p[32:40])); got < period {
		return refused("the admission token was issued before the waiting room was last switched on")
	}
	exp := time.UnixMilli(int64(binary.BigEndian.Uint64(p[40:48])))
	if !now.Before(exp) {
		return refused("the admission token expired at " + exp.UTC().Format(time.RFC3339))
	}
	return nil
}

// VerifyAdmission is VerifyToken with the rooms' key, for the HTTP routes
// (boxoffice.Admissions), which do not hold the key.
func (r *Room) VerifyAdmission(token string, eventID, userID uuid.UUID, period int64, now time.Time) error {
	return VerifyToken(r.cfg.Key, token, eventID, userID, period, now)
}

var _ boxoffice.Admissions = (*Room)(nil)

func refused(why string) error {
	return boxoffice.Errorf(boxoffice.EQueueRequired, "%s; join the queue again", why)
}

// parseToken returns the payload of a well-formed token whose MAC key made.
func parseToken(key []byte, token string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(rest) > 128 {
		return nil, false
	}
	ps, ms, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, false
	}
	enc := base64.RawURLEncoding
	p, err1 := enc.DecodeString(ps)
	mac, err2 := enc.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != tokenPayload {
		return nil, false
	}
	return p, hmac.Equal(mac, tokenMAC(key, p))
}

// maxSeq is the largest place a queue ID can carry (48 bits).
const maxSeq = 1<<48 - 1

// queueID names place seq of eventID for clients: the seq in clear in the
// first 6 bytes, then 74 bits of MAC, formatted as an RFC 9562 version-8
// UUID. Anyone holding the key decodes it without a lookup, and nobody
// without the key can guess another place's ID.
func queueID(key []byte, eventID uuid.UUID, seq int64) uuid.UUID {
	var id uuid.UUID
	putSeq(id[:6], seq)
	copy(id[6:], queueIDMAC(key, eventID, seq))
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// parseQueueID returns the place a queue ID names, or false when key did
// not make it for eventID.
func parseQueueID(key []byte, eventID, id uuid.UUID) (int64, bool) {
	seq := getSeq(id[:6])
	if seq < 1 {
		return 0, false
	}
	want := queueID(key, eventID, seq)
	return seq, hmac.Equal(id[:], want[:])
}

func queueIDMAC(key []byte, eventID uuid.UUID, seq int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(queueIDLabel))
	m.Write(eventID[:])
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], uint64(seq))
	m.Write(s[:])
	return m.Sum(nil)[:10]
}

func putSeq(b []byte, seq int64) {
	for i := 5; i >= 0; i-- {
		b[i] = byte(seq)
		seq >>= 8
	}
}

func getSeq(b []byte) int64 {
	var s int64
	for _, c := range b[:6] {
		s = s<<8 | int64(c)
	}
	return s
}
