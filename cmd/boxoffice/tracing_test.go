package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceAcrossNodes: a reserve sent to node A for an event owned by
// node B, with a watcher of the event on A, is one trace whose spans, from
// both nodes' in-memory exporters, cover every hop with the right parents:
// A's server span, A's grain call, B's handling of it in the grain (with
// its mailbox wait and decision), B's group commit and its PostgreSQL
// statements, B's publish of the delta, and A's WebSocket fan-out of it.
func TestTraceAcrossNodes(t *testing.T) {
	recs := []*tracetest.SpanRecorder{tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()}
	tc := startCluster(t, 2, func(i int, c *Config) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(recs[i]))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		c.tracerProvider = tp
	})
	events := seedSmall(t, tc.nodes[0].DB, 6)
	admin := tc.nodes[0].token(t, "admin@example.com", "admin")
	ev := events[0]
	s, code := statsOf(t, tc.nodes[0], admin, ev)
	if code != http.StatusOK {
		t.Fatalf("stats of %s: %d", ev, code)
	}
	a, b, recA, recB := tc.nodes[0], tc.nodes[1], recs[0], recs[1]
	if s.NodeID == a.name {
		a, b, recA, recB = b, a, recB, recA
	}
	w := watch(t, a, ev)
	untilDeadline(t, time.Now().Add(10*time.Second), "the watcher's snapshot", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.statuses) > 0
	})
	tickets := ticketsOf(t, a, ev)
	tok := a.token(t, "traced@example.com")
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := a.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": tickets[:2]}, &held); code != http.StatusCreated {
		t.Fatalf("reserve through %s (owner %s): %d", a.name, b.name, code)
	}

	spans, server := checkTrace(t, "POST /booking/reserve", recA, recB, a.name, b.name, []hop{
		{a.name, "grain call event Reserve", "POST /booking/reserve"},
		{b.name, "event grain Reserve", "grain call event Reserve"},
		{b.name, "journal group commit", "event grain Reserve"},
		{b.name, "postgres ", "journal group commit"},
		{b.name, "publish seat deltas", "event grain Reserve"},
		{a.name, "websocket fan-out", "publish seat deltas"},
	})
	grain := find(spans, "event grain Reserve")[0]
	attrs := map[string]string{}
	for _, kv := range grain.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	if attrs["boxoffice.decision"] != "ok" || attrs["boxoffice.mailbox_wait_ms"] == "" {
		t.Errorf("grain span attributes %v: want the decision and the mailbox wait", attrs)
	}
	if server.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span %s kind %v", server.Name(), server.SpanKind())
	}

	// The confirm: its trace reaches the payment provider's call and the
	// sale's commit on the owner.
	if code := a.call(t, http.MethodPost, "/booking/confirm", tok, map[string]any{"booking_id": held.BookingID,
		"payment": map[string]any{"method": "card", "token": "tok_visa"}}, nil); code != http.StatusOK {
		t.Fatalf("confirm through %s: %d", a.name, code)
	}
	checkTrace(t, "POST /booking/confirm", recA, recB, a.name, b.name, []hop{
		{a.name, "grain call event Confirm", "POST /booking/confirm"},
		{b.name, "event grain Confirm", "grain call event Confirm"},
		{b.name, "payment provider charge", "event grain Confirm"},
		{b.name, "event grain PaymentOutcome", "event grain Confirm"},
		{b.name, "journal group commit", "event grain PaymentOutcome"},
	})

	// The waiting room: joining it through A reaches the room's grain,
	// wherever the cluster placed it.
	if code := a.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin,
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 100}}, nil); code != http.StatusOK {
		t.Fatalf("PATCH waiting room: %d", code)
	}
	if code := a.call(t, http.MethodPost, "/events/"+ev+"/queue", tok, nil, nil); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("join the waiting room through %s: %d", a.name, code)
	}
	checkTrace(t, "POST /events/{eventId}/queue", recA, recB, a.name, b.name, []hop{
		{a.name, "grain call queue Join", "POST /events/{eventId}/queue"},
		{"", "queue grain Join", "grain call queue Join"},
	})
}

