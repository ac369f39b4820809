package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsResult is what one ws-mode run measured.
type wsResult struct {
	watchers  int
	holds     int64 // successful reserves: one delta each
	failed    int64 // reserves that did not hold (taken, limit reached)
	released  int64 // holds released again after the run
	delivered int   // deltas received, over all watchers
	dropped   int64 // watchers whose connection ended before the run did
	// fromSent and fromReply are the per-delta delays from sending the
	// reserve and from its reply (0 when the delta came first), sorted.
	fromSent, fromReply []time.Duration
	cpu                 time.Duration // the load generator's own CPU during the reserves
	elapsed             time.Duration
}

func (r wsResult) print(w io.Writer, c loadConfig) {
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond)
	}
	fmt.Fprintf(w, "mode=ws compact=%v watchers=%d holds=%d (failed reserves %d, released after %d) every %s; deltas delivered=%d of %d; watchers dropped early=%d; loadgen-cpu=%.2f cores\n",
		c.Compact, r.watchers, r.holds, r.failed, r.released, c.Interval, r.delivered, int(r.holds)*r.watchers, r.dropped, r.cpu.Seconds()/max(r.elapsed.Seconds(), 1e-9))
	fmt.Fprintf(w, "delivery delay (reserve sent -> delta at watcher): p50=%s p99=%s max=%s\n",
		pct(r.fromSent, 0.5), pct(r.fromSent, 0.99), pct(r.fromSent, 1))
	fmt.Fprintf(w, "delivery delay (reserve's reply -> delta at watcher): p50=%s p99=%s max=%s\n",
		pct(r.fromReply, 0.5), pct(r.fromReply, 0.99), pct(r.fromReply, 1))
}

// runWatchers is loadgen's ws mode: it opens c.Users seat-map WebSockets on
// the event, then makes one sequential reserve at a time and measures, for
// every watcher, the delay from sending the reserve, and from its reply,
// to receiving its delta. The first includes the commit, so it bounds the
// commit-to-client delay from above.
//
// Each run reserves as buyers of its own (a random run number in their
// e-mails), picks random free seats and releases its holds at the end, so
// that a second run within the hold TTL still makes holds.
func runWatchers(ctx context.Context, c loadConfig, out, progress io.Writer) error {
	res, err := watchRun(ctx, c, progress)
	if err != nil {
		return err
	}
	res.print(out, c)
	return nil
}

