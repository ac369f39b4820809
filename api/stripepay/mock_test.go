package stripepay_test

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

// The tests drive the provider against a real stripe-mock (`go tool
// stripe-mock`, pinned by the tool line in go.mod), started once for the
// package on a Unix socket in a temporary directory (no port to race for).
// stripe-mock serves Stripe's whole API from its OpenAPI spec but is
// stateless: it checks every request's shape (an unknown parameter or a
// wrong type is a 400) and answers canned objects (a confirmed intent comes
// back requires_payment_method, amount 1099 usd). A recording proxy in
// front of it (mockProxy) records each request and sets what stripe-mock
// cannot: the intent's status, its metadata and amount as created, errors,
// outages and hangs. Each test says which is which.

var mock struct {
	sock string
	cmd  *exec.Cmd
	err  error
}

func TestMain(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "stripe-mock")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	mock.sock = filepath.Join(dir, "stripe.sock")
	// `go tool -n` builds the tool once (cached) and prints its path, so
	// the process the test stops is stripe-mock itself, not a go wrapper.
	out, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build stripe-mock (go tool -n stripe-mock): %v\n", err)
		return 1
	}
	var logs bytes.Buffer
	mock.cmd = exec.Command(strings.TrimSpace(string(out)), "-http-unix", mock.sock)
	mock.cmd.Stdout, mock.cmd.Stderr = &logs, &logs
	if err := mock.cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start stripe-mock: %v\n", err)
		return 1
	}
	defer func() {
		_ = mock.cmd.Process.Kill()
		_ = mock.cmd.Wait()
	}()
	if err := waitMock(60 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "stripe-mock did not answer: %v\n%s\n", err, logs.String())
		return 1
	}
	return m.Run()
}

// mockTransport reaches stripe-mock's socket.
var mockTransport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", mock.sock)
}}

// waitMock polls stripe-mock until it answers an authenticated request.
func waitMock(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://stripe-mock/v1/balance", nil)
		req.SetBasicAuth("sk_test_mock", "")
		resp, err := mockTransport.RoundTrip(req)
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

// recorded is one request the proxy saw.
type recorded struct {
	Method, Path, Key string
	Form              url.Values
}

// override is what the proxy does instead of passing stripe-mock's
// answer through unchanged.
type override struct {
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

// mockProxy records requests and rewrites stripe-mock's answers.
type mockProxy struct {
	URL string
	mu  sync.Mutex
	// reqs are the requests in arrival order.
	reqs []recorded
	// created keeps each intent's create form by its id, so later answers
	// about that intent carry its real amount, currency and metadata.
	created map[string]url.Values
	// rule decides per request; nil passes through.
	rule func(r recorded, n int) *override
}

func newProxy(t *testing.T, rule func(r recorded, n int) *override) *mockProxy {
	t.Helper()
	p := &mockProxy{created: map[string]url.Values{}, rule: rule}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// requests returns the recorded requests whose path ends with suffix.
func (p *mockProxy) requests(suffix string) []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []recorded
	for _, r := range p.reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func (p *mockProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reqs)
}

func (p *mockProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	rec := recorded{Method: r.Method, Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"), Form: form}
	p.mu.Lock()
	p.reqs = append(p.reqs, rec)
	n := len(p.reqs)
	rule := p.rule
	p.mu.Unlock()
	var o *override
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
	resp, err := mockTransport.RoundTrip(out)
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
func (p *mockProxy) rewrite(rec recorded, answer []byte, o *override) []byte {
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

// on builds a rule that applies o to the requests whose path ends with
// suffix (POST or GET) and passes the others.
func on(suffix string, o override) func(recorded, int) *override {
	return func(r recorded, _ int) *override {
		if strings.HasSuffix(r.Path, suffix) {
			return &o
		}
		return nil
	}
}

// cardDeclined is Stripe's 402 answer to a declined confirm.
const cardDeclined = `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`

// serverError is a Stripe 500.
const serverError = `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`
