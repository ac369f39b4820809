package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// runWatchers is loadgen's ws mode: it opens c.Users seat-map WebSockets on
// the event, then makes one sequential reserve at a time and measures, for
// every watcher, the delay from sending the reserve to receiving its delta.
// Each delay includes the commit, so it bounds the commit-to-client delay
// from above.
func runWatchers(ctx context.Context, c loadConfig, out, progress io.Writer) error {
	client := &http.Client{Timeout: 15 * time.Second}
	tickets, err := eventTickets(ctx, client, c.URLs[0], c.Event)
	if err != nil {
		return err
	}
	tok, err := devToken(ctx, client, c.URLs[0], "ws-writer@example.com")
	if err != nil {
		return err
	}
	// sent[i] is when the i-th reserve left (UnixNano); readers look it up
	// without a lock, so 10,000 watchers do not queue on one mutex.
	sent := make([]atomic.Int64, min(len(tickets), int(c.Duration/max(c.Interval, time.Millisecond))+1))
	var nsent atomic.Int64
	var mu sync.Mutex // guards delays
	var delays []time.Duration
	var connected, failed, dropped atomic.Int64
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4 << 10}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshotPrefix := []byte(`{"type":"snapshot"`)
	for i := range c.Users {
		base := c.URLs[i%len(c.URLs)]
		url := "ws" + strings.TrimPrefix(base, "http") + "/events/" + c.Event + "/seats/ws"
		if c.Compact {
			url += "?format=compact"
		}
		conn, resp, err := dialer.DialContext(ctx, url, nil)
		if err != nil {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				// The node caps sockets per address and per node; a
				// loopback load test is one address with thousands.
				return fmt.Errorf("watcher %d: 429: start the node with BOXOFFICE_WS_MAX_PER_IP=0 BOXOFFICE_WS_MAX=0 for a load test from one address", i)
			}
			return fmt.Errorf("watcher %d: %w (raise `ulimit -n`?)", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			var local []time.Duration
			head := make([]byte, len(snapshotPrefix))
			n := 0
			var frame compactVersions
			for {
				_, r, err := conn.NextReader()
				if err != nil {
					if ctx.Err() == nil {
						dropped.Add(1)
					}
					break
				}
				if c.Compact {
					// A frame may carry several versions: each is one
					// reserve, the k-th after the snapshot's version.
					if !frame.read(r) {
						connected.Add(1)
						continue
					}
					now := time.Now().UnixNano()
					for v := frame.first; v <= frame.Version; v++ {
						if k := v - frame.base - 1; k < uint64(len(sent)) {
							if at := sent[k].Load(); at != 0 {
								local = append(local, time.Duration(now-at))
							}
						}
					}
					continue
				}
				k, _ := io.ReadFull(r, head)
				_, _ = io.Copy(io.Discard, r)
				now := time.Now().UnixNano()
				if bytes.Equal(head[:k], snapshotPrefix) {
					connected.Add(1)
					continue
				}
				if n < len(sent) {
					if at := sent[n].Load(); at != 0 {
						local = append(local, time.Duration(now-at))
					}
				}
				n++
			}
			mu.Lock()
			delays = append(delays, local...)
			mu.Unlock()
		}()
		go func() { <-ctx.Done(); conn.Close() }()
		if i%500 == 0 {
			fmt.Fprintf(progress, "\rwatchers connected: %d", i)
		}
	}
	for connected.Load() < int64(c.Users) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(progress, "\rwatchers connected: %d\n", c.Users)
	deadline := time.Now().Add(c.Duration)
	u := &loadUser{base: c.URLs[0], token: tok, id: -1}
	// Only a successful reserve makes a delta, so sent is indexed by
	// success: a failed reserve's slot is reused by the next attempt.
	for i, k := 0, 0; time.Now().Before(deadline) && k < len(sent); i++ {
		if u.taken >= max(1, c.PerBuyer) {
			// A buyer may hold only so many seats (max_tickets_per_user).
			u.nextBuyer(ctx, client, c.Event)
		}
		sent[k].Store(time.Now().UnixNano())
		s := u.do(ctx, client, http.MethodPost, "/booking/reserve",
			map[string]any{"event_id": c.Event, "ticket_ids": []string{tickets[(i*7919)%len(tickets)]}}, nil)
		if s.Status == http.StatusCreated {
			k++
			u.taken++
			nsent.Add(1)
		} else {
			failed.Add(1)
		}
		time.Sleep(c.Interval)
	}
	time.Sleep(2 * time.Second) // let the last deltas arrive
	cancel()
	wg.Wait()
	slices.Sort(delays)
	pct := func(p float64) time.Duration {
		if len(delays) == 0 {
			return 0
		}
		return delays[min(len(delays)-1, int(p*float64(len(delays))))]
	}
	expected := int(nsent.Load()) * c.Users
	fmt.Fprintf(out, "mode=ws compact=%v watchers=%d holds=%d (failed reserves %d) every %s; deltas delivered=%d of %d; watchers dropped early=%d\n",
		c.Compact, c.Users, nsent.Load(), failed.Load(), c.Interval, len(delays), expected, dropped.Load())
	fmt.Fprintf(out, "delivery delay (reserve sent -> delta at watcher): p50=%s p99=%s max=%s\n",
		pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	return nil
}

// compactVersions follows one compact watcher's frames: the snapshot's
// version (base) and, per delta, the versions it brings that are new to
// the watcher (first..Version). It reads the numbers without decoding the
// frame, so that 10,000 watchers in the load generator cost little.
type compactVersions struct {
	Version uint64
	base    uint64
	last    uint64
	first   uint64
	buf     bytes.Buffer
}

var (
	fromVersionKey = []byte(`"from_version":`)
	versionKey     = []byte(`,"version":`)
)

// read reads one frame; false for the snapshot.
func (f *compactVersions) read(r io.Reader) bool {
	f.buf.Reset()
	_, _ = f.buf.ReadFrom(r)
	data := f.buf.Bytes()
	f.Version = numberAfter(data, versionKey)
	if bytes.HasPrefix(data, []byte(`{"type":"snapshot"`)) {
		f.base, f.last = f.Version, f.Version
		return false
	}
	f.first = max(numberAfter(data, fromVersionKey), f.last+1)
	f.last = max(f.last, f.Version)
	return true
}

// numberAfter is the unsigned integer after the first key in data (0 when
// there is none).
func numberAfter(data, key []byte) uint64 {
	i := bytes.Index(data, key)
	if i < 0 {
		return 0
	}
	var n uint64
	for _, c := range data[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
