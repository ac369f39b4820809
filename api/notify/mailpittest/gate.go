package mailpittest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Gate is a TCP switch in front of an address. Closed, it accepts
// connections and holds them without a byte (a blackholed server: the
// client waits for a greeting that never comes); open, it forwards them.
// Opening it cuts the held connections, so their clients fail and retry
// through the open gate; no test waits for a timeout.
type Gate struct {
	// Addr is where clients connect.
	Addr   string
	target string
	ln     net.Listener

	mu   sync.Mutex // guards open, held, seen
	open bool
	held []net.Conn
	seen int
}

// NewGate listens on a random loopback port in front of target, closed,
// until tb ends.
func NewGate(tb testing.TB, target string) *Gate {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := &Gate{Addr: ln.Addr().String(), target: target, ln: ln}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.serve(&wg) }()
	tb.Cleanup(func() {
		_ = ln.Close()
		g.Open() // releases the held connections
		wg.Wait()
	})
	return g
}

func (g *Gate) serve(wg *sync.WaitGroup) {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.seen++
		if !g.open {
			g.held = append(g.held, c)
			g.mu.Unlock()
			continue
		}
		g.mu.Unlock()
		wg.Add(1)
		go func() { defer wg.Done(); g.forward(c) }()
	}
}

func (g *Gate) forward(c net.Conn) {
	defer c.Close()
	t, err := net.Dial("tcp", g.target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(t, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, t); done <- struct{}{} }()
	<-done
}

// WaitSeen waits until at least n connections reached the gate, failing
// tb after a minute.
func (g *Gate) WaitSeen(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		g.mu.Lock()
		seen := g.seen
		g.mu.Unlock()
		if seen >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpittest: %d connections reached the gate, want %d", seen, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Open forwards from now on and cuts the held connections.
func (g *Gate) Open() {
	g.mu.Lock()
	g.open = true
	held := g.held
	g.held = nil
	g.mu.Unlock()
	for _, c := range held {
		_ = c.Close()
	}
}
