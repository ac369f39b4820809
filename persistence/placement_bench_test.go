package persistence_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence"
)

// memberGrain answers with the id of the member hosting it.
type memberGrain struct{}

func (memberGrain) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*wrapperspb.StringValue); ok {
		ctx.Respond(wrapperspb.String(ctx.ActorSystem().ID))
	}
}

// keepCrashed is the PostgreSQL placement record that keeps the records of
// a member marked crashed (kill -9 releases nothing; a test member's
// Shutdown would release them as a graceful stop does).
type keepCrashed struct {
	*persistence.Placements
	mu      sync.Mutex
	crashed string
}

func (s *keepCrashed) isCrashed(m string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m == s.crashed
}

func (s *keepCrashed) Release(ctx context.Context, kind, id, member string) error {
	if s.isCrashed(member) {
		return nil
	}
	return s.Placements.Release(ctx, kind, id, member)
}

func (s *keepCrashed) ReleaseMember(ctx context.Context, member string) error {
	if s.isCrashed(member) {
		return nil
	}
	return s.Placements.ReleaseMember(ctx, member)
}

// BenchmarkPlacementClusterActivate measures the bounded placement's claim
// path end to end with PostgreSQL: three cluster members (in-process,
// loopback gRPC) and 96 callers spread over them activate 3,000 grains,
// each one's first call claiming it (activate-s); then one member crashes
// and the callers call each of its grains again through the survivors
// until every one answered (failover-s, from the crash). Run it with
// -benchtime 1x: each iteration is a whole scenario on a fresh database.
func BenchmarkPlacementClusterActivate(b *testing.B) {
	const grains, callers = 3000, 96
	for b.Loop() {
		store := &keepCrashed{Placements: openDB(b).Placements()}
		agent := test.NewInMemAgent()
		kind := pcluster.NewKind("bench", actor.PropsFromProducer(func() actor.Actor { return memberGrain{} }))
		var members []*pcluster.Cluster
		for i := range 3 {
			c := clustertest.StartPlacedMember(b, fmt.Sprintf("bench-%d", i), agent, store, kind)
			members = append(members, c)
			if i > 0 { // members[0] crashes below
				b.Cleanup(func() { c.Shutdown(false) })
			}
		}
		ids := make([]string, grains)
		for i := range ids {
			ids[i] = fmt.Sprintf("event-%04d", i)
		}
		call := func(via []*pcluster.Cluster, ids []string) map[string]string {
			out := make(map[string]string, len(ids))
			var mu sync.Mutex
			var wg sync.WaitGroup
			next := make(chan int)
			for range callers {
				wg.Go(func() {
					for i := range next {
						for {
							res, err := via[i%len(via)].Request(ids[i], "bench", wrapperspb.String("hi"), pcluster.WithTimeout(10*time.Second))
							if err == nil {
								mu.Lock()
								out[ids[i]] = res.(*wrapperspb.StringValue).Value
								mu.Unlock()
								break
							}
						}
					}
				})
			}
			for i := range ids {
				next <- i
			}
			close(next)
			wg.Wait()
			return out
		}
		start := time.Now()
		placed := call(members, ids)
		b.ReportMetric(time.Since(start).Seconds(), "activate-s")
		per := map[string]int{}
		for _, m := range placed {
			per[m]++
		}
		dead := members[0]
		var its []string
		for id, m := range placed {
			if m == dead.ActorSystem.ID {
				its = append(its, id)
			}
		}
		b.Logf("3,000 grains per member %v; crashing one holding %d", per, len(its))
		store.mu.Lock()
		store.crashed = dead.ActorSystem.ID
		store.mu.Unlock()
		start = time.Now()
		dead.Shutdown(false)
		agent.DeregisterService(dead.ActorSystem.ID)
		call(members[1:], its)
		b.ReportMetric(time.Since(start).Seconds(), "failover-s")
	}
}
