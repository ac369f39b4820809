package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// childEnv marks a copy of the test binary that runs `boxoffice serve`
// instead of tests: cluster tests start nodes as real child processes so
// they can kill -9 them (in-process nodes cannot die without the test).
const childEnv = "BOXOFFICE_TEST_CHILD"

// init runs before TestMain, so a child never starts PostgreSQL or runs
// tests: it serves until SIGTERM, exits 1 when its peers declare it dead,
// and is killed with the test binary (Pdeathsig).
func init() {
	if os.Getenv(childEnv) != "serve" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, []string{"serve"}, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "boxoffice:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// procNode is one boxoffice node running as a child process on fixed
// loopback ports, so that it comes back on the same addresses after a
// kill -9 and a restart.
type procNode struct {
	t      testing.TB
	Name   string
	URL    string
	Gossip string
	env    []string
	logf   *os.File
	ports  []int // TCP ports its process binds; Gossip's port also for UDP

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// procCluster is n child-process nodes on one database, joined by gossip
// and by NATS routes between their embedded NATS servers. Their logs go to
// the test's temp dir, or to BOXOFFICE_TEST_LOGS when set (kept).
type procCluster struct {
	DB    string
	Nodes []*procNode
}

// freePorts returns n distinct loopback ports that were free for TCP and
// UDP (gossip binds both) a moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var hold []io.Closer
	defer func() {
		for _, c := range hold {
			c.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		hold = append(hold, l)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		hold = append(hold, u)
		out = append(out, port)
	}
	return out
}

// startProcCluster starts n nodes at once on a fresh database (they migrate
// it themselves) and waits until every one is ready.
func startProcCluster(t testing.TB, n int) *procCluster {
	t.Helper()
	return startProcClusterOn(t, pgtest.NewDB(t), n)
}

// startProcClusterOn starts n nodes on db; extraEnv (NAME=value) is added
// to every node's environment, after the defaults, so it wins.
func startProcClusterOn(t testing.TB, db string, n int, extraEnv ...string) *procCluster {
	t.Helper()
	// The ports were free when picked but the children bind them later, so
	// another process can take one in between: then the whole cluster
	// (whose members know each other's addresses) starts again on new ones.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		pc, err := tryStartProcCluster(t, db, n, attempt, extraEnv...)
		if err == nil {
			return pc
		}
		if attempt == attempts {
			t.Fatalf("cluster of %d did not start in %d attempts: %v", n, attempts, err)
		}
		t.Logf("cluster of %d, attempt %d: %v; starting again on new ports", n, attempt, err)
	}
}

// errPortTaken marks a child that exited because an address it was given
// was in use.
var errPortTaken = errors.New("address already in use")

// tryStartProcCluster is one attempt of startProcClusterOn; it returns an
// error wrapping errPortTaken (with the nodes of the attempt killed) when
// a child could not bind its ports, and fails the test on any other error.
func tryStartProcCluster(t testing.TB, db string, n, attempt int, extraEnv ...string) (*procCluster, error) {
	t.Helper()
	ports := freePorts(t, 5*n)
	pc := &procCluster{DB: db}
	gossip := make([]string, n)
	routes := make([]string, n)
	for i := range n {
		gossip[i] = fmt.Sprintf("127.0.0.1:%d", ports[5*i+1])
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[5*i+4])
	}
	dir := t.TempDir()
	logDir := dir
	if d := os.Getenv("BOXOFFICE_TEST_LOGS"); d != "" {
		logDir = d // keep the nodes' logs after the test
	}
	for i := range n {
		p := ports[5*i : 5*i+5]
		name := fmt.Sprintf("node-%d", i+1)
		logName := name + ".log"
		if attempt > 1 {
			logName = fmt.Sprintf("%s.attempt%d.log", name, attempt)
		}
		logf, err := os.Create(filepath.Join(logDir, logName))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		nd := &procNode{t: t, Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d", p[0]), Gossip: gossip[i], logf: logf,
			ports: []int{p[0], p[1], p[2], p[3]}}
		nd.env = append(os.Environ(),
			childEnv+"=serve",
			"BOXOFFICE_DATABASE_URL="+db,
			"BOXOFFICE_MODE=dev",
			"BOXOFFICE_JWT_SECRET=cluster-test-secret-0123456789abcdef", // one secret: tokens work on every node
			"BOXOFFICE_NODE_ID="+name,
			fmt.Sprintf("BOXOFFICE_ADDR=127.0.0.1:%d", p[0]),
			"BOXOFFICE_GOSSIP_ADDR="+gossip[i],
			"BOXOFFICE_GOSSIP_TIMINGS=fast",
			fmt.Sprintf("BOXOFFICE_ACTOR_ADDR=127.0.0.1:%d", p[2]),
			fmt.Sprintf("BOXOFFICE_NATS_PORT=%d", p[3]),
			"BOXOFFICE_JOIN="+strings.Join(others(gossip, i), ","),
			"BOXOFFICE_DATA_DIR="+filepath.Join(dir, name),
			"BOXOFFICE_RATE_IP=0", "BOXOFFICE_RATE_USER=0",
			"BOXOFFICE_WS_MAX_PER_IP=0", "BOXOFFICE_WS_MAX=0", // loopback socket load
			"BOXOFFICE_HOLD_TTL=30s",
			"BOXOFFICE_LOG_LEVEL=info",
		)
		if n > 1 { // a NATS cluster of one has no JetStream quorum
			nd.env = append(nd.env, fmt.Sprintf("BOXOFFICE_NATS_CLUSTER_PORT=%d", p[4]),
				"BOXOFFICE_NATS_ROUTES="+strings.Join(others(routes, i), ","))
			nd.ports = append(nd.ports, p[4])
		}
		nd.env = append(nd.env, extraEnv...)
		pc.Nodes = append(pc.Nodes, nd)
	}
	t.Cleanup(func() {
		for _, nd := range pc.Nodes {
			nd.kill()
		}
		if t.Failed() {
			for _, nd := range pc.Nodes {
				nd.dumpLog()
			}
		}
	})
	for _, nd := range pc.Nodes {
		nd.start()
	}
	for _, nd := range pc.Nodes {
		if err := nd.waitReadyOrPortTaken(60 * time.Second); err != nil {
			for _, nd := range pc.Nodes {
				nd.kill()
			}
			return nil, err
		}
	}
	return pc, nil
}

