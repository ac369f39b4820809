package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// clusterSecret is shared by every node of a test cluster, so a token
// minted by one node is accepted by all.
const clusterSecret = "cluster-test-secret-0123456789abcdef"

// testCluster is n in-process nodes on one database.
type testCluster struct {
	nodes []*testNode
	// opts[i] configures node i (name, seeds, NATS route port and routes),
	// for restarting it.
	opts []nodeOption
}

// startCluster starts n in-process nodes on one database, joined by real
// memberlist gossip on loopback (fast timings) and by NATS routes between
// their embedded NATS servers. They start at once and every node lists the
// others as seeds (fixed gossip ports): a clustered JetStream needs a quorum
// of its servers up before the first node can create its stream.
//
// The ports were free when picked but the nodes bind them later, so another
// process can take one in between: then the whole cluster (whose members
// know each other's addresses) starts again on new ports, a few times.
//
// each, if given, adjusts node i's configuration (a tracer of its own).
func startCluster(t *testing.T, n int, each ...func(i int, c *Config)) *testCluster {
	t.Helper()
	db := pgtest.NewDB(t)
	const attempts = 3
	for attempt := 1; ; attempt++ {
		tc, err := tryStartCluster(t, db, n, each...)
		if err == nil {
			return tc
		}
		if attempt == attempts {
			t.Fatalf("cluster of %d did not start in %d attempts: %v", n, attempts, err)
		}
		t.Logf("cluster of %d, attempt %d: %v; starting again on new ports", n, attempt, err)
	}
}

// tryStartCluster is one attempt of startCluster: on an error the nodes it
// started are closed.
func tryStartCluster(t *testing.T, db string, n int, each ...func(i int, c *Config)) (*testCluster, error) {
	t.Helper()
	ports := freePorts(t, 2*n)
	gossip, routes := make([]string, n), make([]string, n)
	for i := range n {
		gossip[i] = fmt.Sprintf("127.0.0.1:%d", ports[2*i])
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[2*i+1])
	}
	tc := &testCluster{nodes: make([]*testNode, n), opts: make([]nodeOption, n)}
	cfgs := make([]Config, n)
	for i := range n {
		tc.opts[i] = clusterMember(fmt.Sprintf("node-%d", i+1), others(gossip, i), ports[2*i+1], others(routes, i))
		cfgs[i] = testNodeConfig(t, db, tc.opts[i], func(c *Config) { c.GossipAddr = gossip[i] })
		for _, f := range each {
			f(i, &cfgs[i])
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			nd, err := startNode(ctx, cfgs[i], newLogger(io.Discard, "error"))
			if err != nil {
				errs[i] = fmt.Errorf("start node-%d: %w", i+1, err)
				return
			}
			tc.nodes[i] = &testNode{node: nd, URL: nd.URL(), DB: db}
		}()
	}
	wg.Wait()
	for _, nd := range tc.nodes {
		if nd != nil {
			t.Cleanup(nd.Close)
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, nd := range tc.nodes {
			if nd != nil {
				nd.Close()
			}
		}
		return nil, fmt.Errorf("gossip %v, NATS cluster ports %v: %w", gossip, routes, err)
	}
	for _, nd := range tc.nodes {
		require.Eventually(t, func() bool {
			return len(nd.cluster.Members()) == n && nd.cluster.Joined()
		}, 10*time.Second, 25*time.Millisecond, nd.name+" sees every member")
	}
	return tc, nil
}

// restartMember starts node i of tc again (after it was closed) on the
// same NATS cluster port, which its peers route to. The port was freed by
// the close, so another process can take it meanwhile: restartMember waits
// (bounded) until it is free and retries a failed start a few times,
// failing the test with what happened.
func (tc *testCluster) restartMember(t *testing.T, i int, db string) *testNode {
	t.Helper()
	var probe Config
	tc.opts[i](&probe)
	port := probe.NATSClusterPort
	const attempts = 5
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		waitPortFree(t, port, 30*time.Second)
		cfg := testNodeConfig(t, db, tc.opts[i])
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var nd *node
		nd, err = startNode(ctx, cfg, newLogger(io.Discard, "error"))
		cancel()
		if err == nil {
			t.Cleanup(nd.Close)
			return &testNode{node: nd, URL: nd.URL(), DB: db}
		}
		t.Logf("restart of %s, attempt %d: %v", probe.NodeID, attempt, err)
	}
	t.Fatalf("%s did not restart on NATS cluster port %d in %d attempts: %v", probe.NodeID, port, attempts, err)
	return nil
}

