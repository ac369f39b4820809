package main

import (
	"context"
	"encoding/json"
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
	var mu sync.Mutex
	var sent []time.Time // send time of the i-th reserve
	var delays []time.Duration
	var connected, failed atomic.Int64
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range c.Users {
		base := c.URLs[i%len(c.URLs)]
		url := "ws" + strings.TrimPrefix(base, "http") + "/events/" + c.Event + "/seats/ws"
		conn, _, err := dialer.DialContext(ctx, url, nil)
		if err != nil {
			return fmt.Errorf("watcher %d: %w (raise `ulimit -n`?)", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			var local []time.Duration
			n := 0
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					break
				}
				var f struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(data, &f) != nil {
					continue
				}
				if f.Type == "snapshot" {
					connected.Add(1)
					continue
				}
				mu.Lock()
				if n < len(sent) {
					local = append(local, time.Since(sent[n]))
				}
				mu.Unlock()
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
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(progress, "\rwatchers connected: %d\n", c.Users)
	deadline := time.Now().Add(c.Duration)
	u := &loadUser{base: c.URLs[0], token: tok}
	for i := 0; time.Now().Before(deadline) && i < len(tickets); i++ {
		mu.Lock()
		sent = append(sent, time.Now())
		mu.Unlock()
		s := u.do(ctx, client, http.MethodPost, "/booking/reserve",
			map[string]any{"event_id": c.Event, "ticket_ids": []string{tickets[(i*7919)%len(tickets)]}}, nil)
		if s.Status != http.StatusCreated {
			failed.Add(1)
		}
		time.Sleep(50 * time.Millisecond)
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
	expected := len(sent) * c.Users
	fmt.Fprintf(out, "mode=ws watchers=%d reserves=%d (failed %d) deltas delivered=%d of %d\n",
		c.Users, len(sent), failed.Load(), len(delays), expected)
	fmt.Fprintf(out, "delivery delay (reserve sent -> delta at watcher): p50=%s p99=%s max=%s\n",
		pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	return nil
}
