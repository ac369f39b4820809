package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsAddr: a node with BOXOFFICE_METRICS_ADDR serves /metrics on
// that listener and not on its public port; the dashboard's admin route
// still has them (issue 13).
func TestMetricsAddr(t *testing.T) {
	n := startTestNode(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	get := func(url, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if n.MetricsURL() == n.URL {
		t.Fatal("metrics on the API port")
	}
	if code, _ := get(n.URL+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("API port /metrics: %d, want 404", code)
	}
	for _, c := range []struct{ url, token string }{
		{n.MetricsURL() + "/metrics", ""},
		{n.URL + "/admin/api/metrics", n.token(t, "admin@example.com", "admin")},
	} {
		code, body := get(c.url, c.token)
		if code != http.StatusOK || !strings.Contains(body, "boxoffice_http_requests_total") || !strings.Contains(body, "go_goroutines") {
			t.Errorf("%s: %d %.200s", c.url, code, body)
		}
	}
}
