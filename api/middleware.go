package api

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice"
)

// handlerFunc is a handler that reports failure by returning an error; h
// turns it into API.md's error reply, so no handler writes errors itself.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) h(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// serve is the outermost handler: metrics, panic recovery, the per-IP
// limit, and JSON replies where ServeMux would answer 404 or 405 in plain
// text.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r, ri := withRequestInfo(w, r)
	sw := &statusWriter{ResponseWriter: w}
	h, pattern := s.mux.Handler(r)
	route := pattern
	if pattern == "" || s.stubs[pattern] {
		route = routeUnmatched
	}
	nameSpan(r, route)
	defer s.finish(sw, r, route, ri, start)
	ip := s.ips.IP(r)
	if err := s.ipLimit.allow(ip, s.rateNow()); err != nil {
		s.writeError(sw, r, err)
		return
	}
	if pattern == "" {
		s.unmatched(sw, r, h)
		return
	}
	if isWebSocketRoute(pattern) {
		release, err := s.longLived(w, ip)
		if err != nil {
			s.writeError(sw, r, err)
			return
		}
		defer release()
	}
	s.mux.ServeHTTP(sw, r)
}

// finish recovers a panic as a 500 (no input may cause one, but a bug must
// not take the node down or leave a plain-text reply) and records metrics.
func (s *Server) finish(sw *statusWriter, r *http.Request, route string, ri *requestInfo, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
			panic(p)
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("client", s.ips.IP(r)),
			slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		if !sw.wrote && !sw.hijacked {
			WriteError(sw, fmt.Errorf("panic: %v", p))
		}
	}
	took := time.Since(start).Seconds()
	code := strconv.Itoa(sw.code())
	s.metrics.requests.WithLabelValues(route, code).Inc()
	if !sw.hijacked {
		observeWithTrace(r.Context(), s.metrics.latency.WithLabelValues(route, code), took)
	}
	s.accessLog(r, sw, route, ri, took)
}

// unmatched answers a request no pattern matched. ServeMux's own handler
// for it says 404 or 405 (with Allow) in plain text; run it against a
// recorder to learn which, then answer in JSON. Anything else it would do
// (a redirect to the cleaned path) is passed through.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		WriteError(w, boxoffice.Errorf(boxoffice.ENotFound, "no route for %s %s", r.Method, truncate(r.URL.Path, 200)))
	case http.StatusMethodNotAllowed:
		s.methodNotAllowed(w, r)
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// probeMethods are the methods the API uses, in the order Allow lists them.
var probeMethods = []string{"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"}

// methodNotAllowed answers 405 with an Allow header computed by asking the
// mux which methods reach a real route for this path; the 405 stubs do
// not count (see routes).
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && !s.stubs[pattern] {
			allow = append(allow, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, boxoffice.Errorf(boxoffice.EMethodNotAllow, "%s is not allowed here; see the Allow header", truncate(r.Method, 20)))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// headerRecorder captures the status and headers of ServeMux's built-in
// 404/405 handlers and discards their bodies.
type headerRecorder struct {
	header http.Header
	status int
}

// Header implements http.ResponseWriter.
func (h *headerRecorder) Header() http.Header { return h.header }

// WriteHeader keeps the first status.
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

// Write discards the body.
func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}

// statusWriter remembers the status and body size for metrics and the
// access log, and whether anything was written, and lets the WebSocket
// upgrade hijack the connection.
type statusWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	wrote    bool
	hijacked bool
}

// WriteHeader records the status and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes the body on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) code() int {
	switch {
	case w.hijacked:
		return http.StatusSwitchingProtocols
	case w.status == 0:
		return http.StatusOK
	}
	return w.status
}

// Flush supports streaming handlers (the Web plug, the metrics handler).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to the WebSocket upgrader.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("api: connection cannot be hijacked")
	}
	c, rw, err := hj.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
