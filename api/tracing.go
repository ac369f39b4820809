package api

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traced wraps the API in otelhttp's server span when the node traces: a
// request's trace starts here (or continues a caller's traceparent) and
// travels in its context to the seat engine, the grain on its owner node,
// PostgreSQL and the bus. Without a TracerProvider the handler is h itself,
// so an untraced node pays nothing.
func (s *Server) traced(h http.Handler) http.Handler {
	tp := s.cfg.TracerProvider
	if tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		// The route is only known once the mux has matched (nameSpan).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// nameSpan names the request's server span by its route pattern (not the
// path: IDs in span names would make every span name unique).
func nameSpan(r *http.Request, route string) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	name := route // a pattern starts with its method: "POST /booking/reserve"
	if route == routeUnmatched {
		name = r.Method + " " + route
	}
	span.SetName(name)
	span.SetAttributes(attribute.String("http.route", route), attribute.String("boxoffice.request_id", RequestID(r.Context())))
}

// observeWithTrace records v in o with the request's trace id as an
// exemplar when the request is sampled, so that a slow bucket of the
// latency histogram leads to a trace (exemplars show in the OpenMetrics
// format of GET /metrics).
func observeWithTrace(ctx context.Context, o prometheus.Observer, v float64) {
	sc := trace.SpanContextFromContext(ctx)
	if eo, ok := o.(prometheus.ExemplarObserver); ok && sc.IsSampled() {
		eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	o.Observe(v)
}

// tracerName names the API's own spans' instrumentation scope.
const tracerName = "github.com/boxoffice/boxoffice/api"

// onTracedFrame is onFrame under a span of the fan-out to this node's
// clients, in the trace of the request whose commit published the frame.
func (t *topic) onTracedFrame(ctx context.Context, frame []byte) {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		t.onFrame(frame)
		return
	}
	_, span := t.hub.tracer.Start(ctx, "websocket fan-out", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("boxoffice.event_id", t.id.String()), attribute.Int("boxoffice.bytes", len(frame))))
	defer span.End()
	t.onFrame(frame)
	t.mu.Lock()
	n := len(t.clients)
	t.mu.Unlock()
	span.SetAttributes(attribute.Int("boxoffice.clients", n))
}
