// Package clientip finds the address of the client behind a request: the
// TCP peer, or, when the peer is a trusted reverse proxy, the rightmost
// address of X-Forwarded-For that is not a trusted proxy. The API's per-IP
// limit, its logs and the waiting room all count clients with it, so they
// agree on who a client is.
//
// Only the rightmost hops can be believed: each proxy appends the address
// it received the request from, while everything left of the first
// untrusted hop was written by the client itself and can be anything.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver knows which peers are trusted proxies. The zero Resolver
// trusts none: every request's client is its TCP peer, the only safe
// choice without a proxy in front.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes X-Forwarded-For from peers in
// trusted (for example the Ingress controller's pod network).
func New(trusted []netip.Prefix) Resolver {
	t := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.IsValid() {
			t = append(t, p.Masked())
		}
	}
	return Resolver{trusted: t}
}

// Trusted reports whether a is a trusted proxy.
func (r Resolver) Trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// IP is the client's address of req as text.
func (r Resolver) IP(req *http.Request) string {
	peer, ok := parseHop(req.RemoteAddr)
	if !ok {
		// Not host:port (a test's or a unix socket's RemoteAddr): count
		// it as it is.
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			return req.RemoteAddr
		}
		return host
	}
	if len(r.trusted) == 0 || !r.Trusted(peer) {
		return peer.String()
	}
	cur := peer
	values := req.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseHop(hops[j])
			if !ok {
				// Garbage where a proxy's address should be: the
				// last hop we could read is the best we know.
				return cur.String()
			}
			cur = a
			if !r.Trusted(a) {
				return a.String()
			}
		}
	}
	return cur.String() // every hop is a proxy: the leftmost is the client
}

// parseHop reads "1.2.3.4", "2001:db8::1", "1.2.3.4:5678" or "[2001:db8::1]:80".
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
