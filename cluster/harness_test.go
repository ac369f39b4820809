package cluster_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/boxoffice/boxoffice/cluster"
)

// echoKind is the test grain kind. Cross-node messages must be protobuf, so
// it takes and returns wrapperspb.StringValue: the reply names the node that
// hosts the activation. A message starting with "hang" gets no reply, as
// one whose node crashes while serving it; its arrival is told to hangs.
const echoKind = "echo"

// hangs maps a "hang..." message value to a channel closed when a grain
// received it, so tests know a call was delivered instead of sleeping.
var hangs sync.Map // string -> *hangSignal

type hangSignal struct {
	once sync.Once
	ch   chan struct{}
}

func hangFor(value string) *hangSignal {
	h, _ := hangs.LoadOrStore(value, &hangSignal{ch: make(chan struct{})})
	return h.(*hangSignal)
}

// hangDelivered returns the channel closed once a grain received value.
func hangDelivered(value string) <-chan struct{} { return hangFor(value).ch }

type echoGrain struct{ node string }

func (g *echoGrain) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*wrapperspb.StringValue)
	if !ok {
		return
	}
	if strings.HasPrefix(m.Value, "hang") {
		h := hangFor(m.Value)
		h.once.Do(func() { close(h.ch) })
		return
	}
	ctx.Respond(wrapperspb.String(g.node))
}

func newEchoKind(node string) *pcluster.Kind {
	return pcluster.NewKind(echoKind, actor.PropsFromProducer(func() actor.Actor { return &echoGrain{node: node} }))
}

// testLogger discards logs unless BOXOFFICE_TEST_LOG is set (nodes log from
// their own goroutines, possibly after the test ended, so not via t.Log).
func testLogger() *slog.Logger {
	if os.Getenv("BOXOFFICE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a loopback node with random ports and shrunk gossip timings.
func testConfig(name string, seeds ...string) cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.NodeName = name
	cfg.GossipAddr = "127.0.0.1:0"
	cfg.Join = seeds
	cfg.HTTPAddr = "http://" + name + ".test:8080"
	cfg.Kinds = []*pcluster.Kind{newEchoKind(name)}
	cfg.RequestTimeout = 2 * time.Second
	cfg.Logger = testLogger()
	cfg.Gossip = cluster.FastGossipConfig()
	return cfg
}

// mustStart starts a node that is killed (not gracefully stopped, which
// takes seconds) when the test ends, unless the test stopped it first.
func mustStart(tb testing.TB, name string, seeds ...string) *cluster.Node {
	tb.Helper()
	n, err := cluster.Start(tb.Context(), testConfig(name, seeds...))
	if err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	tb.Cleanup(func() { n.Shutdown(false) })
	return n
}

// mustStartCluster starts the first name, then the others in parallel
// (each start takes about a second), all joining the first.
func mustStartCluster(tb testing.TB, names ...string) []*cluster.Node {
	tb.Helper()
	nodes := make([]*cluster.Node, len(names))
	nodes[0] = mustStart(tb, names[0])
	seed := nodes[0].GossipAddr()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i := 1; i < len(names); i++ {
		wg.Go(func() {
			cfg := testConfig(names[i], seed)
			nodes[i], errs[i] = cluster.Start(tb.Context(), cfg)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("start %s: %v", names[i], err)
		}
		if n := nodes[i]; n != nil {
			tb.Cleanup(func() { n.Shutdown(false) })
		}
	}
	return nodes
}

// ask sends one echo request through n and returns the hosting node's name.
func ask(n *cluster.Node, id string, timeout time.Duration) (string, error) {
	res, err := n.Cluster().Request(id, echoKind, wrapperspb.String(id), cluster.CallOptions(timeout)...)
	if err != nil {
		return "", err
	}
	sv, ok := res.(*wrapperspb.StringValue)
	if !ok {
		return "", fmt.Errorf("reply %T, want *wrapperspb.StringValue", res)
	}
	return sv.Value, nil
}

// owners asks every id through every node and returns the owner of each id,
// or an error unless all nodes got an answer and agree.
func owners(nodes []*cluster.Node, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		for _, n := range nodes {
			got, err := ask(n, id, 500*time.Millisecond)
			if err != nil {
				return nil, fmt.Errorf("%s via %s: %w", id, n.Name(), err)
			}
			if prev, ok := out[id]; ok && prev != got {
				return nil, fmt.Errorf("%s: %s says owner %s, another node says %s", id, n.Name(), got, prev)
			}
			out[id] = got
		}
	}
	return out, nil
}

// waitFor polls fn until it returns nil or the deadline passes.
func waitFor(tb testing.TB, within time.Duration, what string, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// member finds the entry of a node name in n's view.
func member(n *cluster.Node, name string) (cluster.MemberInfo, bool) {
	for _, m := range n.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return cluster.MemberInfo{}, false
}

// wantStatus is a waitFor condition: observer sees name with status.
func wantStatus(observer *cluster.Node, name string, status cluster.Status) func() error {
	return func() error {
		m, ok := member(observer, name)
		if !ok {
			return fmt.Errorf("%s does not list %s", observer.Name(), name)
		}
		if m.Status != status {
			return fmt.Errorf("%s sees %s as %s, want %s", observer.Name(), name, m.Status, status)
		}
		return nil
	}
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("event-%03d", i)
	}
	return out
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