// waitPortFree waits until no one holds the loopback TCP port, failing the
// test after within.
func waitPortFree(t *testing.T, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d still taken %s after its node closed (another process took it): %v", port, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterMember configures one node of a test cluster.
func clusterMember(name string, join []string, natsClusterPort int, routes []string) nodeOption {
	return func(c *Config) {
		c.NodeID, c.Join, c.GossipTimings, c.JWTSecret = name, join, "fast", clusterSecret
		c.NATSClusterPort, c.NATSRoutes = natsClusterPort, routes
		c.HoldTTL = time.Minute
	}
}

// clusterJSONReply is GET /admin/api/cluster.
type clusterJSONReply struct {
	Nodes []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Actors int    `json:"actors"`
	} `json:"nodes"`
	Placements []struct {
		EventID string `json:"event_id"`
		NodeID  string `json:"node_id"`
	} `json:"placements"`
}

// TestClusterPlacementRoutingAndDeltas runs three nodes: events spread over
// them, every node reports the same owner of an event (the admin views
// agree with each other), a reserve sent to a node that does not own the
// event reaches the owner, and a WebSocket client on a third node sees the
// owner's deltas gap-free and in order.
func TestClusterPlacementRoutingAndDeltas(t *testing.T) {
	tc := startCluster(t, 3)
	nodes := tc.nodes
	events := seedSmall(t, nodes[0].DB, 12)
	admin := nodes[0].token(t, "admin@example.com", "admin")

	owner := map[string]string{}
	for i, ev := range events {
		s, code := statsOf(t, nodes[i%3], admin, ev)
		if code != http.StatusOK || s.NodeID == "" {
			t.Fatalf("GET /admin/api/events/%s: %d %+v", ev, code, s)
		}
		owner[ev] = s.NodeID
	}
	used := map[string]int{}
	for _, o := range owner {
		used[o]++
	}
	t.Logf("placement of 12 events: %v", used)
	if len(used) < 2 {
		t.Errorf("all 12 events on %v: placement does not spread", used)
	}
	for _, ev := range events {
		for _, nd := range nodes {
			if s, _ := statsOf(t, nd, admin, ev); s.NodeID != owner[ev] {
				t.Errorf("event %s: %s says node %q, first answer was %q", ev, nd.name, s.NodeID, owner[ev])
			}
		}
	}
	for _, nd := range nodes {
		var cl clusterJSONReply
		if code := nd.call(t, http.MethodGet, "/admin/api/cluster", admin, nil, &cl); code != http.StatusOK {
			t.Fatalf("GET /admin/api/cluster on %s: %d", nd.name, code)
		}
		if len(cl.Nodes) != 3 {
			t.Errorf("%s lists %d nodes, want 3: %+v", nd.name, len(cl.Nodes), cl.Nodes)
		}
		actors := 0
		for _, m := range cl.Nodes {
			actors += m.Actors
			if m.Status != "alive" {
				t.Errorf("%s says %s is %s", nd.name, m.ID, m.Status)
			}
		}
		placed := map[string]string{}
		for _, p := range cl.Placements {
			placed[p.EventID] = p.NodeID
		}
		for _, ev := range events {
			if placed[ev] != owner[ev] {
				t.Errorf("%s places event %s on %q, its stats say %q", nd.name, ev, placed[ev], owner[ev])
			}
		}
		if actors != len(events) {
			t.Errorf("%s counts %d actors, want %d", nd.name, actors, len(events))
		}
	}

	// An event owned by some node A; B watches, C writes.
	ev := events[0]
	var a, b, c *testNode
	for _, nd := range nodes {
		if nd.name == owner[ev] {
			a = nd
		} else if b == nil {
			b = nd
		} else {
			c = nd
		}
	}
	w := watch(t, b, ev)
	tickets := ticketsOf(t, c, ev)
	for i := range 30 {
		// A writer per hold: max_tickets_per_user (10) bounds each one.
		tok := c.token(t, fmt.Sprintf("writer-%d@example.com", i))
		var held struct {
			BookingID string `json:"booking_id"`
		}
		code := c.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": tickets[2*i : 2*i+2]}, &held)
		if code != http.StatusCreated {
			t.Fatalf("reserve %d through %s (owner %s): %d", i, c.name, a.name, code)
		}
		if i%3 == 0 {
			if code := c.call(t, http.MethodDelete, "/booking/"+held.BookingID, tok, nil, nil); code != http.StatusOK {
				t.Fatalf("release through %s: %d", c.name, code)
			}
		}
	}
	var view eventView
	a.call(t, http.MethodGet, "/events/"+ev, "", nil, &view)
	if s, _ := statsOf(t, c, admin, ev); s.NodeID != a.name || s.Version != view.Version {
		t.Fatalf("after writes through %s: stats %+v, want node %s at version %d", c.name, s, a.name, view.Version)
	}
	require.Eventually(t, func() bool {
		return w.version() >= view.Version
	}, 5*time.Second, 25*time.Millisecond, fmt.Sprintf("the watcher on %s reaches version %d", b.name, view.Version))
	if err := w.check(view); err != nil {
		t.Errorf("watcher on %s of an event owned by %s: %v", b.name, a.name, err)
	}
}

