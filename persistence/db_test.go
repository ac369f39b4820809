package persistence_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/persistence"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  persistence.Config
		ok   bool
	}{
		{"default with URL", persistence.Config{URL: "postgres://x@127.0.0.1/db", MaxConns: 16}, true},
		{"no URL", persistence.Config{MaxConns: 16}, false},
		{"pool too small", persistence.Config{URL: "postgres://x@127.0.0.1/db", MaxConns: 1}, false},
	}
	for _, tc := range cases {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// Open fails early, and says what to do, when nothing listens at the URL.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := persistence.DefaultConfig()
	cfg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable&connect_timeout=2", port)
	_, err = persistence.Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "is it running?") {
		t.Fatalf("Open of a closed port: %v, want advice", err)
	}
	cfg.URL = "postgres://%zz"
	if _, err := persistence.Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "bad database URL") {
		t.Fatalf("Open of a bad URL: %v", err)
	}
}
