package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster"
)

// BenchmarkRequest measures one grain request round trip with CallOptions:
// to a grain on the calling node, and to a grain on another node over gRPC
// (loopback). Both grains are already active.
func BenchmarkRequest(b *testing.B) {
	nodes := mustStartCluster(b, "node-a", "node-b")
	a := nodes[0]
	var local, remote string
	waitFor(b, 10*time.Second, "a local and a remote grain", func() error {
		local, remote = "", ""
		for i := range 100 {
			id := fmt.Sprintf("bench-%d", i)
			owner, err := ask(a, id, time.Second)
			if err != nil {
				return err
			}
			if owner == a.Name() && local == "" {
				local = id
			}
			if owner != a.Name() && remote == "" {
				remote = id
			}
		}
		if local == "" || remote == "" {
			return fmt.Errorf("local %q remote %q", local, remote)
		}
		return nil
	})
	for _, bc := range []struct{ name, id string }{{"local", local}, {"remote", remote}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ask(a, bc.id, 2*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ask(a, bc.id, 2*time.Second); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkMembers measures the admin view, read on every dashboard refresh.
func BenchmarkMembers(b *testing.B) {
	nodes := mustStartCluster(b, "node-a", "node-b", "node-c")
	waitFor(b, 5*time.Second, "3 members", func() error {
		if n := len(nodes[0].Members()); n != 3 {
			return fmt.Errorf("%d members", n)
		}
		return nil
	})
	for b.Loop() {
		_ = nodes[0].Members()
		_ = nodes[0].NameOf(nodes[1].ActorAddr())
	}
}

// BenchmarkCallOptions measures building the options of one call.
func BenchmarkCallOptions(b *testing.B) {
	for b.Loop() {
		_ = cluster.CallOptions(2 * time.Second)
	}
}
