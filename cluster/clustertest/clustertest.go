// Package clustertest starts Proto.Actor cluster members for the tests of
// the packages that host grains (actors, actors/queue and those above
// them): one actor system per member, an in-memory membership (the test
// provider) shared by the members of one agent, loopback gRPC on an
// ephemeral port, and no logs. A grain is reached by identity exactly as a
// remote grain is, so tests go through the real cluster path.
package clustertest

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/boxoffice/boxoffice/cluster"
)

// Quiet is a logger that drops everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// StartMember starts a member of the in-memory cluster name, hosting
// kinds, that agent's other members see (a cluster of its own when agent
// is nil). The caller shuts it down (Shutdown), after whatever must stop
// before it.
func StartMember(tb testing.TB, name string, agent *test.InMemAgent, kinds ...*pcluster.Kind) *pcluster.Cluster {
	tb.Helper()
	return startMember(tb, name, agent, disthash.New(), kinds...)
}

// StartPlacedMember is StartMember with the bounded-load placement over
// store (cluster.Config.Placement), which every member of agent must share.
func StartPlacedMember(tb testing.TB, name string, agent *test.InMemAgent, store cluster.PlacementStore, kinds ...*pcluster.Kind) *pcluster.Cluster {
	tb.Helper()
	return startMember(tb, name, agent, cluster.NewPlacementLookup(store, 0, 5*time.Second, Quiet()), kinds...)
}

func startMember(tb testing.TB, name string, agent *test.InMemAgent, lookup pcluster.IdentityLookup, kinds ...*pcluster.Kind) *pcluster.Cluster {
	tb.Helper()
	if agent == nil {
		agent = test.NewInMemAgent()
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return Quiet() }))
	pc := pcluster.Configure(name, test.NewTestProvider(agent), lookup, remote.Configure("127.0.0.1", 0),
		pcluster.WithKinds(kinds...), pcluster.WithRequestTimeout(5*time.Second))
	c := pcluster.New(sys, pc)
	c.StartMember()
	return c
}
