package clientip_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/boxoffice/boxoffice/api/clientip"
)

func TestIP(t *testing.T) {
	proxies := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")})
	for _, tc := range []struct {
		name string
		r    clientip.Resolver
		peer string
		xff  []string
		want string
	}{
		{"no proxies: peer", clientip.Resolver{}, "203.0.113.9:5555", []string{"1.1.1.1"}, "203.0.113.9"},
		{"untrusted peer's XFF is ignored", proxies, "203.0.113.9:5555", []string{"1.1.1.1"}, "203.0.113.9"},
		{"trusted peer, one hop", proxies, "10.1.2.3:5555", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-written hops left of the real one", proxies, "10.1.2.3:5555", []string{"1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"chain of proxies", proxies, "10.1.2.3:5555", []string{"1.1.1.1, 198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"several header lines", proxies, "10.1.2.3:5555", []string{"1.1.1.1", "198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"trusted peer without XFF", proxies, "10.1.2.3:5555", nil, "10.1.2.3"},
		{"garbage hop", proxies, "10.1.2.3:5555", []string{"198.51.100.7, bogus"}, "10.1.2.3"},
		{"garbage left of the real hop", proxies, "10.1.2.3:5555", []string{"bogus, 198.51.100.7"}, "198.51.100.7"},
		{"all proxies", proxies, "10.1.2.3:5555", []string{"10.4.4.4, 10.5.5.5"}, "10.4.4.4"},
		{"IPv6 peer and hop", proxies, "[fd00::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.1.2.3]:443", []string{"198.51.100.7"}, "198.51.100.7"},
		{"hop with port", proxies, "10.1.2.3:5555", []string{"198.51.100.7:41000"}, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.r.IP(req); got != tc.want {
				t.Errorf("IP = %q, want %q", got, tc.want)
			}
		})
	}
}
