package cluster_test

import (
	"errors"
	"testing"
	"time"

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
	c.Shutdown(false)
	// A message already on the wire when the connection drops is lost and
	// can only time out; this one is sent once the drop was noticed.
	time.Sleep(200 * time.Millisecond)
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
	go func() {
		_, err := caller.Request(id, echoKind, wrapperspb.String("hang"), 20*time.Second)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // delivered, unanswered
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
