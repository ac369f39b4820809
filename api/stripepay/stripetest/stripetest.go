// Package stripetest runs a real stripe-mock (`go tool stripe-mock`,
// pinned by the tool line in go.mod) behind a recording proxy, for tests
// of the Stripe provider and of nodes that use it.
//
// stripe-mock serves Stripe's whole API from its OpenAPI spec but is
// stateless: it checks every request's shape (an unknown parameter or a
// wrong type is a 400) and answers canned objects (a confirmed intent
// comes back requires_payment_method, amount 1099 usd). The Proxy in
// front of it records each request and sets what stripe-mock cannot: the
// intent's status, its metadata and amount as created, errors, outages and
// hangs. Tests say which part of an answer is which.
package stripetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds stripe-mock once per test process: `go tool -n` builds the
// tool (cached by the go command) and prints its path, so the process a
// test stops is stripe-mock itself, not a go wrapper.
func binary() (string, error) {
	build.once.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
		if err != nil {
			build.err = fmt.Errorf("build stripe-mock (go tool -n stripe-mock): %w", err)
			return
		}
		build.path = strings.TrimSpace(string(out))
	})
	return build.path, build.err
}

// shared is the stripe-mock of a test binary that runs Main; nil starts
// one per Start.
var shared *http.Transport

// Main runs the tests of a package with one stripe-mock for all of them
// (starting one takes a moment: it loads Stripe's whole spec), stopped
// when they end. Use it as os.Exit(stripetest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	tr, stop, err := launch()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	shared = tr
	return m.Run()
}

// startMock returns the shared stripe-mock, or runs one of its own for t.
func startMock(t testing.TB) *http.Transport {
	t.Helper()
	if shared != nil {
		return shared
	}
	tr, stop, err := launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return tr
}

// launch runs stripe-mock on a Unix socket in a temporary directory (no
// port to race for), waits until it answers and returns a transport to it
// and the function that stops it.
func launch() (*http.Transport, func(), error) {
	bin, err := binary()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "stripe-mock")
	if err != nil {
		return nil, nil, err
	}
	sock := filepath.Join(dir, "stripe.sock")
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-http-unix", sock)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	stop := func() {
		tr.CloseIdleConnections()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
	if err := waitMock(tr, 60*time.Second); err != nil {
		stop()
		return nil, nil, fmt.Errorf("stripe-mock did not answer: %w\n%s", err, logs.String())
	}
	return tr, stop, nil
}

// waitMock polls stripe-mock until it answers an authenticated request.
func waitMock(tr *http.Transport, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://stripe-mock/v1/balance", nil)
		req.SetBasicAuth("sk_test_mock", "")
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising
	}
}

// Recorded is one request the proxy saw.
type Recorded struct {
	Method, Path, Key string
	Form              url.Values
}

// Override is what the proxy does instead of passing stripe-mock's
// answer through unchanged.
type Override struct {
	// Status sets the PaymentIntent's (or refund's) status in the answer.
	Status string
	// NextURL makes the answer a requires_action with a redirect.
	NextURL string
	// Decline sets last_payment_error (a declined confirm answered 200).
	Decline string
	// HTTPStatus and Body answer instead of stripe-mock.
	HTTPStatus int
	Body       string
	// Hang holds the request until the client gives up (a timeout).
	Hang bool
}

// Proxy records requests and rewrites stripe-mock's answers.
type Proxy struct {
	URL string
	mu  sync.Mutex
	// reqs are the requests in arrival order.
	reqs []Recorded
	// created keeps each intent's create form by its id, so later answers
	// about that intent carry its real amount, currency and metadata.
	created map[string]url.Values
	// rule decides per request; nil passes through.
	rule func(r Recorded, n int) *Override
	tr   *http.Transport
}

// SetRule replaces the proxy's rule.
func (p *Proxy) SetRule(rule func(r Recorded, n int) *Override) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
}

// Start runs a fresh stripe-mock and a Proxy to it for t, both stopped
// when t ends; rule (nil passes everything through) decides per request.
func Start(t testing.TB, rule func(r Recorded, n int) *Override) *Proxy {
	t.Helper()
	p := &Proxy{created: map[string]url.Values{}, rule: rule, tr: startMock(t)}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Requests returns the recorded requests whose path ends with suffix.
func (p *Proxy) Requests(suffix string) []Recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Recorded
	for _, r := range p.reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// Count is the number of requests the proxy saw.
func (p *Proxy) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reqs)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	rec := Recorded{Method: r.Method, Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"), Form: form}
	p.mu.Lock()
	p.reqs = append(p.reqs, rec)
	n := len(p.reqs)
	rule := p.rule
	p.mu.Unlock()
	var o *Override
	if rule != nil {
		o = rule(rec, n)
	}
	if o != nil && o.Hang {
		<-r.Context().Done()
		return
	}
	if o != nil && o.HTTPStatus != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(o.HTTPStatus)
		_, _ = io.WriteString(w, o.Body)
		return
	}
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://stripe-mock"+r.URL.RequestURI(), bytes.NewReader(body))
	out.Header = r.Header.Clone()
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		answer = p.rewrite(rec, answer, o)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// rewrite gives an intent the amount, currency and metadata it was created
// with (stripe-mock's are canned) and applies o.
func (p *Proxy) rewrite(rec Recorded, answer []byte, o *Override) []byte {
	var obj map[string]any
	if json.Unmarshal(answer, &obj) != nil {
		return answer
	}
	if obj["object"] == "payment_intent" {
		id, _ := obj["id"].(string)
		p.mu.Lock()
		if rec.Path == "/v1/payment_intents" && rec.Method == http.MethodPost {
			p.created[id] = rec.Form
		}
		form := p.created[id]
		p.mu.Unlock()
		if form != nil {
			var amount int64
			fmt.Sscan(form.Get("amount"), &amount)
			obj["amount"], obj["currency"] = amount, form.Get("currency")
			meta := map[string]any{}
			for k, v := range form {
				if strings.HasPrefix(k, "metadata[") {
					meta[strings.TrimSuffix(strings.TrimPrefix(k, "metadata["), "]")] = v[0]
				}
			}
			obj["metadata"] = meta
		}
		obj["next_action"], obj["last_payment_error"] = nil, nil
	}
	if o != nil {
		if o.Status != "" {
			obj["status"] = o.Status
		}
		if o.NextURL != "" {
			obj["status"] = "requires_action"
			obj["next_action"] = map[string]any{"type": "redirect_to_url",
				"redirect_to_url": map[string]any{"url": o.NextURL, "return_url": "https://tickets.example/return"}}
		}
		if o.Decline != "" {
			obj["status"] = "requires_payment_method"
			obj["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined",
				"decline_code": o.Decline, "message": "Your card was declined."}
		}
	}
	b, _ := json.Marshal(obj)
	return b
}

// On builds a rule that applies o to the requests whose path ends with
// suffix (POST or GET) and passes the others.
func On(suffix string, o Override) func(Recorded, int) *Override {
	return func(r Recorded, _ int) *Override {
		if strings.HasSuffix(r.Path, suffix) {
			return &o
		}
		return nil
	}
}

// CardDeclined is Stripe's 402 answer to a declined confirm.
const CardDeclined = `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`

// ServerError is a Stripe 500.
const ServerError = `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`
