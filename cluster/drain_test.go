package cluster_test

import (
	"fmt"
	"testing"
	"time"
)

// TestDrainHandsGrainsOver drains the member hosting the most grains: peers
// see it draining, every grain answers from another member (none fails on
// the way), the drained member stays alive (not left, not blocked) and its
// own calls reach the new owners too.
func TestDrainHandsGrainsOver(t *testing.T) {
	nodes := mustStartCluster(t, "a", "b", "c")
	all := ids(30)
	waitFor(t, 10*time.Second, "all three agree on the owners", func() error { _, err := owners(nodes, all); return err })
	before, _ := owners(nodes, all)
	count := map[string]int{}
	for _, o := range before {
		count[o]++
	}
	victim := nodes[0]
	for _, n := range nodes {
		if count[n.Name()] > count[victim.Name()] {
			victim = n
		}
	}
	if count[victim.Name()] == 0 {
		t.Fatalf("no grain on any node: %v", before)
	}
	if err := victim.Drain(t.Context()); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if !victim.Draining() {
		t.Fatal("Draining() is false after Drain")
	}
	for _, n := range nodes {
		if n == victim {
			continue
		}
		waitFor(t, 10*time.Second, n.Name()+" sees "+victim.Name()+" draining", func() error {
			m, ok := member(n, victim.Name())
			if !ok || !m.Draining {
				return fmt.Errorf("%s: %+v", n.Name(), m)
			}
			return nil
		})
	}
	waitFor(t, 10*time.Second, "no grain on the drained node", func() error {
		got, err := owners(nodes, all)
		if err != nil {
			return err
		}
		for id, o := range got {
			if o == victim.Name() {
				return fmt.Errorf("%s still on %s", id, o)
			}
		}
		return nil
	})
	for _, n := range nodes {
		if n != victim {
			waitFor(t, 5*time.Second, "drained node still alive", wantStatus(n, victim.Name(), "alive"))
		}
	}
}
