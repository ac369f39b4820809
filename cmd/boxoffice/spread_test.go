package main

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/cluster"
)

// TestSpreadProcs is the long version of the placement-spread test (`make
// spread`, not `make test`): three nodes as child processes, as `make
// cluster N=3` runs them, BOXOFFICE_SPREAD_EVENTS active events (300 by
// the target) activated through the nodes in turn. It prints the events per
// node and asks the busiest to hold at most ceil(1.15 x mean). Then it
// kills -9 the busiest node, waits until each of its events runs on a
// survivor, restarts it on the same addresses and prints how many events
// it pulled back (the bounded placement keeps active events where they
// are: none). The short version is ./cluster's TestPlacementSpread.
func TestSpreadProcs(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BOXOFFICE_SPREAD_EVENTS"))
	if n <= 0 {
		t.Skip("set BOXOFFICE_SPREAD_EVENTS (make spread) to measure placement on a real cluster")
	}
	pc := startProcCluster(t, 3)
	events := seedSmall(t, pc.DB, n)
	admin := pc.Nodes[0].client().token(t, "admin@example.com", "admin")
	start := time.Now()
	owner := placeAll(t, pc, admin, events, nil)
	counts := countBy(owner)
	bound := cluster.Bound(n, len(pc.Nodes), cluster.DefaultPlacementLoad)
	fmt.Printf("spread: %d active events on %d nodes (activated in %s): %s; bound ceil(1.15 x %.1f) = %d\n",
		n, len(pc.Nodes), time.Since(start).Round(time.Millisecond), table(counts), float64(n)/float64(len(pc.Nodes)), bound)
	busiest := ""
	for _, nd := range pc.Nodes {
		if busiest == "" || counts[nd.Name] > counts[busiest] {
			busiest = nd.Name
		}
	}
	if counts[busiest] > bound {
		t.Errorf("busiest node %s holds %d events, bound %d", busiest, counts[busiest], bound)
	}

	var victim *procNode
	for _, nd := range pc.Nodes {
		if nd.Name == busiest {
			victim = nd
		}
	}
	victim.kill()
	killed := time.Now()
	owner = placeAll(t, pc, admin, events, victim)
	fmt.Printf("spread: kill -9 of %s: every event served by a survivor after %s: %s\n",
		victim.Name, time.Since(killed).Round(time.Millisecond), table(countBy(owner)))
	victim.restart()
	after := placeAll(t, pc, admin, events, nil)
	back := 0
	for ev, o := range after {
		if o == victim.Name {
			back++
		}
		if o != owner[ev] {
			t.Errorf("event %s moved from %s to %s after %s restarted", ev, owner[ev], o, victim.Name)
		}
	}
	fmt.Printf("spread: %s restarted on the same addresses: %d events moved back; spread %s\n", victim.Name, back, table(countBy(after)))
}

// placeAll asks each event's stats through the nodes in turn (skipping
// gone) until every event answers from a node other than gone, and returns
// where each runs.
func placeAll(t *testing.T, pc *procCluster, admin string, events []string, gone *procNode) map[string]string {
	t.Helper()
	var via []*procNode
	for _, nd := range pc.Nodes {
		if nd != gone {
			via = append(via, nd)
		}
	}
	owner := make(map[string]string, len(events))
	deadline := time.Now().Add(2 * time.Minute)
	for i, ev := range events {
		for {
			s, code := statsOf(t, via[i%len(via)].client(), admin, ev)
			if code == http.StatusOK && s.NodeID != "" && (gone == nil || s.NodeID != gone.Name) {
				owner[ev] = s.NodeID
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s: stats %d %+v", ev, code, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return owner
}

func countBy(owner map[string]string) map[string]int {
	c := map[string]int{}
	for _, o := range owner {
		c[o]++
	}
	return c
}

func table(c map[string]int) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(c)) {
		s += fmt.Sprintf("%s=%d ", k, c[k])
	}
	return s
}
