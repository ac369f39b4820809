package bus

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagator writes and reads W3C Trace Context in NATS message headers.
var propagator = propagation.TraceContext{}

// PublishSeatsContext is PublishSeats that carries ctx's trace context in
// the message's headers, so that every node's WebSocket fan-out of the
// delta joins the trace of the request that made it. An untraced ctx
// publishes exactly as PublishSeats.
func (b *Bus) PublishSeatsContext(ctx context.Context, eventID uuid.UUID, frame []byte) error {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return b.PublishSeats(eventID, frame)
	}
	m := nats.NewMsg(SeatSubject(eventID))
	m.Data = frame
	propagator.Inject(ctx, propagation.HeaderCarrier(http.Header(m.Header)))
	return b.nc.PublishMsg(m)
}

// SubscribeSeatsTraced is SubscribeSeats whose fn also gets the trace
// context the frame was published with (context.Background when none).
func (b *Bus) SubscribeSeatsTraced(eventID uuid.UUID, fn func(ctx context.Context, frame []byte)) (func(), error) {
	subject := SeatSubject(eventID)
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) {
		ctx := context.Background()
		if len(m.Header) > 0 {
			ctx = propagator.Extract(ctx, propagation.HeaderCarrier(http.Header(m.Header)))
		}
		fn(ctx, m.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, err)
	}
	// As subscribe: a hub this far behind is broken anyway.
	_ = sub.SetPendingLimits(1<<20, 1<<30)
	return func() { _ = sub.Unsubscribe() }, nil
}
