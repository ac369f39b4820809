package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// availability is one event's GET /events/{eventId}/availability body,
// prepared once per seat version (packed, base64, and gzipped once) for
// every reader on the node; like the JSON view, a body younger than
// Config.EventViewMaxAge is served without asking the seat engine.
type availability struct {
	mu      sync.Mutex // guards the fields below
	version uint64
	body    []byte
	gz      []byte // body gzipped, made on the first request that accepts it
	at      time.Time
}

// cached returns the body prepared within maxAge (zero: none).
func (a *availability) cached(maxAge time.Duration, wantGzip bool) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.body == nil || time.Since(a.at) > maxAge {
		return nil, false
	}
	return a.encodedLocked(wantGzip)
}

// last returns the newest body prepared, however old (engine outages).
func (a *availability) last(wantGzip bool) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.body == nil {
		return nil, false
	}
	return a.encodedLocked(wantGzip)
}

// update prepares the body for seats unless it is prepared already, and
// returns it.
func (a *availability) update(seats boxoffice.SeatsView, layoutURL string, areas []boxoffice.StandingArea, wantGzip bool) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.body == nil || a.version != seats.Version {
		a.version, a.body, a.gz = seats.Version, availabilityBody(seats, layoutURL, areas), nil
	}
	a.at = time.Now()
	return a.encodedLocked(wantGzip)
}

func (a *availability) encodedLocked(wantGzip bool) ([]byte, bool) {
	if !wantGzip {
		return a.body, false
	}
	if a.gz == nil {
		var buf bytes.Buffer
		// The default level, not the fastest: the body is compressed once
		// per version and read many times, and at 95 % sold it is 2.8 KB
		// instead of 3.6 KB (about 1.5-5 ms once, docs/benchmarks.md).
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		if _, err := zw.Write(a.body); err != nil || zw.Close() != nil {
			return a.body, false
		}
		a.gz = buf.Bytes()
	}
	return a.gz, true
}

// fullEvent is the event's cached catalog entry with its view.
func (s *Server) fullEvent(r *http.Request, id uuid.UUID) (*catalogEntry, error) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	return s.events.get(ctx, id, true)
}

// handleAvailability is GET /events/{eventId}/availability: every seat's
// status at one version, packed in SeatEncoding in layout order, with the
// layout's versioned URL. When the seat engine cannot answer, the last
// body prepared is served (reads stay up while booking is degraded).
func (s *Server) handleAvailability(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	entry, err := s.fullEvent(r, id)
	if err != nil {
		return err
	}
	gz := acceptsGzip(r)
	avail := &entry.view.avail
	if body, zipped := avail.cached(s.cfg.EventViewMaxAge, gz); body != nil {
		writeAvailability(w, body, zipped)
		return nil
	}
	l, err := entry.view.layout.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	seats, err := s.deps.Engine.Seats(ctx, id)
	if err != nil {
		switch boxoffice.ErrorCode(err) {
		case boxoffice.ENotFound, boxoffice.EInvalid:
			return err
		}
		if body, zipped := avail.last(gz); body != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "seat engine unavailable; serving the last availability",
				slog.String("event", id.String()), slog.Any("err", err))
			writeAvailability(w, body, zipped)
			return nil
		}
		return fmt.Errorf("seats of event %s: %w: %w", id, boxoffice.Errorf(boxoffice.EUnavailable,
			"the seat engine cannot be reached; retry"), err)
	}
	if len(seats.Statuses) != len(entry.view.ends) {
		return fmt.Errorf("event %s: seat engine has %d seats, catalog %d tickets",
			id, len(seats.Statuses), len(entry.view.ends))
	}
	body, zipped := avail.update(seats, l.url(id), entry.view.standing, gz)
	writeAvailability(w, body, zipped)
	return nil
}

func writeAvailability(w http.ResponseWriter, body []byte, gzipped bool) {
	w.Header().Set("Cache-Control", "no-cache")
	writeView(w, body, gzipped)
}
