package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

//go:embed assets
var embedded embed.FS

// contentTypes are the types of the files in assets/, fixed here rather than
// read from the system's MIME table, which differs between machines (a
// module script served as text/plain does not run).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// csp lets the pages load only their own scripts and styles and talk only
// to their own origin (fetch and WebSocket); nothing inline runs.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// stripeCSP is csp for a node whose checkout uses Stripe's Payment Element
// (BOXOFFICE_PAYMENTS=stripe): Stripe.js comes from js.stripe.com, talks
// to api.stripe.com and draws its fields and 3-D Secure in frames of
// js.stripe.com, hooks.stripe.com and m.stripe.network (Stripe's
// "Content Security Policy" list for Stripe.js). Only that mode allows
// them.
const stripeCSP = "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; " +
	"img-src 'self' data: https://*.stripe.com; connect-src 'self' ws: wss: https://api.stripe.com; " +
	"frame-src https://js.stripe.com https://hooks.stripe.com https://m.stripe.network; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Options shape the pages for the node's configuration.
type Options struct {
	// StripePublishableKey, when set (BOXOFFICE_PAYMENTS=stripe with
	// BOXOFFICE_STRIPE_PUBLISHABLE_KEY), replaces the checkout's test cards
	// with Stripe's Payment Element, which needs the key and Stripe.js;
	// empty keeps the development provider's test cards.
	StripePublishableKey string
}

// Markers in index.html around the development provider's test cards,
// which stripe mode replaces with the Payment Element's mount point.
const (
	testCardsStart = "<!-- test-cards -->"
	testCardsEnd   = "<!-- /test-cards -->"
	appScript      = `<script type="module" src="/static/js/app.js"></script>`
)

// asset is one embedded file, read once, with a strong ETag so that a
// browser revalidates cheaply (304) instead of downloading it again.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// site serves the embedded files.
type site struct {
	assets map[string]asset // by path under assets/, e.g. "static/js/app.js"
	mux    *http.ServeMux
	csp    string // the pages' Content-Security-Policy
}

// Handler serves the pages: GET / (search and, with ?event=<id>, the seat
// map of one event), GET /admin/ (the cluster admin dashboard), GET /door/
// (the door staff's check-in page, with its service worker at
// /door/sw.js), GET /static/... (scripts and styles) and, for requests
// that prefer HTML, GET
// /events/{eventId} (the same seat-map page; see Front). Anything else under it is 404
// with API.md's JSON error body, like the rest of the node.
func Handler() http.Handler { return NewHandler(Options{}) }

// NewHandler is Handler for a node configured by o.
func NewHandler(o Options) http.Handler {
	s, err := newSite(embedded)
	if err == nil && o.StripePublishableKey != "" {
		err = s.useStripe(o.StripePublishableKey)
	}
	if err != nil {
		// The files are compiled in; failing to read them is a build bug.
		panic(fmt.Sprintf("web: %v", err))
	}
	return s
}

// useStripe makes the checkout pay with Stripe's Payment Element: the
// index page loads Stripe.js and carries the publishable key on the
// element's mount point (no inline script: the CSP forbids them), and the
// pages' CSP allows Stripe's origins. checkout.js mounts the element when
// it finds the mount point. Stripe.js cannot be loaded in this
// repository's tests, so that path is kept thin.
func (s *site) useStripe(key string) error {
	a := s.assets["index.html"]
	page := string(a.body)
	start, end := strings.Index(page, testCardsStart), strings.Index(page, testCardsEnd)
	if start < 0 || end < start || !strings.Contains(page, appScript) {
		return fmt.Errorf("index.html: no %s ... %s block or app script to replace", testCardsStart, testCardsEnd)
	}
	mount := `<div id="payment-element" class="payment-element" data-stripe-key="` + html.EscapeString(key) + `"></div>`
	page = page[:start] + mount + page[end+len(testCardsEnd):]
	page = strings.Replace(page, appScript, `<script src="https://js.stripe.com/v3/"></script>`+"\n"+appScript, 1)
	sum := sha256.Sum256([]byte(page))
	s.assets["index.html"] = asset{body: []byte(page), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: a.contentType}
	s.csp = stripeCSP
	return nil
}

