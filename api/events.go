package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// handleEvent is GET /events/{eventId}: the cached catalog half joined
// with the seat engine's statuses at one version. When the engine cannot
// answer, the last rendered view is served (reads stay up while booking is
// degraded); without one the reply is 503.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	withTickets, err := ticketsParam(r)
	if err != nil {
		return err
	}
	entry, err := s.events.get(ctx, id, true)
	if err != nil {
		return err
	}
	if !withTickets {
		return s.writeEventHead(ctx, w, entry, id)
	}
	gz := acceptsGzip(r)
	if body, zipped := entry.view.fresh(s.cfg.EventViewMaxAge, gz); body != nil {
		writeView(w, body, zipped)
		return nil
	}
	seats, err := s.deps.Engine.Seats(ctx, id)
	if err != nil {
		switch boxoffice.ErrorCode(err) {
		case boxoffice.ENotFound, boxoffice.EInvalid:
			return err
		}
		if body := entry.view.lastBody(); body != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "seat engine unavailable; serving the last event view",
				slog.String("event", id.String()), slog.Any("err", err))
			writeBody(w, http.StatusOK, body)
			return nil
		}
		return fmt.Errorf("seats of event %s: %w: %w", id, boxoffice.Errorf(boxoffice.EUnavailable,
			"the seat engine cannot be reached; retry"), err)
	}
	_, rendered, err := entry.view.render(seats)
	if err != nil {
		return err
	}
	if rendered {
		s.metrics.viewRenders.Inc()
	}
	entry.view.mu.Lock()
	body, zipped := entry.view.encoded(gz)
	entry.view.mu.Unlock()
	writeView(w, body, zipped)
	return nil
}

// acceptsGzip reports whether the client takes a gzip body; a 50,000-seat
// event is 7 MB of JSON and about a tenth of that gzipped.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

func writeView(w http.ResponseWriter, body []byte, gzipped bool) {
	w.Header().Set("Vary", "Accept-Encoding")
	if gzipped {
		w.Header().Set("Content-Encoding", "gzip")
	}
	writeBody(w, http.StatusOK, body)
}

// ticketsParam reads GET /events/{eventId}'s ?tickets= (true by default);
// false leaves the tickets out, for pages that draw the seat map from the
// layout and the availability instead of from 7 MB of JSON.
func ticketsParam(r *http.Request) (bool, error) {
	v, ok := r.URL.Query()["tickets"]
	if !ok {
		return true, nil
	}
	if len(v) == 1 && (v[0] == "true" || v[0] == "false") {
		return v[0] == "true", nil
	}
	return false, boxoffice.InvalidField("tickets", "tickets is true or false")
}

// writeEventHead answers GET /events/{eventId}?tickets=false: the event,
// venue and performer at the engine's version, with no tickets.
func (s *Server) writeEventHead(ctx context.Context, w http.ResponseWriter, entry *catalogEntry, id uuid.UUID) error {
	seats, err := s.deps.Engine.Seats(ctx, id)
	if err != nil {
		switch boxoffice.ErrorCode(err) {
		case boxoffice.ENotFound, boxoffice.EInvalid:
			return err
		}
		return fmt.Errorf("seats of event %s: %w: %w", id, boxoffice.Errorf(boxoffice.EUnavailable,
			"the seat engine cannot be reached; retry"), err)
	}
	writeView(w, entry.view.renderHead(seats), false)
	return nil
}
