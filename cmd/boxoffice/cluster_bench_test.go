package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchClient is a keep-alive HTTP client sized for parallel benchmarks.
var benchClient = &http.Client{Timeout: 10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

// send makes one request and returns the status (0: no reply) and body.
func send(method, url, token string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// BenchmarkClusterReserve is the reserve throughput of 1, 2 and 3 nodes
// (child processes on this machine, so the same cores in every case: it
// shows the cost of the cluster hops, not scale-out). 64 parallel users,
// spread over the nodes, each hold one random seat and release it again;
// one op is that pair. With n nodes, (n-1)/n of the calls reach the
// event's actor on another node.
func BenchmarkClusterReserve(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			pc := startProcCluster(b, n)
			ev := seedSmall(b, pc.DB, 1)[0]
			tickets := ticketsOf(b, pc.Nodes[0].client(), ev)
			tokens := make([]string, 64)
			for i := range tokens {
				tokens[i] = pc.Nodes[i%n].client().token(b, fmt.Sprintf("bench-%d@example.com", i))
			}
			var next atomic.Int64
			var held, failed atomic.Int64
			b.SetParallelism(32) // 64 goroutines on this 2-core machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1) - 1)
				base, tok := pc.Nodes[i%n].URL, tokens[i%len(tokens)]
				r := rand.New(rand.NewPCG(uint64(i), 1))
				for pb.Next() {
					code, data := send(http.MethodPost, base+"/booking/reserve", tok,
						map[string]any{"event_id": ev, "ticket_ids": []string{tickets[r.IntN(len(tickets))]}})
					switch code {
					case http.StatusCreated:
						held.Add(1)
						var h struct {
							BookingID string `json:"booking_id"`
						}
						_ = json.Unmarshal(data, &h)
						send(http.MethodDelete, base+"/booking/"+h.BookingID, tok, nil)
					case http.StatusConflict:
					default:
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d reserves failed (neither 201 nor 409)", failed.Load())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
			b.ReportMetric(float64(held.Load())/float64(b.N), "held/op")
		})
	}
}

// BenchmarkClusterRemoteGrainCall measures what the hop to another node
// adds to a request: the same call through the node that hosts the event's
// actor and through the other node of a 2-node cluster, one at a time.
// stats is GET /admin/api/events/{id} (a grain call, no write); hold is a
// reserve plus its release (two grain calls and two PostgreSQL commits).
func BenchmarkClusterRemoteGrainCall(b *testing.B) {
	pc := startProcCluster(b, 2)
	ev := seedSmall(b, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(b, "admin@example.com", "admin")
	owner := ownerOf(b, pc, pc.Nodes[0], admin, ev)
	other := pc.Nodes[0]
	if other == owner {
		other = pc.Nodes[1]
	}
	tickets := ticketsOf(b, owner.client(), ev)
	tok := owner.client().token(b, "bench@example.com")
	for _, via := range []struct {
		name string
		node *procNode
	}{{"owner", owner}, {"other", other}} {
		b.Run("stats/via="+via.name, func(b *testing.B) {
			for b.Loop() {
				if code, _ := send(http.MethodGet, via.node.URL+"/admin/api/events/"+ev, admin, nil); code != http.StatusOK {
					b.Fatalf("stats: %d", code)
				}
			}
		})
		b.Run("hold/via="+via.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				code, data := send(http.MethodPost, via.node.URL+"/booking/reserve", tok,
					map[string]any{"event_id": ev, "ticket_ids": []string{tickets[i%len(tickets)]}})
				i++
				if code != http.StatusCreated {
					b.Fatalf("reserve: %d %s", code, data)
				}
				var h struct {
					BookingID string `json:"booking_id"`
				}
				_ = json.Unmarshal(data, &h)
				if code, _ := send(http.MethodDelete, via.node.URL+"/booking/"+h.BookingID, tok, nil); code != http.StatusOK {
					b.Fatalf("release: %d", code)
				}
			}
		})
	}
}

// BenchmarkKillRecovery is the time from kill -9 of the node hosting an
// event to the event serving again on another node, over b.N kills (run it
// with -benchtime 20x). Each kill: the owner's process is killed, and a
// fresh GET /admin/api/events/{id} is sent through a survivor every 25 ms;
// the time is that of the first one answered by another node. The killed
// node is then restarted (same ports and name) before the next round.
// Nodes run with BOXOFFICE_GOSSIP_TIMINGS=fast.
func BenchmarkKillRecovery(b *testing.B) {
	pc := startProcCluster(b, 3)
	ev := seedSmall(b, pc.DB, 1)[0]
	admin := pc.Nodes[0].client().token(b, "admin@example.com", "admin")
	var took []time.Duration
	for b.Loop() {
		victim := ownerOf(b, pc, pc.Nodes[0], admin, ev)
		var via *procNode
		for _, nd := range pc.Nodes {
			if nd != victim {
				via = nd
			}
		}
		killed := time.Now()
		victim.kill()
		took = append(took, firstServed(b, via, admin, ev, victim.Name, killed))
		b.StopTimer()
		victim.restart()
		time.Sleep(2 * time.Second) // let membership settle before the next kill
		b.StartTimer()
	}
	slices.Sort(took)
	pct := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// firstServed sends a fresh stats request through via every 25 ms, each in
// its own goroutine so that a hung one does not delay the next, and returns
// when the first reply from a node other than gone arrived (since from).
func firstServed(b *testing.B, via *procNode, admin, ev, gone string, from time.Time) time.Duration {
	b.Helper()
	done := make(chan time.Duration, 1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer func() { stop.Store(true); wg.Wait() }()
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-done:
			return d
		case <-deadline:
			b.Fatalf("event not served by a survivor within 30s of the kill of %s", gone)
		case <-t.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				if stop.Load() {
					return
				}
				code, data := send(http.MethodGet, via.URL+"/admin/api/events/"+ev, admin, nil)
				var s eventStats
				if code == http.StatusOK && json.Unmarshal(data, &s) == nil && s.NodeID != gone && s.NodeID != "" {
					select {
					case done <- time.Since(from):
					default:
					}
				}
			}()
		}
	}
}
