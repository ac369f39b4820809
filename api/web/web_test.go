package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestPrefersHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/json, text/html;q=0.5", false},
		{"text/html;q=0.5, application/json", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", true}, // Chromium's navigation
		{"text/html;q=0", false},
		{"text/html;q=bogus", false},
		{"TEXT/HTML", true},
		{"application/xhtml+xml", true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/events/x", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := PrefersHTML(r); got != tc.want {
			t.Errorf("Accept %q: PrefersHTML = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

const navigation = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestFrontAndPages serves the pages as the node does: mounted on the API's
// routes (GET /, /admin/, /static/) behind Front, with a stand-in API that
// answers everything else with "api".
func TestFrontAndPages(t *testing.T) {
	pages := Handler()
	mux := http.NewServeMux() // what api.Server.routes mounts
	mux.Handle("GET /{$}", pages)
	mux.Handle("GET /admin/{$}", pages)
	mux.Handle("GET /door/", pages)
	mux.Handle("GET /static/", pages)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("api")) })
	node := Front(mux, pages)
	const event = "/events/ef7a3ce4-2fb6-5eb4-9153-f729f391678c"

	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		accept       string
		status       int
		contentType  string
		contains     string
	}{
		{"search page", node, "GET", "/", navigation, 200, "text/html", `id="search-form"`},
		{"admin page", node, "GET", "/admin/", navigation, 200, "text/html", `src="/static/js/admin.js"`},
		{"script", node, "GET", "/static/js/app.js", "*/*", 200, "text/javascript", "import"},
		{"door page", node, "GET", "/door/", navigation, 200, "text/html", `id="verdict"`},
		{"door service worker", node, "GET", "/door/sw.js", "*/*", 200, "text/javascript", "boxoffice-door-"},
		{"vendored QR reader", node, "GET", "/static/js/vendor/jsQR.js", "*/*", 200, "text/javascript", "jsQR"},
		{"its licence", node, "GET", "/static/js/vendor/jsQR.LICENSE.txt", "*/*", 200, "text/plain", "Apache License"},
		{"unknown door path", node, "GET", "/door/nothing", navigation, 404, "application/json", `"not_found"`},
		{"style", node, "HEAD", "/static/style.css", "text/css", 200, "text/css", ""},
		{"event link in a browser", node, "GET", event, navigation, 200, "text/html", `id="seatmap"`},
		{"event JSON", node, "GET", event, "application/json", 200, "", "api"},
		{"event without Accept", node, "GET", event, "", 200, "", "api"},
		{"event for */*", node, "GET", event, "*/*", 200, "", "api"},
		{"seat WebSocket path", node, "GET", event + "/seats/ws", navigation, 200, "", "api"},
		{"event POST", node, "POST", event, navigation, 200, "", "api"},
		{"other API path", node, "GET", "/search?q=x", navigation, 200, "", "api"},
		{"unknown static file", pages, "GET", "/static/nope.js", "*/*", 404, "application/json", `"not_found"`},
		{"a page under static", pages, "GET", "/static/index.html", "*/*", 404, "application/json", `"not_found"`},
		{"unknown path", pages, "GET", "/nothing", navigation, 404, "application/json", `"not_found"`},
		{"event page for JSON", pages, "GET", event, "application/json", 404, "application/json", `"not_found"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.200s", rec.Code, tc.status, body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body does not contain %q: %.200s", tc.contains, body)
			}
			if tc.contentType == "text/html" && rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("a page without a Content-Security-Policy")
			}
			if tc.h != pages && strings.HasPrefix(tc.path, "/events/") && !strings.Contains(tc.path, "/seats") && tc.method == "GET" &&
				!strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept") {
				t.Errorf("Vary %q: the event path must vary by Accept", rec.Header().Values("Vary"))
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD with a body of %d bytes", len(body))
			}
		})
	}
}

func TestNotModified(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/static/js/seatmap.js", nil))
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("first fetch: %d ETag %q Cache-Control %q", rec.Code, etag, rec.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest(http.MethodGet, "/static/js/seatmap.js", nil)
	req.Header.Set("If-None-Match", `W/"other", `+etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
	}
}

// TestAssetsResolve checks that every script, stylesheet and module import
// the pages name is embedded: a missing file would only show in a browser.
func TestAssetsResolve(t *testing.T) {
	s, err := newSite(embedded)
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	// The door's service worker caches the page's files by name.
	cached := regexp.MustCompile(`'(/static/[^']+)'`)
	imports := regexp.MustCompile(`(?m)^import .* from '\./([^']+)';`)
	checked := 0
	err = fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(embedded, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		switch {
		case strings.HasSuffix(p, ".html"):
			for _, m := range refs.FindAllStringSubmatch(string(body), -1) {
				checked++
				if _, ok := s.assets[strings.TrimPrefix(m[1], "/")]; !ok {
					t.Errorf("%s refers to %s, which is not embedded", name, m[1])
				}
			}
		case p == "assets/door/sw.js":
			for _, m := range cached.FindAllStringSubmatch(string(body), -1) {
				checked++
				if _, ok := s.assets[strings.TrimPrefix(m[1], "/")]; !ok {
					t.Errorf("%s caches %s, which is not embedded", name, m[1])
				}
			}
		case strings.HasSuffix(p, ".js"):
			for _, m := range imports.FindAllStringSubmatch(string(body), -1) {
				checked++
				if _, ok := s.assets["static/js/"+m[1]]; !ok {
					t.Errorf("%s imports %s, which is not embedded", name, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Errorf("only %d references checked; the patterns no longer match the files", checked)
	}
}

// TestStripeCheckoutPage: in stripe mode the checkout page carries the
// Payment Element's mount point with the publishable key (escaped) and
// loads Stripe.js, and the pages' CSP allows Stripe's origins; in dev mode
// the page keeps the test cards and the CSP names no other origin. (Stripe.js
// itself cannot be loaded here; the browser tests cover dev mode.)
func TestStripeCheckoutPage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		h        http.Handler
		contains []string
		lacks    []string
		cspHas   []string
		cspLacks []string
	}{
		{"dev", Handler(),
			[]string{`id="card-token"`, `value="tok_visa"`}, []string{"payment-element", "js.stripe.com"},
			nil, []string{"stripe"}},
		{"stripe", NewHandler(Options{StripePublishableKey: `pk_test_123"<x>`}),
			[]string{`id="payment-element"`, `data-stripe-key="pk_test_123&#34;&lt;x&gt;"`,
				`<script src="https://js.stripe.com/v3/"></script>`, `src="/static/js/app.js"`},
			[]string{`id="card-token"`, "tok_visa", `pk_test_123"<x>`},
			[]string{"script-src 'self' https://js.stripe.com", "https://api.stripe.com", "frame-src https://js.stripe.com https://hooks.stripe.com https://m.stripe.network"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/", "/admin/"} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Accept", navigation)
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s: %d", path, rec.Code)
				}
				policy := rec.Header().Get("Content-Security-Policy")
				for _, s := range tc.cspHas {
					if !strings.Contains(policy, s) {
						t.Errorf("GET %s: CSP %q lacks %q", path, policy, s)
					}
				}
				for _, s := range tc.cspLacks {
					if strings.Contains(policy, s) {
						t.Errorf("GET %s: CSP %q has %q", path, policy, s)
					}
				}
				if path != "/" {
					continue
				}
				body := rec.Body.String()
				for _, s := range tc.contains {
					if !strings.Contains(body, s) {
						t.Errorf("the page lacks %q", s)
					}
				}
				for _, s := range tc.lacks {
					if strings.Contains(body, s) {
						t.Errorf("the page has %q", s)
					}
				}
			}
		})
	}
}
