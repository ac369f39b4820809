package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/boxoffice/boxoffice"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// loadConfig is what one loadgen run does.
type loadConfig struct {
	URLs     []string
	Event    string
	Users    int
	PerBuyer int
	Duration time.Duration
	Seats    int
	Confirm  float64
	Release  float64
	// Refund is the share of confirmed bookings refunded at once.
	Refund  float64
	History string
	Mode    string
	// Interval is the ws mode's pause between two reserves.
	Interval time.Duration
	// Rate, when > 0, makes a reserve run an open loop: this many
	// attempts per second whatever the replies (runOpenLoad).
	Rate float64
	// Sweep raises the open loop's rate from Rate by 1.5x per Duration
	// until the knee (p99 < 10 ms) is passed; MaxRate caps it (0: none).
	Sweep   bool
	MaxRate float64
	// Compact makes the ws mode's watchers use ?format=compact.
	Compact bool
	// Deflate makes the storm mode's watchers offer permessage-deflate,
	// as browsers do.
	Deflate bool
	// Promo is a promo code every reserve tries first; a refusal (400:
	// unknown, not valid now or used up) is retried at once without it,
	// as a buyer would, so a limited code is raced for all run long.
	Promo string
	// Standing, when set, makes every reserve ask for a random 1..Seats
	// places of this standing section instead of seats (general
	// admission); the history records the places the reply names.
	Standing string
}

