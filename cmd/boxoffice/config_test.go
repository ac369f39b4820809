package main

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// configEnv is a valid environment with one variable overridden.
func configEnv(key, value string) func(string) string {
	base := map[string]string{
		"BOXOFFICE_DATABASE_URL": "postgres://boxoffice@127.0.0.1:5432/boxoffice",
		"BOXOFFICE_MODE":         "dev",
	}
	base[key] = value
	return func(k string) string { return base[k] }
}

// TestConfigBadValuesStopTheNode: every BOXOFFICE_* value that does not
// parse is an error naming the variable, never the default (issue 13).
func TestConfigBadValuesStopTheNode(t *testing.T) {
	for _, tc := range []struct {
		kind, key, value string
	}{
		{"duration without unit", "BOXOFFICE_HOLD_TTL", "10"},
		{"duration garbage", "BOXOFFICE_IDLE_TIMEOUT", "5 minutes"},
		{"duration trailing junk", "BOXOFFICE_COMMIT_LINGER", "1msx"},
		{"int trailing junk", "BOXOFFICE_SNAPSHOT_EVERY", "12abc"},
		{"int float", "BOXOFFICE_NATS_PORT", "4222.5"},
		{"int word", "BOXOFFICE_WS_MAX_PER_IP", "many"},
		{"int negative cap", "BOXOFFICE_WS_MAX", "-1"},
		{"float trailing junk", "BOXOFFICE_RATE_IP", "50rps"},
		{"float NaN", "BOXOFFICE_RATE_USER", "NaN"},
		{"CIDR list bad mask", "BOXOFFICE_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"CIDR list bad entry", "BOXOFFICE_TRUSTED_PROXIES", "10.0.0.0/8,ingress"},
		{"webhook allow-list bad entry", "BOXOFFICE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8,localhost"},
		{"URL no scheme", "BOXOFFICE_JWKS_URL", "idp.example.com/jwks.json"},
		{"URL wrong scheme", "BOXOFFICE_PUBLIC_URL", "ftp://tickets.example.com"},
		{"URL unparsable", "BOXOFFICE_NATS_URL", "nats://[::1"},
		{"URL wrong database scheme", "BOXOFFICE_DATABASE_URL", "mysql://db/boxoffice"},
		{"enum", "BOXOFFICE_GOSSIP_TIMINGS", "quick"},
		{"placement enum", "BOXOFFICE_PLACEMENT", "random"},
		{"placement load below 1", "BOXOFFICE_PLACEMENT_LOAD", "0.9"},
		{"placement load garbage", "BOXOFFICE_PLACEMENT_LOAD", "15%"},
		{"log level", "BOXOFFICE_LOG_LEVEL", "loud"},
		{"log format", "BOXOFFICE_LOG_FORMAT", "xml"},
		{"trace sampler", "OTEL_TRACES_SAMPLER", "sometimes"},
		{"trace sampler ratio", "OTEL_TRACES_SAMPLER_ARG", "2"},
		{"trace sampler ratio garbage", "OTEL_TRACES_SAMPLER_ARG", "1%"},
		{"OTLP protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
		{"SMTP URL wrong scheme", "BOXOFFICE_SMTP_URL", "http://mail.example.com"},
		{"SMTP URL bad port", "BOXOFFICE_SMTP_URL", "smtp://mail.example.com:x"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			_, err := parseConfig("serve", nil, configEnv(tc.key, tc.value), io.Discard)
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.key, tc.value)
			}
			name := strings.TrimPrefix(tc.key, "BOXOFFICE_")
			flagName := strings.ReplaceAll(strings.ToLower(name), "_", "-")
			if !strings.Contains(err.Error(), tc.key) && !strings.Contains(err.Error(), flagName) {
				t.Errorf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

// TestConfigBoolValues covers the boolean kind of env.
func TestConfigBoolValues(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
		bad   bool
	}{{"true", true, false}, {"0", false, false}, {"", true, false}, {"yes", true, true}, {"1x", true, true}} {
		e := &env{get: configEnv("BOXOFFICE_FLAG", tc.value)}
		got := e.boolean("FLAG", true)
		if err := e.err(); (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%q: got %v, err %v; want %v, bad %v", tc.value, got, err, tc.want, tc.bad)
		}
		if tc.bad && !strings.Contains(e.err().Error(), "BOXOFFICE_FLAG") {
			t.Errorf("%q: error %q does not name the variable", tc.value, e.err())
		}
	}
}

// TestConfigGoodValues: the values above, spelled right, are taken.
func TestConfigGoodValues(t *testing.T) {
	env := map[string]string{
		"BOXOFFICE_DATABASE_URL":    "host=/tmp dbname=boxoffice",
		"BOXOFFICE_MODE":            "dev",
		"BOXOFFICE_HOLD_TTL":        "90s",
		"BOXOFFICE_SNAPSHOT_EVERY":  " 12 ",
		"BOXOFFICE_RATE_IP":         "0.5",
		"BOXOFFICE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,fd00::/8",
		"BOXOFFICE_JWKS_URL":        "https://idp.example.com/.well-known/jwks.json",
		"BOXOFFICE_NATS_URL":        "nats://a:4222,nats://b:4222",
		"BOXOFFICE_WS_MAX_PER_IP":   "0",
	}
	c, err := parseConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")}
	if c.HoldTTL != 90*time.Second || c.SnapshotEvery != 12 || c.RateIP != 0.5 || c.WSMaxPerIP != 0 || c.WSMax != defaultWSMax {
		t.Errorf("config = %+v", c)
	}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	for i := range want {
		if c.TrustedProxies[i] != want[i] {
			t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
		}
	}
}

// TestConfigMaxActiveEvents: the memory budget is taken from
// BOXOFFICE_MAX_ACTIVE_EVENTS (0, no limit, by default) and a negative one
// stops the node with an error naming it.
func TestConfigMaxActiveEvents(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int
		bad   bool
	}{{"", 0, false}, {"5000", 5000, false}, {"-1", 0, true}, {"many", 0, true}} {
		c, err := parseConfig("serve", nil, configEnv("BOXOFFICE_MAX_ACTIVE_EVENTS", tc.value), io.Discard)
		switch {
		case tc.bad && err == nil:
			t.Errorf("%q accepted", tc.value)
		case tc.bad && !strings.Contains(err.Error(), "MAX_ACTIVE_EVENTS") && !strings.Contains(err.Error(), "max-active-events"):
			t.Errorf("%q: error %q does not name BOXOFFICE_MAX_ACTIVE_EVENTS", tc.value, err)
		case !tc.bad && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case !tc.bad && c.MaxActiveEvents != tc.want:
			t.Errorf("%q: MaxActiveEvents = %d, want %d", tc.value, c.MaxActiveEvents, tc.want)
		}
	}
}
