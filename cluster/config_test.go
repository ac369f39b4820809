package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/boxoffice/boxoffice/cluster"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*cluster.Config)
		errHas string // "" means valid
	}{
		{"default", func(*cluster.Config) {}, ""},
		{"test config", func(c *cluster.Config) { *c = testConfig("node-x") }, ""},
		{"empty name", func(c *cluster.Config) { c.NodeName = "" }, "node name"},
		{"name with space", func(c *cluster.Config) { c.NodeName = "node a" }, "node name"},
		{"long name", func(c *cluster.Config) { c.NodeName = strings.Repeat("n", 65) }, "node name"},
		{"gossip addr without port", func(c *cluster.Config) { c.GossipAddr = "127.0.0.1" }, "gossip address"},
		{"gossip port text", func(c *cluster.Config) { c.GossipAddr = "127.0.0.1:abc" }, "gossip address"},
		{"bad advertise", func(c *cluster.Config) { c.Gossip.AdvertiseAddr = "x" }, "advertise"},
		{"gossip host name", func(c *cluster.Config) { c.GossipAddr = "localhost:7946" }, "IP address"},
		{"advertise host name", func(c *cluster.Config) { c.Gossip.AdvertiseAddr = "node-a:7946" }, "IP address"},
		{"gossip all interfaces", func(c *cluster.Config) { c.GossipAddr = "0.0.0.0:7946" }, ""},
		{"kind with slash", func(c *cluster.Config) { c.Kinds = []*pcluster.Kind{newEchoKind("x")}; c.Kinds[0].Kind = "a/b" }, "contains '/'"},
		{"no remote host", func(c *cluster.Config) { c.RemoteHost = "" }, "remote host"},
		{"remote port range", func(c *cluster.Config) { c.RemotePort = 70000 }, "remote port"},
		{"bind elsewhere needs port", func(c *cluster.Config) { c.RemoteBindHost = "0.0.0.0" }, "remote port must be fixed"},
		{"bind elsewhere with port", func(c *cluster.Config) { c.RemoteBindHost, c.RemotePort = "0.0.0.0", 8090 }, ""},
		{"no cluster name", func(c *cluster.Config) { c.ClusterName = "" }, "cluster name"},
		{"zero timeout", func(c *cluster.Config) { c.RequestTimeout = 0 }, "request timeout"},
		{"nil kind", func(c *cluster.Config) { c.Kinds = []*pcluster.Kind{nil} }, "kind 0"},
		{"zero probe interval", func(c *cluster.Config) { c.Gossip.ProbeInterval = 0 }, "probe interval"},
		{"probe timeout too long", func(c *cluster.Config) { c.Gossip.ProbeTimeout = 2 * c.Gossip.ProbeInterval }, "probe timeout"},
		{"suspicion", func(c *cluster.Config) { c.Gossip.SuspicionMult = 0 }, "suspicion"},
		{"sync interval", func(c *cluster.Config) { c.Gossip.SyncInterval = 0 }, "sync interval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cluster.DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			switch {
			case tc.errHas == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tc.errHas)
			}
		})
	}
}

