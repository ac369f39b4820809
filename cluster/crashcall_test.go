package cluster_test

import (
	"testing"
	"time"
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
	var id string
	for _, candidate := range ids(40) {
		owner, err := ask(a, candidate, 2*time.Second)
		if err != nil {
			t.Fatalf("ask %s: %v", candidate, err)
		}
		if owner == "node-c" {
			id = candidate
			break
		}
	}
	if id == "" {
		t.Fatal("node-c owns none of 40 ids")
	}
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
