package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
)

// Client is how a node calls the grains of one kind (the seat engine's
// event grains, the waiting rooms), wherever in the cluster they live: each
// call gets the caller's deadline or the client's timeout, whichever comes
// first, Proto.Actor's retries with a real backoff (CallOptions), and gives
// up as soon as the member hosting the grain leaves (Caller). Every failure
// to reach a grain is a *boxoffice.Error "unavailable" worded by
// ClientText, so the API answers 503 and the caller retries. One client
// serves every grain kind, so a fix to calling reaches them all.
type Client struct {
	kind    string
	timeout time.Duration
	log     *slog.Logger
	text    ClientText

	caller  atomic.Pointer[Caller]
	cluster atomic.Pointer[pcluster.Cluster]
	// tracer, when set (SetTracerProvider), traces calls made in a traced
	// request.
	tracer trace.Tracer
}

// ClientText words a Client's "unavailable" answers for its callers.
type ClientText struct {
	// Starting: no cluster is attached yet (or any more).
	Starting string
	// Moving: the member hosting the grain left during the call.
	Moving string
	// Unreachable: the call failed or timed out.
	Unreachable string
}

// NewClient returns a client of the grains of kind whose calls take at most
// timeout each; it answers Starting until Attach.
func NewClient(kind string, timeout time.Duration, log *slog.Logger, text ClientText) *Client {
	return &Client{kind: kind, timeout: timeout, log: log, text: text}
}

// Attach gives the client the cluster it calls grains through. It
// subscribes to the cluster's topology events (see Caller); Close ends
// that subscription. Attaching again replaces, and closes, the earlier
// Caller.
func (c *Client) Attach(pc *pcluster.Cluster) {
	c.cluster.Store(pc)
	if old := c.caller.Swap(NewCaller(pc)); old != nil {
		old.Close()
	}
}

// Close detaches the client from its cluster; later calls answer Starting.
// Idempotent.
func (c *Client) Close() {
	c.cluster.Store(nil)
	if old := c.caller.Swap(nil); old != nil {
		old.Close()
	}
}

// Cluster is the attached cluster, nil when detached.
func (c *Client) Cluster() *pcluster.Cluster { return c.cluster.Load() }

// Caller is the Caller calls go through, nil when detached (tests check
// that Close ends its subscription).
func (c *Client) Caller() *Caller { return c.caller.Load() }

// Request sends msg to the grain identity names and returns its reply,
// which is never nil when err is nil.
func (c *Client) Request(ctx context.Context, identity string, msg proto.Message) (res any, err error) {
	end := c.startCall(ctx, identity, msg)
	defer func() { end(err) }()
	k := c.caller.Load()
	if k == nil {
		return nil, boxoffice.Errorf(boxoffice.EUnavailable, "%s", c.text.Starting)
	}
	timeout := Budget(ctx, c.timeout)
	if timeout <= 0 {
		return nil, fmt.Errorf("%s %s: %w", c.kind, identity, context.DeadlineExceeded)
	}
	res, err = k.Request(identity, c.kind, msg, timeout)
	if errors.Is(err, ErrMemberLeft) {
		c.log.InfoContext(ctx, "grain call abandoned: its node left the cluster", "kind", c.kind, "identity", identity)
		return nil, fmt.Errorf("%s %s: %w", c.kind, identity,
			&boxoffice.Error{Code: boxoffice.EUnavailable, Message: c.text.Moving})
	}
	if err != nil || res == nil {
		c.log.WarnContext(ctx, "grain call failed", "kind", c.kind, "identity", identity, "err", err)
		return nil, fmt.Errorf("%s %s: %w: %v", c.kind, identity,
			&boxoffice.Error{Code: boxoffice.EUnavailable, Message: c.text.Unreachable}, err)
	}
	return res, nil
}

// Call is Request for a reply of type R; any other reply is an error.
func Call[R any](ctx context.Context, c *Client, identity string, msg proto.Message) (R, error) {
	var zero R
	res, err := c.Request(ctx, identity, msg)
	if err != nil {
		return zero, err
	}
	r, ok := res.(R)
	if !ok {
		return zero, fmt.Errorf("%s %s: unexpected reply %T", c.kind, identity, res)
	}
	return r, nil
}
