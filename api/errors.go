package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/boxoffice/boxoffice"
)

// statusOf is the one table from API error codes to HTTP statuses
// (API.md, Conventions). A code missing here is a bug and answers 500.
var statusOf = map[string]int{
	boxoffice.EInvalid:         http.StatusBadRequest,
	boxoffice.EUnauthenticated: http.StatusUnauthorized,
	boxoffice.EForbidden:       http.StatusForbidden,
	boxoffice.EQueueRequired:   http.StatusForbidden,
	boxoffice.ENotFound:        http.StatusNotFound,
	boxoffice.ESeatUnavailable: http.StatusConflict,
	boxoffice.EHoldExpired:     http.StatusConflict,
	boxoffice.EBookingState:    http.StatusConflict,
	boxoffice.EPaymentFailed:   http.StatusPaymentRequired,
	boxoffice.ETooLarge:        http.StatusRequestEntityTooLarge,
	boxoffice.ERateLimited:     http.StatusTooManyRequests,
	boxoffice.EUnavailable:     http.StatusServiceUnavailable,
	boxoffice.EMethodNotAllow:  http.StatusMethodNotAllowed,
	boxoffice.EInternal:        http.StatusInternalServerError,
	boxoffice.ELimitReached:    http.StatusConflict,
	boxoffice.ENotOnSale:       http.StatusConflict,
	// A key reused for another request (API.md, Additions version 2).
	boxoffice.EIdempotencyConflict: http.StatusConflict,
	// A forged, altered or truncated ticket code (API.md "Tickets and check-in").
	boxoffice.EInvalidTicket: http.StatusBadRequest,
	// A ticket scanned before, or one whose sale was undone (check-in).
	boxoffice.EAlreadyAdmitted: http.StatusConflict,
	boxoffice.ETicketRevoked:   http.StatusConflict,
}

// StatusOf returns the HTTP status of an API error code, 500 for a code the
// table does not know.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is API.md's error reply.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
	// RequestID is the reply's X-Request-Id (API.md "Request ids"), so a
	// user's screenshot of an error leads to the node's log lines.
	RequestID string `json:"request_id,omitempty"`
}

// WriteJSON writes v as the JSON body of a reply with the given status. It
// exists so that plugs (the waiting room) answer exactly like the API.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own wire types reach here; a failure is a bug.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeBody(w, status, b)
}

// writeBody writes an already-encoded JSON body.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteError answers with err's status and API.md's error body. Anything
// that is not an *boxoffice.Error is shown as "internal error"; details are
// kept only where API.md promises them (details.field on 400,
// details.ticket_ids on seat_unavailable). WriteError does not log: the
// server logs internal causes before calling it.
func WriteError(w http.ResponseWriter, err error) {
	body := publicError(err)
	// The server set the header before any handler ran (withRequestInfo):
	// reading it back here puts the id in every error body, plugs' too.
	body.Error.RequestID = w.Header().Get(RequestIDHeader)
	if body.Error.Code == boxoffice.ERateLimited {
		// A plug's limit may have set the header already (the waiting
		// room's join limits do); "1" only where nobody said.
		var rl *rateLimitedError
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", rl.retryAfter())
		} else if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1") // API.md promises the header
		}
	}
	WriteJSON(w, StatusOf(body.Error.Code), body)
}

// publicError is what a caller may see of err.
func publicError(err error) errorBody {
	code := boxoffice.ErrorCode(err)
	if _, ok := statusOf[code]; !ok {
		code = boxoffice.EInternal
	}
	e := errorJSON{Code: code, Message: boxoffice.ErrorMessage(err)}
	if code == boxoffice.EInternal {
		e.Message = "internal error"
	}
	var be *boxoffice.Error
	errors.As(err, &be)
	switch code {
	case boxoffice.EInvalid:
		field, _ := detail(be, "field").(string)
		if field == "" {
			field = "body"
		}
		e.Details = map[string]any{"field": field}
	case boxoffice.ESeatUnavailable:
		ids := detail(be, "ticket_ids")
		if ids == nil {
			ids = []string{}
		}
		e.Details = map[string]any{"ticket_ids": ids}
		if sec := detail(be, "section"); sec != nil { // a standing section short of places
			e.Details["section"], e.Details["left"] = sec, detail(be, "left")
		}
		if q := detail(be, "quantity"); q != nil { // best available found no seats (h19access)
			e.Details["quantity"] = q
		}
	case boxoffice.ELimitReached:
		e.Details = map[string]any{"limit": detail(be, "limit"), "current": detail(be, "current")}
	case boxoffice.EAlreadyAdmitted:
		e.Details = map[string]any{"admitted_at": detail(be, "admitted_at"), "gate": detail(be, "gate")}
		if sc := detail(be, "scanned_at"); sc != nil {
			e.Details["scanned_at"] = sc
		}
	}
	return errorBody{Error: e}
}

func detail(e *boxoffice.Error, key string) any {
	if e == nil || e.Details == nil {
		return nil
	}
	return e.Details[key]
}

// writeError logs what the caller cannot see (the cause of an internal or
// unavailable error), once, and answers with WriteError.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch boxoffice.ErrorCode(err) {
	case boxoffice.EInternal:
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("client", s.ips.IP(r)), slog.Any("err", err))
	case boxoffice.EUnavailable:
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "unavailable",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("client", s.ips.IP(r)), slog.Any("err", err))
	}
	WriteError(w, err)
}
