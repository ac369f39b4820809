package actors

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// tracerName names the seat engine's spans' instrumentation scope.
const tracerName = "github.com/boxoffice/boxoffice/actors"

// traceCommand starts the span of the grain's handling of a traced
// command, a child of the caller's span carried in the message (so it
// continues the request's trace on whichever node owns the event). The
// span records how long the command waited between the caller's send and
// its handling (network plus mailbox) and the decision (outcome); while it
// is open, records the command stages join its group's trace list, so the
// group commit links back to it. The returned func ends it.
func (g *grain) traceCommand(ctx actor.Context) func() {
	if g.e.tracer == nil {
		return func() {}
	}
	var (
		parent context.Context
		sent   time.Time
		name   string
	)
	switch m := ctx.Message().(type) {
	case *grainpb.Reserve, *grainpb.Release, *grainpb.Confirm, *grainpb.GetSeats, *grainpb.PaymentSettled:
		msg := m.(proto.Message)
		parent, sent = cluster.ExtractTrace(context.Background(), msg)
		name = string(msg.ProtoReflect().Descriptor().Name())
	case *paymentDone:
		// A confirm's payment outcome: the sale it records joins the
		// confirm's trace.
		if m.run == nil {
			return func() {}
		}
		parent, name = trace.ContextWithSpanContext(context.Background(), m.run.trace), "PaymentOutcome"
	default:
		return func() {}
	}
	if !trace.SpanContextFromContext(parent).IsSampled() {
		return func() {}
	}
	sctx, span := g.e.tracer.Start(parent, "event grain "+name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("boxoffice.event_id", g.eventID.String()), attribute.String("boxoffice.node", g.e.cfg.NodeName)))
	if !sent.IsZero() {
		span.SetAttributes(attribute.Float64("boxoffice.mailbox_wait_ms", float64(time.Since(sent).Microseconds())/1000))
	}
	g.span, g.spanCtx = span, sctx
	return func() {
		g.span, g.spanCtx = nil, nil
		span.End()
	}
}

// traceOutcome puts the command's decision on its span.
func (g *grain) traceOutcome(op, result string, seats int) {
	if g.span == nil {
		return
	}
	g.span.SetAttributes(attribute.String("boxoffice.op", op), attribute.String("boxoffice.decision", result), attribute.Int("boxoffice.seats", seats))
}

// traceStaged notes that the command being handled staged a record into
// the open group.
func (g *grain) traceStaged() {
	if g.spanCtx == nil || g.open == nil {
		return
	}
	if n := len(g.open.traces); n > 0 && g.open.traces[n-1] == g.spanCtx {
		return
	}
	g.open.traces = append(g.open.traces, g.spanCtx)
}

// tracePublish starts the span of publishing a committed group's seat
// deltas on the bus, in the trace of the group's first traced command and
// linked to the others; the returned context goes to the publisher, which
// carries it to every node's WebSocket hub.
func (g *grain) tracePublish(gr *group) (context.Context, func()) {
	if g.e.tracer == nil || len(gr.traces) == 0 {
		return context.Background(), func() {}
	}
	ctx, span := g.e.tracer.Start(gr.traces[0], "publish seat deltas",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithLinks(links(gr.traces[1:])...),
		trace.WithAttributes(attribute.Int("boxoffice.records", len(gr.records)), attribute.String("boxoffice.event_id", g.eventID.String())))
	return ctx, func() { span.End() }
}

// links are span links to the span of each context.
func links(ctxs []context.Context) []trace.Link {
	out := make([]trace.Link, 0, len(ctxs))
	for _, c := range ctxs {
		out = append(out, trace.Link{SpanContext: trace.SpanContextFromContext(c)})
	}
	return out
}

// TracedPublisher is a Publisher that carries the publish's trace context
// with the delta (in the bus message's headers), so that each node's
// WebSocket fan-out joins the request's trace.
type TracedPublisher interface {
	Publisher
	PublishSeatsContext(ctx context.Context, d boxoffice.SeatDelta) error
}

// publishSeats publishes d through p, with ctx's trace when p carries it.
func publishSeats(ctx context.Context, p Publisher, d boxoffice.SeatDelta) error {
	if tp, ok := p.(TracedPublisher); ok {
		return tp.PublishSeatsContext(ctx, d)
	}
	return p.PublishSeats(d)
}

// traceProvider starts the span of one payment provider call of a traced
// confirm (a child of the grain's span, though the call runs outside the
// grain); the returned func records the call's error and ends it.
func (r *payRun) traceProvider(ctx context.Context, name string, try int) (context.Context, func(error)) {
	if r.tracer == nil || !r.trace.IsSampled() {
		return ctx, func(error) {}
	}
	ctx, span := r.tracer.Start(trace.ContextWithSpanContext(ctx, r.trace), name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Int("boxoffice.payment_try", try), attribute.String("boxoffice.booking_id", r.begin.BookingID.String())))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetAttributes(attribute.String("boxoffice.payment_error", boxoffice.ErrorCode(err)))
		}
		span.End()
	}
}
