package api

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/boxoffice/boxoffice"
)

// wsRetryAfter is the Retry-After of a WebSocket refused by a cap: sockets
// live for minutes, so there is no exact time; a few seconds keeps a
// reconnecting page from hammering the node.
const wsRetryAfter = 10 * time.Second

// ConfigureHTTP sets hs's timeouts for this API: the request line and
// headers within ReadHeaderTimeout, the whole request with its body
// within ReadTimeout (a client trickling a body byte every few seconds is
// cut off), the reply within WriteTimeout, and idle keep-alive connections
// closed after IdleTimeout. WebSocket routes lift the read and write
// deadlines for their connection (see serve); every other route fits in
// them, since its work is bounded by RequestTimeout.
func (s *Server) ConfigureHTTP(hs *http.Server) {
	hs.ReadHeaderTimeout = s.cfg.ReadHeaderTimeout
	hs.ReadTimeout = s.cfg.ReadTimeout
	hs.WriteTimeout = s.cfg.WriteTimeout
	hs.IdleTimeout = s.cfg.IdleTimeout
}

// isWebSocketRoute says whether a mux pattern is a long-lived route: a
// WebSocket (the seat map, the waiting room; they end in /ws) or the seat
// map's event stream (/sse), which takes a socket slot the same way.
func isWebSocketRoute(pattern string) bool {
	return strings.HasSuffix(pattern, "/ws") || strings.HasSuffix(pattern, "/sse")
}

// longLived prepares a WebSocket request: it takes a socket slot of the
// client's address and of the node, or refuses with 429 before the
// upgrade, and lifts the server's read and write deadlines, which are
// sized for ordinary requests; the WebSocket code keeps its own (pings,
// per-frame write timeouts). The caller releases the slot when the
// handler returns, which for a WebSocket is when the socket closes.
func (s *Server) longLived(w http.ResponseWriter, ip string) (release func(), err error) {
	if !s.wsSlots.acquire(ip) {
		return nil, &rateLimitedError{wait: wsRetryAfter, err: boxoffice.Errorf(boxoffice.ERateLimited,
			"too many open WebSockets from this address or on this node; close one or retry later")}
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})  // not every writer supports it (tests' recorders)
	_ = rc.SetWriteDeadline(time.Time{}) // idem
	return func() { s.wsSlots.release(ip) }, nil
}

// socketSlots counts open WebSockets per client address and in total.
// A zero cap means no cap (loopback load tests open thousands from one
// address).
type socketSlots struct {
	maxPerIP, max int

	mu    sync.Mutex // guards perIP and total
	perIP map[string]int
	total int
}

func newSocketSlots(maxPerIP, max int) *socketSlots {
	return &socketSlots{maxPerIP: maxPerIP, max: max, perIP: map[string]int{}}
}

func (s *socketSlots) acquire(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.total >= s.max || s.maxPerIP > 0 && s.perIP[ip] >= s.maxPerIP {
		return false
	}
	s.total++
	s.perIP[ip]++
	return true
}

func (s *socketSlots) release(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}