// TestClusterPartitionFencesStaleOwner cuts the owner of an event off the
// gossip: the other two declare it dead and re-activate the event with a
// new epoch. The cut-off node's actor still runs with the old epoch; its
// next write is refused (503, never a sale), nothing is sold twice, and
// once the partition heals the node learns it was declared dead. A fresh
// process under the same name then joins and serves.
func TestClusterPartitionFencesStaleOwner(t *testing.T) {
	tc := startCluster(t, 3)
	nodes := tc.nodes
	events := seedSmall(t, nodes[0].DB, 3)
	ev := events[0]
	admin := nodes[0].token(t, "admin@example.com", "admin")
	s, _ := statsOf(t, nodes[0], admin, ev)
	var a *testNode
	var ai int
	var rest []*testNode
	for i, nd := range nodes {
		if nd.name == s.NodeID {
			a, ai = nd, i
		} else {
			rest = append(rest, nd)
		}
	}
	tickets := ticketsOf(t, a, ev)
	alice, bob := a.token(t, "alice@example.com"), a.token(t, "bob@example.com")
	reserve := func(n *testNode, tok string, ids ...string) int {
		return n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": ids}, nil)
	}
	if code := reserve(a, alice, tickets[0]); code != http.StatusCreated {
		t.Fatalf("reserve on the owner %s: %d", a.name, code)
	}
	epoch0 := ownerEpoch(t, a.DB, ev)

	a.cluster.PartitionGossip(true)
	b := rest[0]
	require.Eventually(t, func() bool {
		st, code := statsOf(t, b, admin, ev)
		return code == http.StatusOK && st.NodeID != a.name && st.NodeID != ""
	}, 15*time.Second, 25*time.Millisecond, "the event moves off the partitioned "+a.name)
	if e := ownerEpoch(t, a.DB, ev); e <= epoch0 {
		t.Fatalf("epoch %d after the move, was %d: the survivor did not take ownership", e, epoch0)
	}
	if code := reserve(b, bob, tickets[1]); code != http.StatusCreated {
		t.Fatalf("reserve on the survivor %s: %d", b.name, code)
	}
	// The stale actor on a has not heard of the move: its write is fenced.
	if code := reserve(a, bob, tickets[2]); code != http.StatusServiceUnavailable {
		t.Errorf("write through the stale owner %s: %d, want 503 (fenced by the epoch)", a.name, code)
	}
	// Whoever serves next loads from PostgreSQL: seats held elsewhere stay taken.
	for _, nd := range nodes {
		if code := reserve(nd, bob, tickets[0]); code == http.StatusCreated {
			t.Errorf("ticket 0 (held by alice) sold again through %s", nd.name)
		}
	}
	assertNoViolations(t, a.DB, nil)

	a.cluster.PartitionGossip(false)
	select {
	case <-a.dead:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s was declared dead by its peers but was not told within 20s", a.name)
	}
	for _, nd := range rest {
		select {
		case <-nd.dead:
			t.Errorf("%s (majority side) was declared dead too", nd.name)
		default:
		}
	}
	a.Close()
	back := tc.restartMember(t, ai, a.DB)
	require.Eventually(t, func() bool {
		return back.cluster.Joined() && len(b.cluster.Members()) >= 3 && back.cluster.MemberID() != a.cluster.MemberID()
	}, 15*time.Second, 25*time.Millisecond, a.name+" rejoins under a new member id")
	if st, code := statsOf(t, back, admin, ev); code != http.StatusOK {
		t.Fatalf("restarted %s: stats %d %+v", a.name, code, st)
	}
	// While the members converge on the new topology the event may move
	// (503, retry-safe); after that the restarted node takes writes.
	var codes []int
	require.Eventually(t, func() bool {
		code := reserve(back, alice, tickets[3])
		codes = append(codes, code)
		if code != http.StatusCreated && code != http.StatusServiceUnavailable {
			t.Fatalf("reserve through the restarted %s: %d, want 201 or 503", a.name, code)
		}
		return code == http.StatusCreated
	}, 10*time.Second, 25*time.Millisecond, "a reserve through the restarted "+a.name)
	t.Logf("reserve through the restarted %s: %v", a.name, codes)
	assertNoViolations(t, a.DB, nil)
}

// ownerEpoch reads the event's ownership epoch from PostgreSQL.
func ownerEpoch(t testing.TB, db, ev string) int64 {
	t.Helper()
	pool := openPool(t, db)
	var e int64
	if err := pool.QueryRow(context.Background(), `SELECT epoch FROM event_ownership WHERE event_id = $1`, ev).Scan(&e); err != nil {
		t.Fatalf("epoch of %s: %v", ev, err)
	}
	return e
}

func openPool(t testing.TB, db string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// assertNoViolations runs `boxoffice check` against db with a history.
func assertNoViolations(t testing.TB, db string, history []sample) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vs, err := check(ctx, openPool(t, db), history)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, v := range vs {
		t.Errorf("check: %s: %s", v.Kind, v.Detail)
	}
}
