package bus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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

// freePortPair returns two distinct loopback ports that were free a moment
// ago (both are held until both are picked, so they differ).
func freePortPair(t *testing.T) (int, int) {
	t.Helper()
	var ports [2]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1]
}

// openClusteredPair opens two bus servers routed to each other. Their
// cluster ports were free when picked but are bound only later, so another
// process may take one in between: a failed open is retried on new ports
// (a few times), and every failure is reported if none succeeds.
func openClusteredPair(t *testing.T) (*bus.Bus, *bus.Bus) {
	t.Helper()
	var errs []error
	for attempt := 1; attempt <= 5; attempt++ {
		pa, pb := freePortPair(t)
		a, err := bus.Open(context.Background(), bus.Config{ServerName: "a", ClusterPort: pa,
			Routes: []string{fmt.Sprintf("nats-route://127.0.0.1:%d", pb)}})
		if err != nil {
			errs = append(errs, fmt.Errorf("attempt %d: server a on cluster port %d: %w", attempt, pa, err))
			continue
		}
		b, err := bus.Open(context.Background(), bus.Config{ServerName: "b", ClusterPort: pb,
			Routes: []string{fmt.Sprintf("nats-route://127.0.0.1:%d", pa)}})
		if err != nil {
			a.Close()
			errs = append(errs, fmt.Errorf("attempt %d: server b on cluster port %d: %w", attempt, pb, err))
			continue
		}
		t.Cleanup(a.Close)
		t.Cleanup(b.Close)
		if len(errs) > 0 {
			t.Logf("clustered bus servers opened after %d failed attempts: %v", len(errs), errors.Join(errs...))
		}
		return a, b
	}
	t.Fatalf("no two clustered bus servers could be opened: %v", errors.Join(errs...))
	return nil, nil
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
	require.Eventually(t, func() bool { return len(c.all()) == 500 }, 5*time.Second, 20*time.Millisecond, "500 frames")
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
	a, b := openClusteredPair(t)
	ev := uuid.New()
	var c collector
	unsub, err := b.SubscribeSeats(ev, c.add)
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	require.Eventually(t, func() bool {
		_ = a.PublishSeats(ev, []byte("x"))
		return len(c.all()) > 0
	}, 10*time.Second, 20*time.Millisecond, "a delta published on A reaches a subscriber on B")
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
