// Package queuetest starts real waiting rooms for tests: one-member
// Proto.Actor clusters (cluster/clustertest) hosting the room grain,
// reached by identity exactly as a remote grain is, and an in-process bus
// in place of NATS. The database and its events come from
// persistence/dbtest. It is shared by the tests of actors/queue,
// api/queueroom and cmd/boxoffice.
package queuetest

import (
	"sync"
	"testing"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
)

// Key is the signing key test rooms use.
var Key = []byte("queuetest-key-0123456789abcdef!!")

// Config is a room configuration for tests: the test key, quiet logs,
// and a short push interval.
func Config() queue.Config {
	cfg := queue.DefaultConfig()
	cfg.Key = Key
	cfg.PushInterval = 200 * time.Millisecond
	cfg.Logger = clustertest.Quiet()
	return cfg
}

// Node is one running room host.
type Node struct {
	Room    *queue.Room
	Cluster *pcluster.Cluster
	once    sync.Once
}

// StartNode starts a one-member cluster hosting the room grain; it stops
// with the test, or earlier with Stop.
func StartNode(tb testing.TB, cfg queue.Config, deps queue.Deps) *Node {
	tb.Helper()
	r, err := queue.NewRoom(cfg, deps)
	if err != nil {
		tb.Fatalf("new room: %v", err)
	}
	n := &Node{Room: r, Cluster: clustertest.StartMember(tb, "queuetest", nil, r.Kind())}
	r.Attach(n.Cluster)
	tb.Cleanup(n.Stop)
	return n
}

// Stop closes the node's watchers and shuts its cluster down gracefully
// (its grains stop); it is idempotent.
func (n *Node) Stop() {
	n.once.Do(func() {
		_ = n.Room.Close()
		n.Cluster.Shutdown(true)
	})
}
