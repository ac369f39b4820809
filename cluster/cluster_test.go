package cluster_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster"
)

// TestMembersShowMetadata checks that every node sees every other with the
// metadata it gossips.
func TestMembersShowMetadata(t *testing.T) {
	before := time.Now().Add(-time.Second)
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	for _, observer := range nodes {
		waitFor(t, 5*time.Second, observer.Name()+" sees all members", func() error {
			ms := observer.Members()
			if len(ms) != len(nodes) {
				return fmt.Errorf("%d members: %+v", len(ms), ms)
			}
			for i, n := range nodes {
				m := ms[i] // sorted by name, and nodes are in name order
				want := cluster.MemberInfo{Name: n.Name(), MemberID: n.MemberID(), GossipAddr: n.GossipAddr(),
					ActorAddr: n.ActorAddr(), HTTPAddr: "http://" + n.Name() + ".test:8080",
					StartedAt: m.StartedAt, Status: cluster.StatusAlive, Kinds: m.Kinds, Self: n == observer}
				if !slices.Contains(m.Kinds, echoKind) {
					return fmt.Errorf("%s kinds %v lack %q", m.Name, m.Kinds, echoKind)
				}
				if m.StartedAt.Before(before) || m.StartedAt.After(time.Now()) {
					return fmt.Errorf("%s started at %v, test began at %v", m.Name, m.StartedAt, before)
				}
				if !reflect.DeepEqual(m, want) {
					return fmt.Errorf("got %+v, want %+v", m, want)
				}
			}
			return nil
		})
		if !observer.Joined() {
			t.Errorf("%s: Joined() = false", observer.Name())
		}
	}
	if err := nodes[1].SetHTTPAddr("http://127.0.0.1:9999"); err != nil {
		t.Fatalf("SetHTTPAddr: %v", err)
	}
	waitFor(t, 5*time.Second, "new HTTP address gossiped", func() error {
		if m, _ := member(nodes[0], "node-b"); m.HTTPAddr != "http://127.0.0.1:9999" {
			return fmt.Errorf("node-a sees node-b HTTP address %q", m.HTTPAddr)
		}
		return nil
	})
}

// TestPlacementFailoverAndRestart walks one cluster through its life: grains
// spread by identity, any node reaches the owner, a graceful leave and a
// crash move grains to survivors, and a restarted node rejoins under a new
// member id.
func TestPlacementFailoverAndRestart(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b", "node-c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	keys := ids(60)

	var placed map[string]string
	waitFor(t, 10*time.Second, "all nodes agree on placement", func() (err error) {
		placed, err = owners(nodes, keys)
		return err
	})
	for _, n := range nodes {
		if got := countOwned(placed, n.Name()); got == 0 {
			t.Fatalf("%s owns no grain of %d: %v", n.Name(), len(keys), placed)
		}
	}
	for _, id := range keys[:10] {
		pid := a.Cluster().Get(id, echoKind)
		if pid == nil {
			t.Fatalf("Get(%s) = nil", id)
		}
		if got := a.NameOf(pid.Address); got != placed[id] {
			t.Errorf("NameOf(%s) = %q, want owner %q", pid.Address, got, placed[id])
		}
	}

	// Graceful leave: node-c's grains move to the survivors.
	movedAway(t, "graceful leave", placed, "node-c", func() { c.Shutdown(true) }, a, b)
	waitFor(t, 5*time.Second, "node-c listed as left", wantStatus(a, "node-c", cluster.StatusLeft))

	// Restart under the same name: new member id, rejoins, hosts grains again.
	c2 := mustStart(t, "node-c", a.GossipAddr())
	if c2.MemberID() == c.MemberID() {
		t.Fatalf("restarted node kept member id %s", c.MemberID())
	}
	waitFor(t, 5*time.Second, "restarted node-c alive", func() error {
		m, ok := member(a, "node-c")
		if !ok || m.Status != cluster.StatusAlive || m.MemberID != c2.MemberID() {
			return fmt.Errorf("node-a sees %+v, want member id %s alive", m, c2.MemberID())
		}
		return nil
	})
	nodes = []*cluster.Node{a, b, c2}
	waitFor(t, 10*time.Second, "restarted node-c hosts grains", func() (err error) {
		if placed, err = owners(nodes, keys); err != nil {
			return err
		}
		if countOwned(placed, "node-c") == 0 {
			return fmt.Errorf("node-c owns nothing")
		}
		return nil
	})

	// Crash: no leave, gossip and gRPC just stop.
	movedAway(t, "crash", placed, "node-c", func() { c2.Shutdown(false) }, a, b)
	waitFor(t, 5*time.Second, "node-c listed as dead", wantStatus(a, "node-c", cluster.StatusDead))
	for _, n := range []*cluster.Node{a, b} {
		if isClosed(n.Dead()) {
			t.Errorf("%s: Dead() closed, but nobody declared it dead", n.Name())
		}
	}
}

// movedAway stops the node called gone and waits until every grain it owned
// answers from a survivor, through every survivor.
func movedAway(t *testing.T, what string, placed map[string]string, gone string, stop func(), survivors ...*cluster.Node) {
	t.Helper()
	var its []string
	for id, owner := range placed {
		if owner == gone {
			its = append(its, id)
		}
	}
	start := time.Now()
	stop()
	waitFor(t, 10*time.Second, what+": grains re-activated on survivors", func() error {
		got, err := owners(survivors, its)
		if err != nil {
			return err
		}
		for id, owner := range got {
			if owner == gone {
				return fmt.Errorf("%s still answered by %s", id, gone)
			}
		}
		return nil
	})
	t.Logf("%s: %d grains of %s answered by survivors %v after the stop began", what, len(its), gone, time.Since(start).Round(10*time.Millisecond))
}

func countOwned(placed map[string]string, name string) int {
	n := 0
	for _, owner := range placed {
		if owner == name {
			n++
		}
	}
	return n
}