// sample is one request as the history records it (for `boxoffice check`).
type sample struct {
	At        time.Time `json:"at"`
	Node      string    `json:"node"`
	Op        string    `json:"op"`
	Status    int       `json:"status"`
	Latency   float64   `json:"latency_ms"`
	BookingID string    `json:"booking_id,omitempty"`
	EventID   string    `json:"event_id,omitempty"`
	TicketIDs []string  `json:"ticket_ids,omitempty"`
	ExpiresAt string    `json:"expires_at,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// cmdLoadgen drives a hot on-sale against one or more nodes over HTTP and
// prints attempts/s, successes/s and latency percentiles.
func cmdLoadgen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c loadConfig
	urls := listFlag{"http://localhost:8080"}
	fs.Var(&urls, "url", "comma-separated node base URLs; users spread over them and move to the next when theirs is down")
	fs.StringVar(&c.Event, "event", "", "event ID; empty = the demo stadium's event")
	fs.IntVar(&c.Users, "users", 64, "concurrent users")
	fs.IntVar(&c.PerBuyer, "per-buyer", boxoffice.DefaultMaxTicketsPerUser, "seats one simulated buyer takes before a new buyer takes its place (keep it at or under the event's max_tickets_per_user, as a real on-sale has many buyers)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to run")
	fs.IntVar(&c.Seats, "seats", 1, "seats per reserve (1..10)")
	fs.Float64Var(&c.Confirm, "confirm", 0, "share of successful holds to confirm with tok_visa (0..1)")
	fs.Float64Var(&c.Release, "release", 0, "share of successful holds to release again (0..1)")
	fs.Float64Var(&c.Refund, "refund", 0, "share of confirmed bookings to refund at once (0..1): the seats go back on sale")
	fs.StringVar(&c.Promo, "promo", "", "a promo code of the event every reserve tries first; a refusal (400) is retried at once without it")
	fs.StringVar(&c.Standing, "standing", "", "reserve mode: every reserve asks for a random 1..-seats places of this standing section (e.g. Floor) instead of seats")
	fs.StringVar(&c.History, "history", "", "write every request and reply as JSON lines to this file (for `boxoffice check`)")
	fs.StringVar(&c.Mode, "mode", "reserve", "reserve (booking on-sale), view (GET /events/{id}), availability (GET /events/{id}/availability) ws (-users WebSocket watchers, delta delivery delay) or storm (-users watchers connecting within -duration: bytes sent, time until all have their snapshot)")
	fs.DurationVar(&c.Interval, "interval", 50*time.Millisecond, "ws mode: pause between two reserves (each one a delta to every watcher)")
	fs.Float64Var(&c.Rate, "rate", 0, "reserve mode: offered attempts/s in an open loop (arrivals whatever the replies, spread over -users buyers); 0 = closed loop of -users")
	fs.BoolVar(&c.Sweep, "sweep", false, "with -rate: raise the rate 1.5x per -duration step until p99 passes 10 ms twice, and print the knee")
	fs.Float64Var(&c.MaxRate, "max-rate", 0, "with -sweep: the highest rate to offer (0 = no cap)")
	fs.BoolVar(&c.Compact, "compact", false, "ws and storm modes: watch the compact seat map (?format=compact: packed snapshot, coalesced deltas)")
	fs.BoolVar(&c.Deflate, "deflate", false, "storm mode: the watchers offer permessage-deflate, as browsers do")
	wrkData := fs.String("wrk-data", "", "write -users development tokens, the event and its ticket IDs as a Lua table to this file for deploy/bench/reserve.lua (wrk), then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.URLs = urls
	if c.Event == "" {
		c.Event = seedID("event", StadiumEventName).String()
	}
	if c.Users < 1 || c.Seats < 1 || c.Seats > 10 || c.Duration <= 0 || c.PerBuyer < c.Seats {
		return errors.New("loadgen: want -users >= 1, -seats 1..10, -duration > 0, -per-buyer >= -seats")
	}
	if c.Standing != "" && (c.Mode != "reserve" || c.Rate != 0 || c.Sweep || *wrkData != "") {
		return errors.New("loadgen: -standing drives the closed loop of -mode reserve (not -rate, -sweep or -wrk-data)")
	}
	if *wrkData != "" {
		return writeWrkData(ctx, c, *wrkData)
	}
	switch c.Mode {
	case "ws":
		return runWatchers(ctx, c, stdout, stderr)
	case "storm":
		return runStorm(ctx, c, stdout, stderr)
	}
	if c.Rate < 0 || c.Sweep && c.Rate == 0 || c.Rate > 0 && c.Mode != "reserve" {
		return errors.New("loadgen: -rate must be >= 0, and > 0 with -sweep; the open loop drives -mode reserve")
	}
	if c.Sweep {
		return sweepOpenLoad(ctx, c, stdout, stderr)
	}
	if c.Rate > 0 {
		res, err := runOpenLoad(ctx, c, stderr)
		if err != nil {
			return err
		}
		res.print(stdout)
		return nil
	}
	res, err := runLoad(ctx, c, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, c)
	return nil
}

// errors counts the replies that were not decisions: 5xx, and requests
// that got no reply at all (statusTransport).
func (r loadResult) errors() int64 {
	var n int64
	for code, k := range r.statuses {
		if code >= 500 {
			n += k
		}
	}
	return n
}

type loadResult struct {
	cpu       time.Duration // the load generator's own CPU during the run
	elapsed   time.Duration
	attempts  int64
	successes int64
	statuses  map[int]int64
	latencies []float64
}

func (r loadResult) print(w io.Writer, c loadConfig) {
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	s := r.elapsed.Seconds()
	fmt.Fprintf(w, "mode=%s users=%d seats=%d duration=%s nodes=%d\n", c.Mode, c.Users, c.Seats, r.elapsed.Round(time.Millisecond), len(c.URLs))
	fmt.Fprintf(w, "requests/s=%.0f successes/s=%.0f p50=%.2fms p99=%.2fms max=%.2fms loadgen-cpu=%.2f cores\n",
		float64(r.attempts)/s, float64(r.successes)/s, pct(0.50), pct(0.99), pct(1), r.cpu.Seconds()/s)
	fmt.Fprintf(w, "requests=%d errors=%d (5xx replies and requests without a reply)\n", r.attempts, r.errors())
	codes := make([]int, 0, len(r.statuses))
	for k := range r.statuses {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for _, k := range codes {
		fmt.Fprintf(w, "  status %d: %d\n", k, r.statuses[k])
	}
}

// loadUser is one simulated person with a token.
type loadUser struct {
	base  string
	token string
	r     *rand.Rand
	email string
	at    int // index of base in the run's URLs
	id    int // the user's number, part of each buyer's email
	gen   int // how many buyers this user has been
	taken int // seats the current buyer holds or bought (max_tickets_per_user)
	// ready, when set, is the run's view of which nodes pass /readyz:
	// the user moves off its node only once that node fails it (or
	// refuses a connection), as a client behind a load balancer would.
	ready *readiness
	urls  []string
}

// readiness polls every node's GET /readyz, so that users move off a node
// that drains (its /readyz fails while it still serves) before it stops.
type readiness struct {
	up []atomic.Bool
}

// readinessEvery is how often the loadgen polls each node's /readyz: well
// under a node's drain delay, like a load balancer's probe.
const readinessEvery = 100 * time.Millisecond

// watchReadiness starts polling urls until ctx ends; every node starts up.
func watchReadiness(ctx context.Context, client *http.Client, urls []string) *readiness {
	r := &readiness{up: make([]atomic.Bool, len(urls))}
	for i, u := range urls {
		r.up[i].Store(true)
		go func() {
			t := time.NewTicker(readinessEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				c, cancel := context.WithTimeout(ctx, time.Second)
				req, _ := http.NewRequestWithContext(c, http.MethodGet, u+"/readyz", nil)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				cancel()
				if ctx.Err() == nil {
					r.up[i].Store(ok)
				}
			}
		}()
	}
	return r
}

// moveIfNotReady moves the user to a random ready node when its own is
// not ready (it stays when none is); it reports whether it moved.
func (u *loadUser) moveIfNotReady(ctx context.Context, client *http.Client) bool {
	if u.ready == nil || u.ready.up[u.at].Load() {
		return false
	}
	var ready []int
	for i := range u.urls {
		if i != u.at && u.ready.up[i].Load() {
			ready = append(ready, i)
		}
	}
	if len(ready) == 0 {
		return false
	}
	u.at = ready[u.r.IntN(len(ready))]
	u.base = u.urls[u.at]
	if tok, err := devToken(ctx, client, u.base, u.email); err == nil {
		u.token = tok
	}
	return true
}

// nextBuyer makes the simulated user a new buyer (a new account), once the
// current one has taken its share of seats: holds and purchases count
// against max_tickets_per_user, and a real on-sale has many buyers.
func (u *loadUser) nextBuyer(ctx context.Context, client *http.Client, event string) {
	u.gen++
	// The event is in the name so that loads of two events never sign in
	// one new account at once (two first sign-ins can collide).
	email := fmt.Sprintf("loadgen-%d-%d-%.8s@example.com", u.id, u.gen, event)
	if tok, err := devToken(ctx, client, u.base, email); err == nil {
		u.token, u.email, u.taken = tok, email, 0
	}
}

// failover moves the user to the next node after a transport error (the
// node is down), as a client behind a load balancer would (with readiness
// polling: to a ready node, once its own fails /readyz), with a pause
// so that users of a dead node do not spin. The new node mints the user a
// token (nodes in dev mode with their own secrets do not share tokens).
func (u *loadUser) failover(ctx context.Context, client *http.Client, urls []string) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(100 * time.Millisecond):
	}
	if len(urls) < 2 {
		return
	}
	if u.ready != nil {
		// Readiness-aware: move only once the node fails /readyz (a
		// killed node refuses the poller's connection within a poll).
		u.moveIfNotReady(ctx, client)
		return
	}
	u.at = (u.at + 1) % len(urls)
	u.base = urls[u.at]
	if tok, err := devToken(ctx, client, u.base, u.email); err == nil {
		u.token = tok
	}
}

func runLoad(ctx context.Context, c loadConfig, progress io.Writer) (loadResult, error) {
	if c.PerBuyer == 0 { // a config built in code: the event's default limit
		c.PerBuyer = boxoffice.DefaultMaxTicketsPerUser
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Users + 8}, Timeout: 15 * time.Second}
	tickets, err := eventTickets(ctx, client, c.URLs[0], c.Event)
	if err != nil {
		return loadResult{}, err
	}
	users := make([]*loadUser, c.Users)
	for i := range users {
		base, email := c.URLs[i%len(c.URLs)], fmt.Sprintf("loadgen-%d@example.com", i)
		tok, err := devToken(ctx, client, base, email)
		if err != nil {
			return loadResult{}, err
		}
		users[i] = &loadUser{base: base, token: tok, email: email, at: i % len(c.URLs), id: i,
			r: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
	}
	var hist *json.Encoder
	var histMu sync.Mutex
	if c.History != "" {
		f, err := os.Create(c.History)
		if err != nil {
			return loadResult{}, err
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		hist = json.NewEncoder(bw)
	}
	record := func(s sample) {
		if hist != nil {
			histMu.Lock()
			_ = hist.Encode(s)
			histMu.Unlock()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var rd *readiness
	if len(c.URLs) > 1 {
		rd = watchReadiness(ctx, client, c.URLs)
		for _, u := range users {
			u.ready, u.urls = rd, c.URLs
		}
	}
	var attempts, successes atomic.Int64
	var mu sync.Mutex
	res := loadResult{statuses: map[int]int64{}}
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	go reportProgress(ctx, progress, &attempts, &successes)
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []float64
			codes := map[int]int64{}
			for ctx.Err() == nil {
				u.moveIfNotReady(ctx, client)
				s := u.step(ctx, client, c, tickets, record)
				if s.Status == 0 {
					continue
				}
				attempts.Add(1)
				if s.Status < 300 {
					successes.Add(1)
				}
				codes[s.Status]++
				lat = append(lat, s.Latency)
				if s.Status == statusTransport {
					u.failover(ctx, client, c.URLs)
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			for k, v := range codes {
				res.statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Fprintln(progress)
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	res.attempts, res.successes = attempts.Load(), successes.Load()
	return res, nil
}

func reportProgress(ctx context.Context, w io.Writer, attempts, successes *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintf(w, "\rrequests %d, successes %d", attempts.Load(), successes.Load())
		}
	}
}

// step makes one request of the run's mode and follows up a successful
// hold with a confirm or release as configured.
func (u *loadUser) step(ctx context.Context, client *http.Client, c loadConfig, tickets []string, record func(sample)) sample {
	switch c.Mode {
	case "view":
		// Like a browser: take the gzipped body and do not spend the load
		// generator's CPU inflating it.
		return u.do(ctx, client, http.MethodGet, "/events/"+c.Event, nil, nil, "Accept-Encoding", "gzip")
	case "availability":
		return u.do(ctx, client, http.MethodGet, "/events/"+c.Event+"/availability", nil, nil, "Accept-Encoding", "gzip")
	}
	if u.taken+c.Seats > c.PerBuyer {
		u.nextBuyer(ctx, client, c.Event)
	}
	var reply struct {
		BookingID string   `json:"booking_id"`
		ExpiresAt string   `json:"expires_at"`
		TicketIDs []string `json:"ticket_ids"`
	}
	var ids []string
	taking := c.Seats
	body := map[string]any{"event_id": c.Event}
	if c.Standing != "" {
		// The node picks the places; the reply names them.
		taking = 1 + u.r.IntN(c.Seats)
		body["standing"] = []any{map[string]any{"section": c.Standing, "quantity": taking}}
	} else {
		ids = make([]string, 0, c.Seats)
		for len(ids) < c.Seats {
			t := tickets[u.r.IntN(len(tickets))]
			if !slices.Contains(ids, t) {
				ids = append(ids, t)
			}
		}
		body["ticket_ids"] = ids
	}
	if c.Promo != "" {
		body["promo_code"] = c.Promo
	}
	s := u.do(ctx, client, http.MethodPost, "/booking/reserve", body, &reply)
	if s.Status == http.StatusBadRequest && c.Promo != "" {
		// The code was refused (used up, most likely): buy without it.
		delete(body, "promo_code")
		s = u.do(ctx, client, http.MethodPost, "/booking/reserve", body, &reply)
	}
	if s.Status == 0 {
		return s
	}
	if c.Standing != "" {
		ids = reply.TicketIDs
	}
	s.Op, s.EventID, s.TicketIDs, s.BookingID, s.ExpiresAt = "reserve", c.Event, ids, reply.BookingID, reply.ExpiresAt
	record(s)
	if s.Status != http.StatusCreated {
		return s
	}
	u.taken += taking
	switch p := u.r.Float64(); {
	case p < c.Confirm:
		f := u.do(ctx, client, http.MethodPost, "/booking/confirm", map[string]any{"booking_id": reply.BookingID,
			"payment": map[string]string{"method": "card", "token": "tok_visa"}}, nil)
		f.Op, f.BookingID, f.EventID = "confirm", reply.BookingID, c.Event
		record(f)
		if f.Status == http.StatusOK && c.Refund > 0 && u.r.Float64() < c.Refund {
			r := u.do(ctx, client, http.MethodPost, "/booking/"+reply.BookingID+"/refund", nil, nil)
			if r.Status != 0 {
				r.Op, r.BookingID, r.EventID = "refund", reply.BookingID, c.Event
				record(r)
			}
		}
	case p < c.Confirm+c.Release:
		f := u.do(ctx, client, http.MethodDelete, "/booking/"+reply.BookingID, nil, nil)
		f.Op, f.BookingID, f.EventID = "release", reply.BookingID, c.Event
		record(f)
	}
	return s
}

// statusTransport is the status recorded for a request that got no HTTP
// reply at all (connection refused or reset, timeout): the node is down.
const statusTransport = 599

// do sends one request; Status 0 means it was cut off by the end of the run.
func (u *loadUser) do(ctx context.Context, client *http.Client, method, path string, body, out any, header ...string) sample {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	var (
		start time.Time
		resp  *http.Response
		err   error
	)
	for try := 0; ; try++ {
		var rd io.Reader
		if b != nil {
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, u.base+path, rd)
		req.Header.Set("Authorization", "Bearer "+u.token)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		start = time.Now()
		resp, err = client.Do(req)
		// A refused connection never carried the request: the node is
		// gone, so the user moves (as a balancer would) and sends it again.
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || u.ready == nil || try >= len(u.urls) {
			break
		}
		u.ready.up[u.at].Store(false)
		if !u.moveIfNotReady(ctx, client) {
			break
		}
	}
	s := sample{At: start.UTC(), Node: u.base, Latency: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		if ctx.Err() != nil {
			return sample{}
		}
		s.Status, s.Error = statusTransport, err.Error()
		return s
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	s.Latency = float64(time.Since(start).Microseconds()) / 1000
	s.Status = resp.StatusCode
	if out != nil && resp.StatusCode < 300 {
		_ = json.Unmarshal(data, out)
	}
	if resp.StatusCode >= 300 {
		s.Error = string(bytes.TrimSpace(data))
	}
	return s
}

func eventTickets(ctx context.Context, client *http.Client, base, event string) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events/"+event, nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadgen: is a node running at %s? %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: GET /events/%s: %s (run `boxoffice seed` first?)", event, resp.Status)
	}
	var body struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := make([]string, len(body.Tickets))
	for i, t := range body.Tickets {
		out[i] = t.TicketID
	}
	return out, nil
}

func devToken(ctx context.Context, client *http.Client, base, email string) (string, error) {
	b, _ := json.Marshal(map[string]string{"email": email, "name": "Load Generator"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/auth/token", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("loadgen: POST /auth/token: %s (the node must run in dev mode)", resp.Status)
	}
	var t struct {
		Token string `json:"token"`
	}
	return t.Token, json.NewDecoder(resp.Body).Decode(&t)
}
