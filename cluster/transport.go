package cluster

import (
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// errPartitioned is what gossip dials fail with while the node is cut off.
var errPartitioned = errors.New("cluster: gossip partitioned (fault injection)")

// faultTransport is memberlist's UDP/TCP transport with a switch that cuts
// this node's gossip off in both directions, as a network partition would.
// It exists for failure tests (Node.PartitionGossip); while the switch is off
// it only adds one channel hop per received packet.
type faultTransport struct {
	*memberlist.NetTransport
	cut     atomic.Bool
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	wg      sync.WaitGroup // the two forwarding goroutines
	once    sync.Once
}

var _ memberlist.NodeAwareTransport = (*faultTransport)(nil)

// newFaultTransport binds host:port (port 0: a random port free for both UDP
// and TCP, retried like memberlist does, since the two binds race).
func newFaultTransport(host string, port int, logger *log.Logger) (*faultTransport, error) {
	cfg := &memberlist.NetTransportConfig{BindAddrs: []string{host}, BindPort: port, Logger: logger}
	attempts := 1
	if port == 0 {
		attempts = 10
	}
	var nt *memberlist.NetTransport
	var err error
	for range attempts {
		if nt, err = memberlist.NewNetTransport(cfg); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bind gossip %s: %w", net.JoinHostPort(host, fmt.Sprint(port)), err)
	}
	t := &faultTransport{
		NetTransport: nt,
		packets:      make(chan *memberlist.Packet),
		streams:      make(chan net.Conn),
		done:         make(chan struct{}),
	}
	t.wg.Add(2)
	go t.forwardPackets()
	go t.forwardStreams()
	return t, nil
}

// setCut turns the partition on or off.
func (t *faultTransport) setCut(on bool) { t.cut.Store(on) }

func (t *faultTransport) forwardPackets() {
	defer t.wg.Done()
	for {
		select {
		case p := <-t.NetTransport.PacketCh():
			if t.cut.Load() {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		case <-t.done:
			return
		}
	}
}

func (t *faultTransport) forwardStreams() {
	defer t.wg.Done()
	for {
		select {
		case c := <-t.NetTransport.StreamCh():
			if t.cut.Load() {
				_ = c.Close()
				continue
			}
			select {
			case t.streams <- c:
			case <-t.done:
				_ = c.Close()
				return
			}
		case <-t.done:
			return
		}
	}
}

// PacketCh implements memberlist.Transport.
func (t *faultTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// StreamCh implements memberlist.Transport.
func (t *faultTransport) StreamCh() <-chan net.Conn { return t.streams }

// WriteTo implements memberlist.Transport; a cut node's packets are lost.
func (t *faultTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.cut.Load() {
		return time.Now(), nil
	}
	return t.NetTransport.WriteTo(b, addr)
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t *faultTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.cut.Load() {
		return time.Now(), nil
	}
	return t.NetTransport.WriteToAddress(b, a)
}

// DialTimeout implements memberlist.Transport.
func (t *faultTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.cut.Load() {
		return nil, errPartitioned
	}
	return t.NetTransport.DialTimeout(addr, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *faultTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.cut.Load() {
		return nil, errPartitioned
	}
	return t.NetTransport.DialAddressTimeout(a, timeout)
}

// Shutdown implements memberlist.Transport: it closes the sockets, then stops
// the forwarders and waits for them. Safe to call more than once.
func (t *faultTransport) Shutdown() error {
	var err error
	t.once.Do(func() {
		err = t.NetTransport.Shutdown()
		close(t.done)
		t.wg.Wait()
	})
	return err
}
