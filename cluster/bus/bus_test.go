package bus_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/cluster/bus"
)

func open(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// collector gathers frames delivered to a subscription.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(b []byte) { c.mu.Lock(); c.got = append(c.got, string(b)); c.mu.Unlock() }
func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func TestSeatsInOrder(t *testing.T) {
	b := open(t, bus.DefaultConfig())
	ev := uuid.New()
	var c collector
	unsub, err := b.SubscribeSeats(ev, c.add)
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	var other collector
	unsubOther, _ := b.SubscribeSeats(uuid.New(), other.add)
	defer unsubOther()
	for i := 1; i <= 500; i++ {
		if err := b.PublishSeats(ev, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "500 frames", func() bool { return len(c.all()) == 500 })
	for i, f := range c.all() {
		if f != strconv.Itoa(i+1) {
			t.Fatalf("frame %d = %s, want %d (in order)", i, f, i+1)
		}
	}
	if n := len(other.all()); n != 0 {
		t.Errorf("another event's subscriber got %d frames, want 0", n)
	}
}

func TestClusteredServersRouteDeltas(t *testing.T) {
	pa, pb := freePort(t), freePort(t)
	a := open(t, bus.Config{ServerName: "a", ClusterPort: pa, Routes: []string{fmt.Sprintf("nats-route://127.0.0.1:%d", pb)}})
	b := open(t, bus.Config{ServerName: "b", ClusterPort: pb, Routes: []string{fmt.Sprintf("nats-route://127.0.0.1:%d", pa)}})
	ev := uuid.New()
	var c collector
	unsub, err := b.SubscribeSeats(ev, c.add)
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	eventually(t, 10*time.Second, "a delta published on A reaches a subscriber on B", func() bool {
		_ = a.PublishSeats(ev, []byte("x"))
		return len(c.all()) > 0
	})
}

func TestCounts(t *testing.T) {
	b := open(t, bus.DefaultConfig())
	got := make(chan bus.Counts, 1)
	unsub, err := b.SubscribeCounts(func(c bus.Counts) { got <- c })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	want := bus.Counts{EventID: uuid.New(), Available: 7, Reserved: 2, Booked: 1, Version: 9}
	if err := b.PublishCounts(want); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c != want {
			t.Errorf("counts = %+v, want %+v", c, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no counts delivered")
	}
}
