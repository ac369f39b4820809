package cluster_test

import (
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster"
)

// TestDeadWhenPeersDeclareNodeDead cuts one node's gossip (Node.PartitionGossip
// drops its memberlist packets and connections both ways) until its peers
// declare it dead and Proto.Actor blocks its member id, then heals the
// partition. Gossip reaches the node again, but its id stays blocked: the
// majority tells it so and its Dead channel closes, while the majority's,
// which the minority blocked in turn, stay open.
func TestDeadWhenPeersDeclareNodeDead(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, n := range nodes {
		waitFor(t, 5*time.Second, n.Name()+" sees node-c", wantStatus(n, "node-c", cluster.StatusAlive))
	}

	c.PartitionGossip(true)
	waitFor(t, 10*time.Second, "node-a declares node-c dead", wantStatus(a, "node-c", cluster.StatusDead))
	waitFor(t, 10*time.Second, "node-b declares node-c dead", wantStatus(b, "node-c", cluster.StatusDead))
	waitFor(t, 10*time.Second, "node-c declares node-a dead", wantStatus(c, "node-a", cluster.StatusDead))
	if isClosed(c.Dead()) {
		t.Fatal("node-c's Dead() closed while it could not hear anybody")
	}

	c.PartitionGossip(false)
	select {
	case <-c.Dead():
	case <-time.After(15 * time.Second):
		t.Fatalf("node-c's Dead() not closed 15s after the partition healed; node-a sees %+v", a.Members())
	}
	waitFor(t, 5*time.Second, "node-a lists node-c as blocked", wantStatus(a, "node-c", cluster.StatusBlocked))
	for _, n := range []*cluster.Node{a, b} {
		if isClosed(n.Dead()) {
			t.Errorf("%s: Dead() closed, but it is on the majority side", n.Name())
		}
	}
}
