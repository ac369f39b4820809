package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/boxoffice/boxoffice"
)

// LogHandler wraps h so that every record logged with a request's context
// names the request (request_id) and its trace (trace_id, when the request
// is traced): one grep finds every line of a request, and a line leads to
// its trace. The node's logger is built on it; New wraps a Config.Logger
// that is not.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*contextHandler); ok {
		return h
	}
	return &contextHandler{inner: h}
}

// contextHandler is LogHandler's handler.
type contextHandler struct{ inner slog.Handler }

// Enabled implements slog.Handler.
func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler: it adds the context's ids to r.
func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := RequestID(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
		}
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &contextHandler{inner: h.inner.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{inner: h.inner.WithGroup(name)}
}

// logLevelBody is the body of GET and PUT /admin/api/log-level.
type logLevelBody struct {
	Level string `json:"level"`
}

// handleGetLogLevel is GET /admin/api/log-level: the node's current level.
func (s *Server) handleGetLogLevel(w http.ResponseWriter, _ *http.Request, _ boxoffice.User) error {
	WriteJSON(w, http.StatusOK, logLevelBody{Level: levelName(s.cfg.LogLevel.Level())})
	return nil
}

// handlePutLogLevel is PUT /admin/api/log-level: it changes this node's
// level at once, until the next change or restart (debug lines while
// chasing a problem, without a restart that would move its event actors).
func (s *Server) handlePutLogLevel(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	var body logLevelBody
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	var l slog.Level
	switch strings.ToLower(body.Level) {
	case "debug", "info", "warn", "error":
		_ = l.UnmarshalText([]byte(body.Level)) // the names above always parse
	default:
		return boxoffice.InvalidField("level", "level must be debug, info, warn or error")
	}
	old := s.cfg.LogLevel.Level()
	s.cfg.LogLevel.Set(l)
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "log level changed",
		slog.String("from", levelName(old)), slog.String("to", levelName(l)), slog.String("by", u.ID.String()))
	WriteJSON(w, http.StatusOK, logLevelBody{Level: levelName(l)})
	return nil
}

// levelName is a level as the route spells it.
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }

// accessLog writes the request's access line: what was asked (method,
// route pattern, not the raw path, whose IDs and queries would make lines
// unaggregatable), what came back, how long it took, and by whom.
func (s *Server) accessLog(r *http.Request, sw *statusWriter, route string, ri *requestInfo, took float64) {
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", sw.code()),
		slog.Int64("bytes", sw.bytes), slog.Float64("duration_ms", took*1000),
		slog.String("user", ri.user), slog.String("client", s.ips.IP(r)))
}