func newSite(fsys fs.FS) (*site, error) {
	s := &site{assets: map[string]asset{}, mux: http.NewServeMux(), csp: csp}
	err := fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("%s: no content type for %q files", p, path.Ext(p))
		}
		s.assets[strings.TrimPrefix(p, "assets/")] = asset{
			body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mux.HandleFunc("GET /{$}", s.page("index.html"))
	s.mux.HandleFunc("GET /admin/{$}", s.page("admin.html"))
	s.mux.HandleFunc("GET /door/{$}", s.page("door.html"))
	s.mux.HandleFunc("GET /door/sw.js", s.page("door/sw.js"))
	s.mux.HandleFunc("GET /events/{eventId}", s.eventPage)
	s.mux.HandleFunc("GET /static/{file...}", s.static)
	return s, nil
}

// ServeHTTP routes to the pages; unknown paths and methods are API.md's
// JSON 404 (the API's own router answers 405 before it reaches here).
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		notFound(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Front puts the seat-map page in front of the JSON API at GET
// /events/{eventId}: that one path is both API.md's event view and the
// address a person shares for an event. A request that prefers HTML (a
// browser's page navigation, see PrefersHTML) gets pages; every other
// request, including the pages' own fetch of the JSON, which asks for
// application/json, goes to api unchanged, so the API's contract holds.
// The API router cannot do this itself without importing this package.
func Front(api, pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && isEventPath(r.URL.Path) {
			if PrefersHTML(r) {
				pages.ServeHTTP(w, r)
				return
			}
			// The JSON varies by Accept too: without saying so, a browser
			// may show its cached JSON for the page on back or forward.
			w = &varyAccept{ResponseWriter: w}
		}
		api.ServeHTTP(w, r)
	})
}

// varyAccept adds "Vary: Accept" to a reply as its header is written,
// after the handler has set its own Vary.
type varyAccept struct {
	http.ResponseWriter
	wrote bool
}

func (v *varyAccept) WriteHeader(code int) {
	if !v.wrote {
		v.wrote = true
		v.Header().Add("Vary", "Accept")
	}
	v.ResponseWriter.WriteHeader(code)
}

func (v *varyAccept) Write(b []byte) (int, error) {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
	return v.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (v *varyAccept) Unwrap() http.ResponseWriter { return v.ResponseWriter }

// isEventPath reports whether p is /events/<one segment>.
func isEventPath(p string) bool {
	id, ok := strings.CutPrefix(p, "/events/")
	return ok && id != "" && !strings.Contains(id, "/")
}

// page serves one HTML page.
func (s *site) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, name) }
}

// eventPage serves the seat-map page at /events/{eventId} to a browser and
// is 404 for everything else, which should have reached the JSON API.
func (s *site) eventPage(w http.ResponseWriter, r *http.Request) {
	if !PrefersHTML(r) {
		notFound(w, r)
		return
	}
	s.serve(w, r, "index.html")
}

// static serves /static/<file> from assets/static.
func (s *site) static(w http.ResponseWriter, r *http.Request) {
	name := "static/" + r.PathValue("file")
	if _, ok := s.assets[name]; !ok || strings.HasSuffix(name, ".html") {
		notFound(w, r)
		return
	}
	s.serve(w, r, name)
}

// serve writes one asset, or 304 when the browser's copy is current. Every
// reply is revalidated (no-cache): the files change with each build of the
// binary and are small, and a stale script against a newer API is worse
// than one round trip.
func (s *site) serve(w http.ResponseWriter, r *http.Request, name string) {
	a := s.assets[name]
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if strings.HasSuffix(name, ".html") {
		h.Set("Content-Security-Policy", s.csp)
		h.Set("Vary", "Accept")
	}
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

func notFound(w http.ResponseWriter, r *http.Request) {
	api.WriteError(w, boxoffice.Errorf(boxoffice.ENotFound, "no page at %s", truncate(r.URL.Path, 200)))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