// TestStartFails checks that Start reports unusable configurations as errors
// (Proto.Actor panics on them) and leaves no socket bound behind. The port
// conflict is a listener held open for the whole test, and the other starts
// bind port 0, so no port is freed and then hoped to stay free.
func TestStartFails(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		mutate func(*cluster.Config)
		errHas string
	}{
		{"invalid config", context.Background(), func(c *cluster.Config) { c.NodeName = "" }, "node name"},
		{"cancelled", cancelled, func(*cluster.Config) {}, context.Canceled.Error()},
		{"gossip port taken", context.Background(), func(c *cluster.Config) { c.GossipAddr = taken.Addr().String() }, "bind gossip"},
		{"remote port taken", context.Background(), func(c *cluster.Config) { c.RemotePort = takenPort }, "start member"},
		{"metadata too large", context.Background(), func(c *cluster.Config) {
			c.HTTPAddr = "http://" + strings.Repeat("h", 500)
		}, "metadata"},
	}
	before := boundSockets(t)
	if !slices.ContainsFunc(slices.Collect(maps.Values(before)), func(a string) bool {
		return strings.HasSuffix(a, fmt.Sprintf(":%04X", takenPort))
	}) {
		t.Fatalf("boundSockets misses the test's own listener on port %d: %v", takenPort, before)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("node-x")
			tc.mutate(&cfg)
			n, err := cluster.Start(tc.ctx, cfg)
			if err == nil {
				n.Shutdown(false)
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("Start() = %v, want an error mentioning %q", err, tc.errHas)
			}
			if tc.name == "cancelled" && !errors.Is(err, context.Canceled) {
				t.Fatalf("Start() = %v, want context.Canceled", err)
			}
		})
	}
	// The failed starts released what they bound (gossip's TCP and UDP,
	// the gRPC listener): this process holds no socket it did not before.
	// Some of them close asynchronously (a listener's goroutine), so the
	// check waits for that, with a deadline, instead of racing it.
	leftover := func() []string {
		var left []string
		for inode, addr := range boundSockets(t) {
			if _, ok := before[inode]; !ok {
				left = append(left, addr)
			}
		}
		return left
	}
	deadline := time.Now().Add(15 * time.Second)
	left := leftover()
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left = leftover()
	}
	for _, addr := range left {
		t.Errorf("a failed start left %s bound", addr)
	}
}

// boundSockets returns the listening TCP and bound UDP sockets this
// process holds, by inode: the kernel's socket tables (/proc/self/net)
// joined with the process's file descriptors, so sockets of other
// processes on the machine never count.
func boundSockets(t *testing.T) map[string]string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list file descriptors: %v", err)
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			mine[strings.TrimSuffix(inode, "]")] = true
		}
	}
	bound := map[string]string{}
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile("/proc/self/net/" + proto)
		if err != nil {
			t.Fatalf("read the %s socket table: %v", proto, err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !mine[f[9]] {
				continue
			}
			const listen = "0A" // TCP_LISTEN; a bound UDP socket has no state to check
			if strings.HasPrefix(proto, "tcp") && f[3] != listen {
				continue
			}
			bound[f[9]] = proto + " " + f[1]
		}
	}
	return bound
}

func TestCallOptions(t *testing.T) {
	cfg := &pcluster.GrainCallConfig{}
	for _, o := range cluster.CallOptions(2 * time.Second) {
		o(cfg)
	}
	if cfg.Timeout != 2*time.Second || cfg.RetryCount < 3 {
		t.Fatalf("timeout %v, retries %d", cfg.Timeout, cfg.RetryCount)
	}
	// The pauses between attempts, as RetryAction asks for them (the
	// library's default is nanoseconds): quadratic, capped at 500 ms and
	// at a quarter of the timeout.
	cases := []struct {
		timeout time.Duration
		attempt int
		pause   time.Duration
	}{
		{2 * time.Second, 0, 25 * time.Millisecond},
		{2 * time.Second, 1, 100 * time.Millisecond},
		{2 * time.Second, 2, 225 * time.Millisecond},
		{2 * time.Second, 5, 500 * time.Millisecond},
		{2 * time.Second, 50, 500 * time.Millisecond},
		{400 * time.Millisecond, 2, 100 * time.Millisecond},
	}
	for _, c := range cases {
		var paused []time.Duration
		cfg := &pcluster.GrainCallConfig{}
		for _, o := range cluster.CallOptionsSleeping(c.timeout, func(d time.Duration) { paused = append(paused, d) }) {
			o(cfg)
		}
		if got := cfg.RetryAction(c.attempt); got != c.attempt+1 {
			t.Errorf("timeout %v: RetryAction(%d) = %d, want %d", c.timeout, c.attempt, got, c.attempt+1)
		}
		if len(paused) != 1 || paused[0] != c.pause {
			t.Errorf("timeout %v: RetryAction(%d) paused %v, want once %v", c.timeout, c.attempt, paused, c.pause)
		}
	}
}
