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
	if code := a.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": tickets[:2]}, nil); code != http.StatusCreated {
		t.Fatalf("reserve through %s (owner %s): %d", a.name, b.name, code)
	}

	var server sdktrace.ReadOnlySpan
	for _, sp := range recA.Ended() {
		if sp.Name() == "POST /booking/reserve" {
			server = sp
		}
	}
	if server == nil {
		t.Fatalf("no server span of the reserve on %s", a.name)
	}
	id := server.SpanContext().TraceID()
	// want: span name -> the name of its parent, and which node has it.
	want := []struct{ node, name, parent string }{
		{a.name, "grain call event Reserve", "POST /booking/reserve"},
		{b.name, "event grain Reserve", "grain call event Reserve"},
		{b.name, "journal group commit", "event grain Reserve"},
		{b.name, "postgres ", "journal group commit"},
		{b.name, "publish seat deltas", "event grain Reserve"},
		{a.name, "websocket fan-out", "publish seat deltas"},
	}
	var spans map[string]sdktrace.ReadOnlySpan
	node := map[string]string{}
	untilDeadline(t, time.Now().Add(10*time.Second), "every hop's span ended", func() bool {
		spans = map[string]sdktrace.ReadOnlySpan{}
		for i, rec := range []*tracetest.SpanRecorder{recA, recB} {
			for _, sp := range rec.Ended() {
				if sp.SpanContext().TraceID() == id {
					spans[sp.Name()] = sp
					node[sp.Name()] = []string{a.name, b.name}[i]
				}
			}
		}
		for _, h := range want {
			if find(spans, h.name) == nil {
				return false
			}
		}
		return true
	})
	for _, h := range want {
		sp, parent := find(spans, h.name), find(spans, h.parent)
		if parent == nil {
			t.Errorf("%s: no parent span %q in the trace", h.name, h.parent)
			continue
		}
		if got := sp.Parent().SpanID(); got != parent.SpanContext().SpanID() {
			t.Errorf("%s: parent span %s, want %q's %s", sp.Name(), got, h.parent, parent.SpanContext().SpanID())
		}
		if n := node[sp.Name()]; n != h.node {
			t.Errorf("%s: recorded on %s, want %s", sp.Name(), n, h.node)
		}
	}
	grain := find(spans, "event grain Reserve")
	attrs := map[string]string{}
	for _, kv := range grain.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["boxoffice.decision"] != "ok" || attrs["boxoffice.mailbox_wait_ms"] == "" {
		t.Errorf("grain span attributes %v: want the decision and the mailbox wait", attrs)
	}
	if !find(spans, "grain call event Reserve").Parent().IsValid() || server.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span %s kind %v", server.Name(), server.SpanKind())
	}
}

// find is the span whose name starts with prefix.
func find(spans map[string]sdktrace.ReadOnlySpan, prefix string) sdktrace.ReadOnlySpan {
	for name, sp := range spans {
		if strings.HasPrefix(name, prefix) {
			return sp
		}
	}
	return nil
}
