package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// sseRetry tells EventSource how soon to reconnect (milliseconds): a
// reconnect with Last-Event-ID costs the node little.
const sseRetry = "1000"

// startSSE hijacks the connection and writes the head of an event stream,
// the headers already set on the reply (by the middleware) plus the
// stream's own. The body ends when the connection closes, so it needs no
// chunked encoding, and the hub handles the connection as it handles a
// WebSocket: frames batched per write, a kick closes it at once.
func startSSE(bw *batchHijacker) error {
	h := bw.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("Connection", "close")
	if _, _, err := bw.Hijack(); err != nil {
		WriteError(bw.ResponseWriter, fmt.Errorf("event stream: %w", err))
		return err
	}
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&head)
	head.WriteString("\r\nretry: " + sseRetry + "\n\n")
	if _, err := bw.conn.Write(head.Bytes()); err != nil {
		_ = bw.conn.Conn.Close()
		return err
	}
	if err := bw.conn.Flush(); err != nil {
		_ = bw.conn.Conn.Close()
		return err
	}
	return nil
}

// seatStreamFormat reads the seat-map WebSocket's ?format=: json (the
// default) or compact; anything else is 400.
func seatStreamFormat(r *http.Request) (streamFormat, error) {
	v, ok := r.URL.Query()["format"]
	if !ok {
		return formatJSON, nil
	}
	if len(v) == 1 {
		switch v[0] {
		case "json":
			return formatJSON, nil
		case "compact":
			return formatCompact, nil
		}
	}
	return 0, boxoffice.InvalidField("format", "format is json or compact, got %q", strings.Join(v, ","))
}

// handleSeatsSSE is GET /events/{eventId}/seats/sse: the compact frames as
// Server-Sent Events, each with id: its version. Last-Event-ID resumes from
// the frames the node still keeps; an unreadable one is ignored (a fresh
// snapshot), since EventSource sends back whatever id it was given.
func (s *Server) handleSeatsSSE(w http.ResponseWriter, r *http.Request) error {
	id, err := s.seatStreamEvent(r)
	if err != nil {
		return err
	}
	last, err := strconv.ParseUint(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	s.hub.serve(w, r, id, formatSSE, last, err == nil)
	return nil
}

// seatStreamEvent checks a seat-map stream's event before the connection
// is taken over: unknown events are 404, and a node without a seat feed
// is 503.
func (s *Server) seatStreamEvent(r *http.Request) (id uuid.UUID, err error) {
	id, err = pathID(r, "eventId")
	if err != nil {
		return id, err
	}
	if s.deps.Seats == nil {
		return id, boxoffice.Errorf(boxoffice.EUnavailable, "live seat maps are not available on this node")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	_, err = s.events.event(ctx, id)
	return id, err
}