// hop is a span expected in a trace: the node that records it ("": any),
// its name (a prefix) and its parent's.
type hop struct{ node, name, parent string }

// checkTrace finds the trace of the server span named root on node A and
// checks that it has every hop with the right parent, waiting (bounded)
// for spans that end after the reply. It returns the trace's spans by name
// and the server span.
func checkTrace(t *testing.T, root string, recA, recB *tracetest.SpanRecorder, nameA, nameB string, want []hop) ([]traced, sdktrace.ReadOnlySpan) {
	t.Helper()
	var server sdktrace.ReadOnlySpan
	untilDeadline(t, time.Now().Add(10*time.Second), "the server span of "+root, func() bool {
		for _, sp := range recA.Ended() {
			if sp.Name() == root {
				server = sp
			}
		}
		return server != nil
	})
	id := server.SpanContext().TraceID()
	var spans []traced
	var missing []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans = spans[:0]
		for i, rec := range []*tracetest.SpanRecorder{recA, recB} {
			for _, sp := range rec.Ended() {
				if sp.SpanContext().TraceID() == id {
					spans = append(spans, traced{sp, []string{nameA, nameB}[i]})
				}
			}
		}
		missing = missing[:0]
		for _, h := range want {
			if len(find(spans, h.name)) == 0 {
				missing = append(missing, h.name)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var names []string
			for _, sp := range spans {
				names = append(names, sp.Name())
			}
			t.Fatalf("trace of %s: no spans %q; it has %q", root, missing, names)
		}
		time.Sleep(20 * time.Millisecond) // polling for spans that end after the reply
	}
	for _, h := range want {
		if !hasChild(find(spans, h.parent), find(spans, h.name), h.node) {
			t.Errorf("trace of %s: no span %q on %s whose parent is a span %q", root, h.name, h.node, h.parent)
		}
	}
	return spans, server
}

// traced is a span and the node whose exporter recorded it.
type traced struct {
	sdktrace.ReadOnlySpan
	node string
}

// hasChild reports whether one of children, recorded on node, has one of
// parents as its parent (a trace may hold several spans of a name: the
// confirm's two group commits).
func hasChild(parents, children []traced, node string) bool {
	for _, c := range children {
		for _, p := range parents {
			if (node == "" || c.node == node) && c.Parent().SpanID() == p.SpanContext().SpanID() {
				return true
			}
		}
	}
	return false
}

// find is the spans whose names start with prefix.
func find(spans []traced, prefix string) []traced {
	var out []traced
	for _, sp := range spans {
		if strings.HasPrefix(sp.Name(), prefix) {
			out = append(out, sp)
		}
	}
	return out
}

// TestTracingConfig: tracing is off unless an OTLP endpoint is set (or
// when the SDK is disabled), and the sampler is the one OTEL_* names.
func TestTracingConfig(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		endpoint string
		sampler  string
	}{
		{"nothing set", nil, "", "ParentBased{root:AlwaysOnSampler"},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "http://c:4318", "ParentBased{root:AlwaysOnSampler"},
		{"traces endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/v1/traces"}, "http://t:4318/v1/traces", "ParentBased"},
		{"disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, "", "ParentBased"},
		{"one percent", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"}, "", "ParentBased{root:TraceIDRatioBased{0.01}"},
		{"never", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, "", "AlwaysOffSampler"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := parseTracing(func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if tr.Endpoint != c.endpoint {
				t.Errorf("endpoint %q, want %q", tr.Endpoint, c.endpoint)
			}
			if d := tr.sampler.Description(); !strings.HasPrefix(d, c.sampler) {
				t.Errorf("sampler %s, want %s...", d, c.sampler)
			}
			tp, stop, err := startTracing(context.Background(), tr, "node-x")
			if err != nil {
				t.Fatal(err)
			}
			stop()
			if (tp != nil) != (c.endpoint != "") {
				t.Errorf("tracer provider %v with endpoint %q", tp, c.endpoint)
			}
		})
	}
}
