package cluster_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/cluster"
)

var clientText = cluster.ClientText{Starting: "starting", Moving: "moving", Unreachable: "unreachable"}

// TestClientAnswers: a Client answers every way a grain call can end, and
// every failure to reach the grain is "unavailable" in the client's words;
// in particular a call whose member leaves while it waits is "moving"
// (ErrMemberLeft), for every grain kind alike (the waiting room's own copy
// of the calling code had answered it as "unreachable").
func TestClientAnswers(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	id := idOwnedBy(t, a, "node-b")
	c := cluster.NewClient(echoKind, 20*time.Second, testLogger(), clientText)
	ctx := context.Background()

	if _, err := c.Request(ctx, id, wrapperspb.String(id)); boxoffice.ErrorCode(err) != boxoffice.EUnavailable ||
		boxoffice.ErrorMessage(err) != "starting" {
		t.Fatalf("before Attach: %v, want unavailable (starting)", err)
	}
	c.Attach(a.Cluster())
	defer c.Close()
	if sv, err := cluster.Call[*wrapperspb.StringValue](ctx, c, id, wrapperspb.String(id)); err != nil || sv.Value != "node-b" {
		t.Fatalf("Call: %v, %v; want node-b's reply", sv, err)
	}
	if _, err := cluster.Call[*wrapperspb.Int64Value](ctx, c, id, wrapperspb.String(id)); err == nil {
		t.Fatalf("Call with the wrong reply type succeeded")
	}
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := c.Request(expired, id, wrapperspb.String(id)); err == nil {
		t.Fatalf("Request past the caller's deadline succeeded")
	}

	msg := "hang-" + t.Name()
	delivered := hangDelivered(msg)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, id, wrapperspb.String(msg))
		errc <- err
	}()
	select {
	case <-delivered:
	case err := <-errc:
		t.Fatalf("call to node-b ended before it was delivered: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("call to node-b not delivered within 10s")
	}
	b.Shutdown(false)
	if err := <-errc; boxoffice.ErrorCode(err) != boxoffice.EUnavailable || boxoffice.ErrorMessage(err) != "moving" {
		t.Fatalf("in-flight call whose member left: %v, want unavailable (moving)", err)
	}

	c.Close()
	if c.Caller() != nil || c.Cluster() != nil {
		t.Fatalf("after Close the client still holds its cluster")
	}
	if _, err := c.Request(ctx, id, wrapperspb.String(id)); boxoffice.ErrorMessage(err) != "starting" {
		t.Fatalf("after Close: %v, want unavailable (starting)", err)
	}
}