func others(all []string, skip int) []string {
	var out []string
	for i, s := range all {
		if i != skip {
			out = append(out, s)
		}
	}
	return out
}

// start launches the node's process; it dies with the test binary.
func (p *procNode) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(os.Args[0])
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.logf, p.logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(p.logf, startMarker+"%s at %s\n", p.Name, time.Now().UTC().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.err = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
}

// ready reports whether GET /readyz answers 200.
func (p *procNode) ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(p.URL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitReady waits for /readyz, failing the test if the process exits first.
func (p *procNode) waitReady(within time.Duration) {
	p.t.Helper()
	if err := p.waitReadyOrPortTaken(within); err != nil {
		p.dumpLog()
		p.t.Fatalf("%v", err)
	}
}

// waitReadyOrPortTaken waits for /readyz. It returns an error wrapping
// errPortTaken when the process exited because an address it was given
// was in use (its log since this start says so), and fails the test on
// any other exit or when the process is not ready within the deadline.
func (p *procNode) waitReadyOrPortTaken(within time.Duration) error {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !p.ready() {
		select {
		case <-p.done():
			if p.logSinceStart(portTakenSigns...) {
				return fmt.Errorf("%s exited before it was ready (%v): one of its ports %v was taken: %w", p.Name, p.exitErr(), p.ports, errPortTaken)
			}
			p.dumpLog()
			p.t.Fatalf("%s exited before it was ready: %v", p.Name, p.exitErr())
		default:
		}
		if time.Now().After(deadline) {
			p.dumpLog()
			p.t.Fatalf("%s not ready within %s", p.Name, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// startMarker opens each start's section of the node's log.
const startMarker = "=== test: starting "

// portTakenSigns are what a child logs when it cannot bind an address:
// the kernel's error (HTTP, gossip, actor remoting) and the bus's own for
// an embedded NATS server that did not start.
var portTakenSigns = []string{"address already in use", "(port in use?"}

// logSinceStart reports whether the node's log since its last start
// contains one of texts.
func (p *procNode) logSinceStart(texts ...string) bool {
	b, err := os.ReadFile(p.logf.Name())
	if err != nil {
		return false
	}
	if i := bytes.LastIndex(b, []byte(startMarker)); i >= 0 {
		b = b[i:]
	}
	for _, text := range texts {
		if bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}

// takenPort returns a description of the first of the node's ports that
// another process holds now ("" when all are free). The probe binds and
// closes each one, as the restarted process will.
func (p *procNode) takenPort() string {
	for _, port := range p.ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Sprintf("tcp port %d: %v", port, err)
		}
		l.Close()
	}
	u, err := net.ListenPacket("udp", p.Gossip)
	if err != nil {
		return fmt.Sprintf("udp %s (gossip): %v", p.Gossip, err)
	}
	u.Close()
	return ""
}

func (p *procNode) done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

func (p *procNode) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// signal sends sig to the running process (no-op when it has exited).
func (p *procNode) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *procNode) kill() {
	p.signal(syscall.SIGKILL)
	if d := p.done(); d != nil {
		<-d
	}
	fmt.Fprintf(p.logf, "=== test: %s gone at %s\n", p.Name, time.Now().UTC().Format(time.RFC3339Nano))
}

// term sends SIGTERM (a graceful stop: the node drains) and waits for the
// process to exit, failing the test if it does not within within or exits
// with an error.
func (p *procNode) term(within time.Duration) {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done():
	case <-time.After(within):
		p.dumpLog()
		p.t.Fatalf("%s did not exit within %s of SIGTERM", p.Name, within)
	}
	fmt.Fprintf(p.logf, "=== test: %s exited after SIGTERM at %s\n", p.Name, time.Now().UTC().Format(time.RFC3339Nano))
	if err := p.exitErr(); err != nil {
		p.dumpLog()
		p.t.Fatalf("%s exited with %v after SIGTERM, want 0", p.Name, err)
	}
}

// restart starts the killed process again on the same addresses (its
// peers know them) and waits until it is ready. The ports were freed by
// the kill, so another process can take one meanwhile: restart waits
// (bounded) until all are free, and starts again if the process still
// found one taken; it fails the test saying which port when that lasts.
func (p *procNode) restart() {
	p.t.Helper()
	const attempts = 5
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		p.waitPortsFree(30 * time.Second)
		p.start()
		if err = p.waitReadyOrPortTaken(60 * time.Second); err == nil {
			return
		}
		p.t.Logf("restart of %s, attempt %d: %v", p.Name, attempt, err)
	}
	p.dumpLog()
	p.t.Fatalf("%s did not restart on its addresses in %d attempts: %v", p.Name, attempts, err)
}

// waitPortsFree waits until no other process holds one of the node's
// ports, failing the test after within.
func (p *procNode) waitPortsFree(within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		taken := p.takenPort()
		if taken == "" {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s cannot restart on its addresses: %s, still taken %s after it was killed (another process took it)", p.Name, taken, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dumpLog writes the tail of the node's log to the test log.
func (p *procNode) dumpLog() {
	b, err := os.ReadFile(p.logf.Name())
	if err != nil {
		return
	}
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	p.t.Logf("--- %s log (tail) ---\n%s", p.Name, bytes.TrimSpace(b))
}

// client returns a testNode that only talks HTTP to this process, for the
// harness's call and token helpers.
func (p *procNode) client() *testNode { return &testNode{URL: p.URL} }

// seedSmall creates a small catalog for cluster tests: one 2,000-seat venue
// and n events on it (the demo catalog takes ~15 s to load here). It
// returns the event IDs.
func seedSmall(t testing.TB, db string, n int) []string {
	t.Helper()
	return seedTestEvents(t, db, demoVenue{"Cluster Hall", "Madrid", "Calle Mayor 1", 40.41, -3.70, 2, 25, 40},
		boxoffice.Performer{ID: seedID("performer", "The Nodes"), Name: "The Nodes", Biography: "Three of them."},
		"Cluster night", n)
}

// seedTestEvents creates venue v, performer p and n events of theirs a day
// apart from a month ahead, named "<name> <i>"; it returns the event IDs.
func seedTestEvents(t testing.TB, db string, v demoVenue, p boxoffice.Performer, name string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := openDB(ctx, db)
	if err != nil {
		t.Fatalf("open %s: %v", db, err)
	}
	defer d.Close()
	venue, _, err := d.CreateVenue(ctx, demoVenueOf(v))
	if err != nil {
		t.Fatalf("venue: %v", err)
	}
	perf, _, err := d.CreatePerformer(ctx, p)
	if err != nil {
		t.Fatalf("performer: %v", err)
	}
	when := time.Now().UTC().Truncate(time.Hour).Add(30 * 24 * time.Hour)
	ids := make([]string, n)
	for i := range n {
		e := demoEvent(fmt.Sprintf("%s %d", name, i), boxoffice.TypeConcert, venue, perf, when.Add(time.Duration(i)*24*time.Hour), 5000)
		if _, _, _, err := d.CreateEvent(ctx, e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		ids[i] = e.ID.String()
	}
	return ids
}

// eventStats is GET /admin/api/events/{id}: where the event's actor runs.
type eventStats struct {
	NodeID  string `json:"node_id"`
	Version uint64 `json:"version"`
}

// statsOf asks base for the event's stats; it returns the HTTP status.
func statsOf(t testing.TB, c *testNode, admin, ev string) (eventStats, int) {
	t.Helper()
	var s eventStats
	code := c.call(t, http.MethodGet, "/admin/api/events/"+ev, admin, nil, &s)
	return s, code
}

// ticketsOf returns the event's ticket IDs in seat-map order.
func ticketsOf(t testing.TB, c *testNode, ev string) []string {
	t.Helper()
	var v eventView
	if code := c.call(t, http.MethodGet, "/events/"+ev, "", nil, &v); code != http.StatusOK {
		t.Fatalf("GET /events/%s: %d", ev, code)
	}
	out := make([]string, len(v.Tickets))
	for i, tk := range v.Tickets {
		out[i] = tk.TicketID
	}
	return out
}
