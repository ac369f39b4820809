package cluster_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/boxoffice/boxoffice/cluster"
)

// TestCallSentRightAfterCrashIsServed sends a grain request right after the
// grain's node crashed, before gossip has declared it dead. The placement
// lookup it makes goes to the crashed address; the endpoint gives up after
// one connection attempt (Proto.Actor's default of five blocks it for
// 10 s), the lookup dead-letters, and the retry reaches the new owner
// within the 4 s the caller allows.
func TestCallSentRightAfterCrashIsServed(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	a, c := nodes[0], nodes[2]
	id := idOwnedBy(t, a, "node-c")
	// A message already on the wire when the connection drops is lost and
	// can only time out; this one is sent once node-a noticed the drop:
	// its remote published EndpointTerminatedEvent for node-c's address
	// (the endpoint manager, subscribed since node-a started, drops the
	// connection in the same Publish call).
	dropped := endpointTerminated(t, a, c.ActorAddr())
	c.Shutdown(false)
	select {
	case <-dropped:
	case <-time.After(10 * time.Second):
		t.Fatalf("node-a did not notice the connection to crashed node-c (%s) drop within 10s", c.ActorAddr())
	}
	owner, err := ask(a, id, 4*time.Second)
	if err != nil {
		t.Fatalf("request sent right after node-c crashed: %v", err)
	}
	if owner == "node-c" {
		t.Fatalf("served by the crashed node-c")
	}
}

// TestCallInFlightWhenMemberCrashes: a call already delivered to a member
// that then crashes can never be answered. Through a Caller it fails with
// ErrMemberLeft once gossip declares the member gone, well before its own
// 20 s timeout, so the caller can retry on the new owner at once.
func TestCallInFlightWhenMemberCrashes(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	a, c := nodes[0], nodes[2]
	id := idOwnedBy(t, a, "node-c")
	caller := cluster.NewCaller(a.Cluster())
	defer caller.Close()
	errc := make(chan error, 1)
	msg := "hang-" + t.Name()
	delivered := hangDelivered(msg)
	go func() {
		_, err := caller.Request(id, echoKind, wrapperspb.String(msg), 20*time.Second)
		errc <- err
	}()
	select { // delivered, unanswered
	case <-delivered:
	case err := <-errc:
		t.Fatalf("call to node-c ended before it was delivered: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("call to node-c not delivered within 10s")
	}
	start := time.Now()
	c.Shutdown(false)
	err := <-errc
	if !errors.Is(err, cluster.ErrMemberLeft) {
		t.Fatalf("in-flight call to the crashed member: %v after %s, want ErrMemberLeft", err, time.Since(start))
	}
	t.Logf("in-flight call released %s after the crash", time.Since(start).Round(time.Millisecond))
	// The grain is served by a survivor right after.
	if owner, err := ask(a, id, 4*time.Second); err != nil || owner == "node-c" {
		t.Fatalf("after the release: owner %q, %v; want a survivor", owner, err)
	}
}

// endpointTerminated returns a channel closed once n's remote reports the
// connection to addr gone (Proto.Actor's EndpointTerminatedEvent).
func endpointTerminated(t *testing.T, n *cluster.Node, addr string) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	es := n.System().EventStream
	sub := es.Subscribe(func(evt any) {
		if e, ok := evt.(*remote.EndpointTerminatedEvent); ok && e.Address == addr {
			once.Do(func() { close(done) })
		}
	})
	t.Cleanup(func() { es.Unsubscribe(sub) })
	return done
}

// idOwnedBy finds, asking through n, an identity whose grain lives on owner.
func idOwnedBy(t *testing.T, n *cluster.Node, owner string) string {
	t.Helper()
	for _, candidate := range ids(40) {
		got, err := ask(n, candidate, 2*time.Second)
		if err != nil {
			t.Fatalf("ask %s: %v", candidate, err)
		}
		if got == owner {
			return candidate
		}
	}
	t.Fatalf("%s owns none of 40 ids", owner)
	return ""
}

// TestUncachedCallInFlightWhenMemberCrashes is TestCallInFlightWhenMemberCrashes
// for a call whose caller has not cached the grain's place (its first call,
// or the first after a move): Proto.Actor's lookup and call wait their whole
// timeout on a crashed member, so through a Caller it must fail with
// ErrMemberLeft once gossip declares the member gone instead.
func TestUncachedCallInFlightWhenMemberCrashes(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	id := idOwnedBy(t, b, "node-c") // placed through node-b: node-a has no cached place
	caller := cluster.NewCaller(a.Cluster())
	defer caller.Close()
	if _, ok := a.Cluster().PidCache.Get(id, echoKind); ok {
		t.Fatalf("node-a has the place of %s cached", id)
	}
	errc := make(chan error, 1)
	msg := "hang-" + t.Name()
	delivered := hangDelivered(msg)
	go func() {
		_, err := caller.Request(id, echoKind, wrapperspb.String(msg), 20*time.Second)
		errc <- err
	}()
	select { // delivered, unanswered
	case <-delivered:
	case err := <-errc:
		t.Fatalf("call to node-c ended before it was delivered: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("call to node-c not delivered within 10s")
	}
	start := time.Now()
	c.Shutdown(false)
	err := <-errc
	if !errors.Is(err, cluster.ErrMemberLeft) {
		t.Fatalf("in-flight uncached call to the crashed member: %v after %s, want ErrMemberLeft", err, time.Since(start))
	}
	t.Logf("in-flight uncached call released %s after the crash", time.Since(start).Round(time.Millisecond))
	if owner, err := ask(a, id, 4*time.Second); err != nil || owner == "node-c" {
		t.Fatalf("after the release: owner %q, %v; want a survivor", owner, err)
	}
}
