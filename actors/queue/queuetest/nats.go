package queuetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/boxoffice/boxoffice/cluster/bus"
)

// NATS carries the rooms' watermarks over a real NATS server: the embedded
// one a node runs (cluster/bus), alone on a loopback port the system
// picks, without JetStream, closed when the test ends. It is the
// queue.Publisher and queue.Subscriber a node gets, adapted the same way.
type NATS struct{ b *bus.Bus }

// NewNATS starts the server and connects to it.
func NewNATS(tb testing.TB) *NATS {
	tb.Helper()
	b, err := bus.Open(context.Background(), bus.Config{ServerName: "queuetest"})
	if err != nil {
		tb.Fatalf("open NATS: %v", err)
	}
	tb.Cleanup(b.Close)
	return &NATS{b: b}
}

// Publish implements queue.Publisher.
func (n *NATS) Publish(subject string, data []byte) error { return n.b.Conn().Publish(subject, data) }

// Subscribe implements queue.Subscriber. It returns once the server has
// the subscription (a flush round trip), so a watermark published after it
// returns is delivered, as it is on a node whose subscription is old.
func (n *NATS) Subscribe(subject string, fn func([]byte)) (func(), error) {
	nc := n.b.Conn()
	s, err := nc.Subscribe(subject, func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return nil, err
	}
	if err := nc.Flush(); err != nil {
		_ = s.Unsubscribe()
		return nil, fmt.Errorf("queuetest: subscribe %s: %w", subject, err)
	}
	return func() { _ = s.Unsubscribe() }, nil
}
