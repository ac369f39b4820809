package api

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// routeUnmatched labels requests no route matched (404 and 405), so that
// scanners cannot create one time series per path they try.
const routeUnmatched = "unmatched"

// metrics are the API's Prometheus collectors. Labels are bounded: route
// is a ServeMux pattern (or routeUnmatched), code an HTTP status.
type metrics struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	wsClients   prometheus.Gauge
	wsDrops     *prometheus.CounterVec
	busGaps     prometheus.Counter
	viewRenders prometheus.Counter
	// auditFailures counts admin actions whose audit entry was not written.
	auditFailures prometheus.Counter
}

// newRegistry is the registry of a node whose wiring did not pass one.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "boxoffice_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "boxoffice_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code (WebSocket sessions excluded).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		wsClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "boxoffice_ws_clients",
			Help: "Connected seat-map WebSocket clients on this node.",
		}),
		wsDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "boxoffice_ws_disconnects_total",
			Help: "Seat-map WebSocket clients the server disconnected, by reason (slow, gap, unavailable, shutdown).",
		}, []string{"reason"}),
		busGaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "boxoffice_ws_bus_gaps_total",
			Help: "Version gaps seen in seat deltas from the bus; the affected clients are closed to resync.",
		}),
		viewRenders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "boxoffice_event_view_renders_total",
			Help: "GET /events/{eventId} bodies rendered (the rest are served from the per-version cache).",
		}),
	}
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "boxoffice_audit_write_failures_total",
		Help: "Admin and organiser actions that succeeded but whose audit log entry could not be written.",
	})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.wsClients, m.wsDrops, m.busGaps, m.viewRenders, m.auditFailures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	return m, nil
}
