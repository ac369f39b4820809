package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"

	"github.com/boxoffice/boxoffice"
)

// idempotencyKey returns the request's Idempotency-Key header ("" when
// absent): 1..255 visible ASCII characters, else invalid_argument.
func idempotencyKey(r *http.Request) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return "", boxoffice.InvalidField("Idempotency-Key", "Idempotency-Key is at most %d characters", maxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", boxoffice.InvalidField("Idempotency-Key", "Idempotency-Key must be visible ASCII characters")
		}
	}
	return key, nil
}

// teeBody makes r's body, as the handler's decoder reads it, also land in
// the returned buffer (bounded by the decoder's own body limit).
func teeBody(r *http.Request) *bytes.Buffer {
	var buf bytes.Buffer
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(r.Body, &buf), r.Body}
	return &buf
}

// fingerprint hashes a JSON body as parsed JSON: whitespace, object key
// order and string escapes do not change it; any value that differs does.
// The body has been decoded already, so it is valid JSON.
func fingerprint(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, boxoffice.InvalidField("body", "the body is not valid JSON")
	}
	canon, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return nil, boxoffice.InvalidField("body", "the body could not be read")
	}
	sum := sha256.Sum256(canon)
	return sum[:], nil
}

// reserveReplayer is the seat engine's answer to a repeated keyed reserve
// whose hold was already made (actors.Engine implements it).
type reserveReplayer interface {
	ReplayReserve(ctx context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, bool, error)
}

// replayReserve answers a repeat of a keyed reserve whose hold was already
// made with its first 201, and reports whether it did. It runs before the
// checks that gate new holds: a repeat must not fail on what changed since
// (an admission token that has expired) when it holds nothing new.
func (s *Server) replayReserve(ctx context.Context, w http.ResponseWriter, req boxoffice.ReserveRequest) (bool, error) {
	rp, ok := s.deps.Engine.(reserveReplayer)
	if !ok || req.IdempotencyKey == "" {
		return false, nil
	}
	b, done, err := rp.ReplayReserve(ctx, req)
	if err != nil || !done {
		return false, err
	}
	WriteJSON(w, http.StatusCreated, renderBooking(b))
	return true, nil
}
