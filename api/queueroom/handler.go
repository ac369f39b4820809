package queueroom

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/clientip"
)

// AdmissionHeader carries the admission token on POST /booking/reserve.
const AdmissionHeader = "X-Admission-Token"

// Handler serves the waiting-room routes and checks admission tokens for
// the booking API. It implements the api package's Queue interface.
type Handler struct {
	cfg      Config
	deps     Deps
	userLim  *api.Limiter
	ipLim    *api.Limiter
	ips      clientip.Resolver
	upgrader websocket.Upgrader

	mu     sync.Mutex // guards closed
	closed bool
	// draining: Drain closed the handler; sockets end with 1012.
	draining bool
	done     chan struct{}  // closed by Close: WebSocket handlers end
	wg       sync.WaitGroup // WebSocket handlers
}

// New checks the configuration and dependencies.
func New(cfg Config, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Room == nil {
		return nil, errors.New("queueroom: Deps.Room is required")
	}
	h := &Handler{
		cfg: cfg, deps: deps,
		userLim: api.NewLimiter(api.RateConfig{PerSecond: cfg.JoinsPerUser, Burst: cfg.UserBurst}, cfg.MaxLimiterKeys),
		ipLim:   api.NewLimiter(api.RateConfig{PerSecond: cfg.JoinsPerIP, Burst: cfg.IPBurst}, cfg.MaxLimiterKeys),
		done:    make(chan struct{}),
		ips:     clientip.New(cfg.TrustedProxies),
	}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize: 512, WriteBufferSize: 1024,
		// The socket only reports a place to whoever knows its unguessable
		// queue ID, and carries no credentials, so any page may open it.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h, nil
}

// Routes registers the waiting room on mux (API.md, "Waiting room"); auth
// wraps the join so that it requires a valid login.
func (h *Handler) Routes(mux *http.ServeMux, auth func(http.Handler) http.Handler) {
	mux.Handle("POST /events/{eventId}/queue", auth(h.handle(h.join)))
	mux.Handle("GET /events/{eventId}/queue/{queueId}", h.handle(h.status))
	mux.Handle("GET /events/{eventId}/queue/{queueId}/ws", h.handle(h.websocket))
}

// CheckAdmission is what POST /booking/reserve asks before holding seats of
// event for user: nothing while the event's waiting room is off (a token
// sent then is ignored); otherwise a valid, unexpired X-Admission-Token
// issued to this user for this event in the room's current on-period
// (event.WaitingRoom.Period). Without one, or with one that is forged,
// expired, someone else's, another event's or from before the room was
// last switched on, it returns queue_required (*boxoffice.Error).
func (h *Handler) CheckAdmission(r *http.Request, user uuid.UUID, event boxoffice.Event) error {
	if !event.WaitingRoom.Enabled {
		return nil
	}
	tok := r.Header.Get(AdmissionHeader)
	if tok == "" {
		return boxoffice.Errorf(boxoffice.EQueueRequired,
			"this event's waiting room is on: join it with POST /events/%s/queue and send the admission token in %s",
			event.ID, AdmissionHeader)
	}
	return h.deps.Room.VerifyAdmission(tok, event.ID, user, event.WaitingRoom.Period, h.cfg.Now())
}

// Drain is Close for a node that drains: the waiting-room sockets end with
// close code 1012 (service restart) and reason "draining", so the page
// reconnects at once through the load balancer to another node, where the
// place is the same (it lives in the room's grain and in PostgreSQL).
func (h *Handler) Drain() error {
	h.mu.Lock()
	h.draining = true
	h.mu.Unlock()
	return h.Close()
}

// closing is the close frame a socket ends with when the handler closes.
func (h *Handler) closing() (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return websocket.CloseServiceRestart, "draining"
	}
	return websocket.CloseGoingAway, "the node is shutting down; reconnect"
}

// Close disconnects every queue WebSocket and waits for their handlers. It
// is idempotent; call it after http.Server.Shutdown, which does not wait
// for hijacked connections.
func (h *Handler) Close() error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.wg.Wait()
	return nil
}

// handle turns a handler that returns its error into an http.Handler.
func (h *Handler) handle(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			if c := boxoffice.ErrorCode(err); c == boxoffice.EInternal || c == boxoffice.EUnavailable {
				h.cfg.Logger.Warn("queue route failed", "path", r.URL.Path, "err", err)
			}
			api.WriteError(w, err)
		}
	})
}

func (h *Handler) join(w http.ResponseWriter, r *http.Request) error {
	eventID, err := pathID(r, "eventId", "event_id")
	if err != nil {
		return err
	}
	u, ok := api.UserFromContext(r.Context())
	if !ok {
		return boxoffice.Errorf(boxoffice.EUnauthenticated, "joining a waiting room needs a login")
	}
	now := h.cfg.Now()
	if wait, ok := h.ipLim.Take(h.ips.IP(r), now); !ok {
		return rateLimited(w, wait)
	}
	if wait, ok := h.userLim.Take(u.ID.String(), now); !ok {
		return rateLimited(w, wait)
	}
	if h.deps.Challenge != nil {
		if err := h.deps.Challenge(r, u.ID, eventID); err != nil {
			return err
		}
	}
	s, err := h.deps.Room.Join(r.Context(), eventID, u.ID)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, toJSON(s))
	return nil
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	eventID, queueID, err := placeIDs(r)
	if err != nil {
		return err
	}
	s, err := h.deps.Room.Status(r.Context(), eventID, queueID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, toJSON(s))
	return nil
}

func placeIDs(r *http.Request) (eventID, queueID uuid.UUID, err error) {
	if eventID, err = pathID(r, "eventId", "event_id"); err != nil {
		return
	}
	queueID, err = pathID(r, "queueId", "queue_id")
	return
}

func pathID(r *http.Request, name, field string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, boxoffice.InvalidField(field, "%s must be a UUID", field)
	}
	return id, nil
}

// statusJSON is API.md's waiting-room shape, plus when the admission ends
// and the estimated wait.
type statusJSON struct {
	QueueID              string     `json:"queue_id"`
	Position             int64      `json:"position"`
	State                string     `json:"state"`
	AdmissionToken       string     `json:"admission_token,omitempty"`
	ExpiresAt            *time.Time `json:"expires_at,omitempty"`
	EstimatedWaitSeconds *int64     `json:"estimated_wait_seconds,omitempty"`
}

func toJSON(s boxoffice.QueueStatus) statusJSON {
	j := statusJSON{QueueID: s.QueueID.String(), Position: s.Position, State: string(s.State),
		AdmissionToken: s.AdmissionToken}
	if !s.ExpiresAt.IsZero() {
		t := s.ExpiresAt.UTC().Truncate(time.Second)
		j.ExpiresAt = &t
	}
	if s.EstimatedWait > 0 {
		sec := int64(math.Ceil(s.EstimatedWait.Seconds()))
		j.EstimatedWaitSeconds = &sec
	}
	return j
}

// rateLimited is the 429 of a join over a limit; the Retry-After header
// is set from wait before the error is written.
func rateLimited(w http.ResponseWriter, wait time.Duration) error {
	s := max(int64(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
	return boxoffice.Errorf(boxoffice.ERateLimited, "too many joins; retry in %d s", s)
}
