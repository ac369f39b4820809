package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader carries a request's id both ways (API.md "Request ids"):
// a client or proxy may send its own so that its logs and the node's name
// the same request; every reply carries the one the node used.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen is the longest client request id kept (API.md); a longer
// one would bloat every log line of the request.
const maxRequestIDLen = 128

// requestInfo is what a request tells its access log line while it runs:
// its id, and the user once a token has been checked. One per request,
// written only by the goroutine serving it.
type requestInfo struct {
	id   string
	user string
}

// requestInfoKey is requestInfo's context key, a type of its own so that
// no other key of the package can collide with it.
type requestInfoKey struct{}

// RequestID returns the id of the request ctx belongs to, "" outside one.
// Log handlers (LogHandler) and plugs use it to name the request.
func RequestID(ctx context.Context) string {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri.id
	}
	return ""
}

// withRequestInfo starts a request's info: its id is the client's own when
// acceptable (validRequestID), else a new one, and is set on the reply at
// once so that every reply, error bodies included (WriteError), carries it.
func withRequestInfo(w http.ResponseWriter, r *http.Request) (*http.Request, *requestInfo) {
	id := r.Header.Get(RequestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set(RequestIDHeader, id)
	ri := &requestInfo{id: id}
	return r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)), ri
}

// noteUser records the authenticated caller for the access log.
func noteUser(ctx context.Context, user string) {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		ri.user = user
	}
}

// validRequestID is API.md's rule: 1 to 128 printable ASCII characters.
// Anything else (control bytes that could forge log lines, non-ASCII) is
// replaced rather than escaped, so log readers see the id as sent or not.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID is 16 random bytes in hex: unique without coordination
// between nodes.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
