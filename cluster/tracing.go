package cluster

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// traceField is the grain message field that carries a call's trace
// context across nodes: a map<string, string> appended to every command
// (grainpb). Proto.Actor's remote carries only the message, so the
// context must travel inside it.
const traceField = "trace"

// sentAtKey is the carrier key of the time the caller sent the call (Unix
// ns), so that the grain can tell how long the call waited before it was
// handled: network and mailbox together (on one node, the mailbox alone).
const sentAtKey = "boxoffice-sent-at"

// propagator is W3C Trace Context, the format every OTel backend reads.
var propagator = propagation.TraceContext{}

// SetTracerProvider makes the client trace its calls: a client span per
// call whose context goes to the grain in the message's trace field. Only
// calls made within a sampled request are traced (background calls such
// as the sweeper's would otherwise each start a trace). Call it before the
// client is used.
//
// Only sampled calls carry their context on: an unsampled request's grain
// then makes no spans at all (no orphan traces, no cost on the owner).
func (c *Client) SetTracerProvider(tp trace.TracerProvider) {
	if tp != nil {
		c.tracer = tp.Tracer("github.com/boxoffice/boxoffice/cluster")
	}
}

// startCall starts the call's client span and writes its context into
// msg; the returned end records err and ends the span.
func (c *Client) startCall(ctx context.Context, identity string, msg proto.Message) func(err error) {
	if c.tracer == nil || !trace.SpanContextFromContext(ctx).IsSampled() {
		return func(error) {}
	}
	name := string(msg.ProtoReflect().Descriptor().Name())
	ctx, span := c.tracer.Start(ctx, "grain call "+c.kind+" "+name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("boxoffice.grain.kind", c.kind), attribute.String("boxoffice.grain.identity", identity)))
	InjectTrace(ctx, msg)
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// InjectTrace writes ctx's trace context and the time now into msg's trace
// field; a message without one is left alone.
func InjectTrace(ctx context.Context, msg proto.Message) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName(traceField)
	if fd == nil || !fd.IsMap() {
		return
	}
	carrier := propagation.MapCarrier{}
	propagator.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return
	}
	carrier[sentAtKey] = strconv.FormatInt(time.Now().UnixNano(), 10)
	mp := m.Mutable(fd).Map()
	for k, v := range carrier {
		mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(v))
	}
}

// ExtractTrace returns ctx continuing the trace msg carries (as a remote
// parent) and when the caller sent it; ctx itself and the zero time when
// msg carries none.
func ExtractTrace(ctx context.Context, msg proto.Message) (context.Context, time.Time) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName(traceField)
	if fd == nil || !fd.IsMap() || !m.Has(fd) {
		return ctx, time.Time{}
	}
	carrier := propagation.MapCarrier{}
	m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		carrier[k.String()] = v.String()
		return true
	})
	var sent time.Time
	if ns, err := strconv.ParseInt(carrier[sentAtKey], 10, 64); err == nil {
		sent = time.Unix(0, ns)
	}
	return propagator.Extract(ctx, carrier), sent
}