func watchRun(ctx context.Context, c loadConfig, progress io.Writer) (wsResult, error) {
	client := &http.Client{Timeout: 15 * time.Second}
	tickets, err := eventTickets(ctx, client, c.URLs[0], c.Event)
	if err != nil {
		return wsResult{}, err
	}
	run := rand.New(rand.NewPCG(rand.Uint64(), uint64(time.Now().UnixNano())))
	u := &loadUser{base: c.URLs[0], id: 1_000_000 + run.IntN(1_000_000_000), r: run}
	if u.nextBuyer(ctx, client, c.Event); u.token == "" {
		return wsResult{}, fmt.Errorf("loadgen: no token from %s (the node must run in dev mode)", c.URLs[0])
	}
	// Seats in a random order of this run: a seat held by an earlier run
	// fails once and is not tried again.
	order := run.Perm(len(tickets))
	// sent[i] and replied[i] are when the i-th reserve left and its reply
	// came (UnixNano); readers look them up without a lock, so 10,000
	// watchers do not queue on one mutex.
	n := min(len(tickets), int(c.Duration/max(c.Interval, time.Millisecond))+1)
	sent, replied := make([]atomic.Int64, n), make([]atomic.Int64, n)
	var nsent atomic.Int64
	var mu sync.Mutex // guards res's delays
	res := wsResult{watchers: c.Users}
	var connected, dropped, got atomic.Int64
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
			cancel()
			wg.Wait()
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				// The node caps sockets per address and per node; a
				// loopback load test is one address with thousands.
				return res, fmt.Errorf("watcher %d: 429: start the node with BOXOFFICE_WS_MAX_PER_IP=0 BOXOFFICE_WS_MAX=0 for a load test from one address", i)
			}
			return res, fmt.Errorf("watcher %d: %w (raise `ulimit -n`?)", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			var fromSent, fromReply []time.Duration
			record := func(k uint64, now int64) {
				if k >= uint64(len(sent)) {
					return
				}
				if at := sent[k].Load(); at != 0 {
					fromSent = append(fromSent, time.Duration(now-at))
					// The reply may come after the delta: the delay
					// from it is then 0.
					var d time.Duration
					if r := replied[k].Load(); r != 0 {
						d = time.Duration(max(0, now-r))
					}
					fromReply = append(fromReply, d)
					got.Add(1)
				}
			}
			head := make([]byte, len(snapshotPrefix))
			n := uint64(0)
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
						record(v-frame.base-1, now)
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
				record(n, now)
				n++
			}
			mu.Lock()
			res.fromSent = append(res.fromSent, fromSent...)
			res.fromReply = append(res.fromReply, fromReply...)
			mu.Unlock()
		}()
		go func() { <-ctx.Done(); conn.Close() }()
		if i%500 == 0 {
			fmt.Fprintf(progress, "\rwatchers connected: %d", i)
		}
	}
	for connected.Load() < int64(c.Users) {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(progress, "\rwatchers connected: %d\n", c.Users)
	start, cpu0 := time.Now(), cpuTime()
	deadline := start.Add(c.Duration)
	type hold struct{ booking, token string }
	var held []hold // released after the run
	// Only a successful reserve makes a delta, so sent is indexed by
	// success: a failed reserve's slot is reused by the next attempt.
	for i, k := 0, 0; time.Now().Before(deadline) && k < len(sent) && i < len(order); i++ {
		if u.taken >= max(1, c.PerBuyer) {
			// A buyer may hold only so many seats (max_tickets_per_user).
			u.nextBuyer(ctx, client, c.Event)
		}
		var reply struct {
			BookingID string `json:"booking_id"`
		}
		sent[k].Store(time.Now().UnixNano())
		s := u.do(ctx, client, http.MethodPost, "/booking/reserve",
			map[string]any{"event_id": c.Event, "ticket_ids": []string{tickets[order[i]]}}, &reply)
		if s.Status == http.StatusCreated {
			replied[k].Store(time.Now().UnixNano())
			k++
			u.taken++
			nsent.Add(1)
			held = append(held, hold{reply.BookingID, u.token})
		} else {
			sent[k].Store(0)
			res.failed++
		}
		time.Sleep(c.Interval)
	}
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	// Let the last deltas arrive: every watcher has them, or 2 s passed.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) && got.Load() < nsent.Load()*int64(c.Users); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	res.holds, res.dropped = nsent.Load(), dropped.Load()
	res.delivered = len(res.fromSent)
	// The run's holds go back on sale, so the next run finds its seats.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer rcancel()
	for _, h := range held {
		u.token = h.token
		if s := u.do(rctx, client, http.MethodDelete, "/booking/"+h.booking, nil, nil); s.Status/100 == 2 {
			res.released++
		}
	}
	slices.Sort(res.fromSent)
	slices.Sort(res.fromReply)
	return res, nil
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

// stormResult is what one connect storm measured.
type stormResult struct {
	watchers, connected, failed int
	firstErr                    error
	bytes                       int64         // read from the node's sockets: handshakes and snapshots
	all                         time.Duration // from the first dial to the last snapshot
	toSnapshot                  []time.Duration
	cpu                         time.Duration // the load generator's own CPU
}

func (r stormResult) print(w io.Writer, c loadConfig) {
	pct := func(p float64) time.Duration {
		if len(r.toSnapshot) == 0 {
			return 0
		}
		return r.toSnapshot[min(len(r.toSnapshot)-1, int(p*float64(len(r.toSnapshot))))].Round(time.Microsecond)
	}
	fmt.Fprintf(w, "mode=storm compact=%v deflate=%v watchers=%d over %s: with snapshot %d, failed %d; all snapshots after %s; loadgen-cpu=%.2f cores\n",
		c.Compact, c.Deflate, r.watchers, c.Duration, r.connected, r.failed, r.all.Round(time.Millisecond), r.cpu.Seconds()/max(r.all.Seconds(), 1e-9))
	if r.firstErr != nil {
		fmt.Fprintf(w, "first failure: %v\n", r.firstErr)
	}
	fmt.Fprintf(w, "bytes from the node: %d (%.1f MB, %d per watcher)\n", r.bytes, float64(r.bytes)/1e6, r.bytes/int64(max(1, r.connected)))
	fmt.Fprintf(w, "dial -> snapshot received: p50=%s p99=%s max=%s\n", pct(0.5), pct(0.99), pct(1))
}

// runStorm is loadgen's storm mode: c.Users watchers of the event connect
// evenly spread over c.Duration (a connect storm, as when a sale opens);
// it measures the bytes the node sends them and when all have their
// snapshot.
func runStorm(ctx context.Context, c loadConfig, out, progress io.Writer) error {
	res, err := stormRun(ctx, c, progress)
	if err != nil {
		return err
	}
	res.print(out, c)
	return nil
}

func stormRun(ctx context.Context, c loadConfig, progress io.Writer) (stormResult, error) {
	res := stormResult{watchers: c.Users}
	var bytesRead atomic.Int64
	nd := &net.Dialer{Timeout: 30 * time.Second}
	dialer := &websocket.Dialer{HandshakeTimeout: 60 * time.Second, ReadBufferSize: 4 << 10, EnableCompression: c.Deflate,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, n: &bytesRead}, nil
		}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // guards res
	var wg sync.WaitGroup
	var done atomic.Int64
	var conns []*websocket.Conn
	start, cpu0 := time.Now(), cpuTime()
	gap := c.Duration / time.Duration(c.Users)
	for i := range c.Users {
		if at := start.Add(time.Duration(i) * gap); time.Until(at) > 0 {
			time.Sleep(time.Until(at))
		}
		base := c.URLs[i%len(c.URLs)]
		url := "ws" + strings.TrimPrefix(base, "http") + "/events/" + c.Event + "/seats/ws"
		if c.Compact {
			url += "?format=compact"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			conn, _, err := dialer.DialContext(ctx, url, nil)
			if err == nil {
				var r io.Reader
				if _, r, err = conn.NextReader(); err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if res.failed++; res.firstErr == nil {
					res.firstErr = err
				}
				if conn != nil {
					conn.Close()
				}
				return
			}
			res.connected++
			res.toSnapshot = append(res.toSnapshot, d)
			res.all = max(res.all, time.Since(start))
			conns = append(conns, conn)
			if n := done.Add(1); n%1000 == 0 {
				fmt.Fprintf(progress, "\rwatchers with snapshot: %d", n)
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(progress, "\rwatchers with snapshot: %d\n", done.Load())
	res.cpu, res.bytes = cpuTime()-cpu0, bytesRead.Load()
	for _, conn := range conns {
		conn.Close()
	}
	slices.Sort(res.toSnapshot)
	return res, nil
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
