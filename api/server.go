package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/clientip"
)

// sweepInterval is how often idle rate-limit buckets are dropped.
const sweepInterval = time.Minute

// Server is one node's HTTP API. It is safe for concurrent use; Close
// stops its background work.
type Server struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	mux       *http.ServeMux
	handler   http.Handler
	registry  *prometheus.Registry
	metrics   *metrics
	auth      *authenticator
	ipLimit   *Limiter
	userLimit *Limiter
	ips       clientip.Resolver
	wsSlots   *socketSlots
	events    *eventCache
	hub       *hub
	started   time.Time
	// rateClock is the rate limits' clock (nil: time.Now); tests move it
	// so that a bucket refills only when they say (SetRateClock).
	rateClock atomic.Pointer[func() time.Time]
	// stubs are patterns registered only to answer 405 where a wildcard
	// route would otherwise catch the path (GET /booking/reserve is not
	// GET /booking/{bookingId} with the ID "reserve").
	stubs map[string]bool

	cancel    context.CancelFunc
	wg        sync.WaitGroup // the sweeper
	closeOnce sync.Once
}

// New validates cfg and deps, starts the background work (rate-limit
// sweeper, JWKS refresh) and registers the routes. Call Close when done.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.LogLevel == nil {
		cfg.LogLevel = new(slog.LevelVar)
	}
	cfg.Logger = slog.New(LogHandler(cfg.Logger.Handler()))
	if deps.Engine == nil || deps.Catalog == nil {
		return nil, errors.New("api: Deps.Engine and Deps.Catalog are required")
	}
	reg := deps.Metrics
	if reg == nil {
		reg = newRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	auth, err := newAuthenticator(ctx, cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &Server{
		cfg: cfg, deps: deps, log: cfg.Logger, mux: http.NewServeMux(),
		registry: reg, metrics: m, auth: auth,
		ipLimit:   NewLimiter(cfg.RateIP, cfg.RateMaxKeys),
		userLimit: NewLimiter(cfg.RateUser, cfg.RateMaxKeys),
		ips:       clientip.New(cfg.TrustedProxies),
		wsSlots:   newSocketSlots(cfg.WSMaxPerIP, cfg.WSMax),
		events:    newEventCache(deps.Catalog, cfg.CatalogTTL, cfg.EventCacheSize, cfg.RequestTimeout),
		started:   time.Now(),
		cancel:    cancel,
	}
	s.hub = newHub(ctx, cfg, deps.Engine, deps.Seats, m, cfg.Logger)
	if tp := cfg.TracerProvider; tp != nil {
		s.hub.tracer = tp.Tracer(tracerName)
	}
	s.routes()
	s.handler = s.traced(http.HandlerFunc(s.serve))
	s.wg.Add(1)
	go s.sweep(ctx)
	return s, nil
}

// routes registers API.md's routes; ServeMux patterns carry the method, so
// a known path with another method is 405 with an Allow header.
func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /search", s.h(s.handleSearch))
	m.Handle("GET /events/{eventId}", s.h(s.handleEvent))
	m.Handle("GET /events/{eventId}/seats/ws", s.h(s.handleSeatsWS))
	m.Handle("GET /events/{eventId}/layout", s.h(s.handleLayout))
	m.Handle("GET /events/{eventId}/availability", s.h(s.handleAvailability))
	m.Handle("GET /events/{eventId}/seats/sse", s.h(s.handleSeatsSSE))

	m.Handle("POST /booking/reserve", s.h(s.booking(s.handleReserve)))
	m.Handle("POST /booking/confirm", s.h(s.booking(s.handleConfirm)))
	m.Handle("PUT /booking/confirm", s.h(s.booking(s.handleConfirm)))
	m.Handle("GET /booking/{bookingId}", s.h(s.booking(s.handleBooking)))
	m.Handle("DELETE /booking/{bookingId}", s.h(s.booking(s.handleRelease)))
	m.Handle("GET /user/bookings", s.h(s.booking(s.handleUserBookings)))
	m.Handle("GET /booking/{bookingId}/tickets", s.h(s.booking(s.handleTickets)))
	m.Handle("POST /booking/{bookingId}/refund", s.h(s.booking(s.handleRefund)))
	m.Handle("GET /booking/{bookingId}/tickets.pdf", s.h(s.booking(s.handleTicketsPDF)))
	m.Handle("GET /booking/{bookingId}/tickets/{ticketId}/qr.png", s.h(s.booking(s.handleTicketQR)))
	m.Handle("GET /tickets/keys", s.h(s.handleTicketKeys))
	m.Handle("POST /checkin", s.h(s.authed(s.handleCheckIn)))
	s.stubs = map[string]bool{}
	for _, p := range []string{"GET /booking/reserve", "DELETE /booking/reserve", "GET /booking/confirm", "DELETE /booking/confirm"} {
		m.HandleFunc(p, s.methodNotAllowed)
		s.stubs[p] = true
	}

	m.Handle("GET /admin/api/cluster", s.h(s.admin(s.handleCluster)))
	m.Handle("POST /admin/api/nodes/{nodeId}/drain", s.h(s.admin(s.handleDrainNode)))
	m.Handle("GET /admin/api/metrics", s.h(s.admin(s.handleAdminMetrics)))
	m.Handle("GET /admin/api/events/{eventId}", s.h(s.eventScoped(s.handleEventStats)))
	m.Handle("PATCH /admin/api/events/{eventId}", s.h(s.eventScoped(s.handlePatchEvent)))
	m.Handle("POST /admin/api/events/{eventId}/cancel", s.h(s.eventScoped(s.handleCancelEvent)))
	m.Handle("POST /admin/api/events", s.h(s.manage(s.handleCreateEvent)))
	m.Handle("POST /admin/api/venues", s.h(s.manage(s.handleCreateVenue)))
	m.Handle("POST /admin/api/performers", s.h(s.manage(s.handleCreatePerformer)))
	m.Handle("GET /admin/api/log-level", s.h(s.admin(s.handleGetLogLevel)))
	m.Handle("PUT /admin/api/log-level", s.h(s.admin(s.handlePutLogLevel)))
	m.Handle("POST /admin/api/webhooks", s.h(s.manage(s.handleCreateWebhook)))
	m.Handle("GET /admin/api/webhooks", s.h(s.manage(s.handleWebhooks)))
	// Organisations, the catalog lists and the audit log (orgs.go).
	m.Handle("GET /admin/api/events", s.h(s.manage(s.handleListEvents)))
	m.Handle("GET /admin/api/venues", s.h(s.manage(s.handleListVenues)))
	m.Handle("PATCH /admin/api/venues/{venueId}", s.h(s.manage(s.handlePatchVenue)))
	m.Handle("GET /admin/api/performers", s.h(s.manage(s.handleListPerformers)))
	m.Handle("PATCH /admin/api/performers/{performerId}", s.h(s.manage(s.handlePatchPerformer)))
	m.Handle("POST /admin/api/events/{eventId}/scanners", s.h(s.eventScoped(s.handleAssignScanner)))
	m.Handle("GET /admin/api/audit", s.h(s.manage(s.handleAudit)))
	m.Handle("GET /admin/api/events/{eventId}/report", s.h(s.eventScoped(s.handleReport)))

	m.HandleFunc("GET /healthz", s.handleHealth)
	m.Handle("GET /readyz", s.h(s.handleReady))
	if s.cfg.MetricsOnAPI {
		m.Handle("GET /metrics", s.MetricsHandler())
	}
	m.HandleFunc("GET /openapi.yaml", s.handleOpenAPI)

	if s.cfg.Mode == ModeDev {
		m.Handle("POST /auth/token", s.h(s.handleDevToken))
	}
	if s.deps.Queue != nil {
		s.deps.Queue.Routes(m, s.requireUser)
	}
	if h := s.deps.PaymentWebhook; h != nil {
		m.Handle("POST /payments/stripe/webhook", h)
	}
	if web := s.deps.Web; web != nil {
		m.Handle("GET /{$}", web)
		m.Handle("GET /admin/{$}", web)
		m.Handle("GET /door/", web)
		m.Handle("GET /static/", web)
	} else {
		m.HandleFunc("GET /{$}", s.handleIndex)
	}
}

