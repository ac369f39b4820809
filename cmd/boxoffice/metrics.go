package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// engineMetrics counts what the seat engine and journal do, on the registry
// that GET /metrics serves.
type engineMetrics struct {
	reg      *prometheus.Registry
	outcomes *prometheus.CounterVec
	seats    *prometheus.CounterVec
	batch    func(records int, d time.Duration)
}

func newEngineMetrics() *engineMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &engineMetrics{
		reg: reg,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "boxoffice_engine_commands_total",
			Help: "Seat engine commands decided, by operation and result (ok, an error code, or replayed: a repeated keyed reserve)."}, []string{"op", "result"}),
		seats: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "boxoffice_engine_seats_total",
			Help: "Seats changed by successful commands: reserve = held, confirm = sold, release and expire = freed, checkin = admitted."}, []string{"op"}),
	}
	batchSize := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "boxoffice_journal_batch_records",
		Help: "Journal records per group-commit transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)})
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "boxoffice_journal_commit_seconds",
		Help: "Latency of one group-commit transaction.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	reg.MustRegister(m.outcomes, m.seats, batchSize, commit)
	m.batch = func(records int, d time.Duration) {
		batchSize.Observe(float64(records))
		commit.Observe(d.Seconds())
	}
	return m
}

func (m *engineMetrics) registry() *prometheus.Registry { return m.reg }

// Outcome implements actors.Metrics.
func (m *engineMetrics) Outcome(op, result string, seats int) {
	m.outcomes.WithLabelValues(op, result).Inc()
	if result == "ok" {
		m.seats.WithLabelValues(op).Add(float64(seats))
	}
}
