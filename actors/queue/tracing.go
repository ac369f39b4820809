package queue

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice/actors/queuepb"
	"github.com/boxoffice/boxoffice/cluster"
)

// traceCall starts the span of the room grain's handling of a traced Join
// or GetStatus, a child of the caller's span carried in the message, with
// how long the call waited (network plus mailbox); the returned func ends
// it.
func (g *grain) traceCall(msg any) func() {
	tp := g.r.cfg.TracerProvider
	if tp == nil {
		return func() {}
	}
	var m proto.Message
	switch v := msg.(type) {
	case *queuepb.Join:
		m = v
	case *queuepb.GetStatus:
		m = v
	default:
		return func() {}
	}
	parent, sent := cluster.ExtractTrace(context.Background(), m)
	if !trace.SpanContextFromContext(parent).IsSampled() {
		return func() {}
	}
	_, span := tp.Tracer("github.com/boxoffice/boxoffice/actors/queue").Start(parent,
		"queue grain "+string(m.ProtoReflect().Descriptor().Name()), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("boxoffice.event_id", g.eventID.String())))
	if !sent.IsZero() {
		span.SetAttributes(attribute.Float64("boxoffice.mailbox_wait_ms", float64(time.Since(sent).Microseconds())/1000))
	}
	return func() { span.End() }
}