// Handler returns the API: every route of API.md behind metrics, panic
// recovery and the per-IP limit.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the registry in Prometheus' text format, or in
// OpenMetrics (with the latency histograms' trace-id exemplars) to a
// scraper that asks for it: GET /metrics on the API port, or on a
// listener of its own (Config.MetricsOnAPI).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// handleAdminMetrics is GET /admin/api/metrics: the same exposition for
// the admin dashboard's charts, behind the admin role, so they work
// whether or not /metrics is on the API port.
func (s *Server) handleAdminMetrics(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	w.Header().Set("Cache-Control", "no-store")
	s.MetricsHandler().ServeHTTP(w, r)
	return nil
}

// Registry is the Prometheus registry GET /metrics serves, so that other
// packages can register their collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Drain ends every seat-map WebSocket with close code 1012 (service
// restart) and reason "draining", and every SSE stream, so that clients
// reconnect through the load balancer to another node; later stream
// requests are refused the same way. Other requests are still served.
// Call it when the node drains, before Close.
func (s *Server) Drain() { s.hub.closeWith(dropDraining, websocket.CloseServiceRestart) }

// Close stops the background work, disconnects every WebSocket client
// (close code 1001) and waits for all of it. It is idempotent. Call it
// after (or while) http.Server.Shutdown drains ordinary requests: Shutdown
// does not wait for hijacked WebSocket connections, Close does. The JWKS
// refresher belongs to the keyfunc library; Close cancels its context but
// cannot wait for it.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.hub.close()
		s.wg.Wait()
	})
}

// rateNow is the time the rate limits go by.
func (s *Server) rateNow() time.Time {
	if f := s.rateClock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// sweep drops refilled rate-limit buckets until Close.
func (s *Server) sweep(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.rateNow()
			s.ipLimit.sweep(now)
			s.userLimit.sweep(now)
		}
	}
}

// handleSeatsWS is GET /events/{eventId}/seats/ws: unknown events are 404
// before the upgrade; then the hub owns the connection.
func (s *Server) handleSeatsWS(w http.ResponseWriter, r *http.Request) error {
	format, err := seatStreamFormat(r)
	if err != nil {
		return err
	}
	id, err := s.seatStreamEvent(r)
	if err != nil {
		return err
	}
	s.hub.serve(w, r, id, format, 0, false)
	return nil
}
