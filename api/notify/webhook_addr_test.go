package notify

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// finishes records FinishWebhookDelivery calls.
type finishes struct {
	mu     sync.Mutex
	failed map[uuid.UUID]string
}

func (f *finishes) EnqueueWebhooks(context.Context, int64, string, []byte) (int, error) {
	return 0, nil
}
func (f *finishes) ClaimWebhookDeliveries(context.Context, int, time.Duration) ([]boxoffice.WebhookDelivery, error) {
	return nil, nil
}
func (f *finishes) FinishWebhookDelivery(_ context.Context, d boxoffice.WebhookDelivery, failed string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed[d.WebhookID] = failed
	return nil
}

// An organiser's webhook is never sent to an address the policy refuses,
// whatever its URL said at registration (the check is on the address
// dialled); an admin's is sent anywhere.
func TestOrganiserWebhooksDialOnlyPermittedAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	// A name, so that only the dial can see the address.
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	cases := []struct {
		name    string
		allow   []string
		org     uuid.UUID
		refused bool
	}{
		{"organiser, loopback not allowed", nil, uuid.New(), true},
		{"organiser, loopback allowed", []string{"127.0.0.0/8", "::1/128"}, uuid.New(), false},
		{"admin, no limit", nil, uuid.Nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultWebhookConfig()
			cfg.Addrs = &boxoffice.WebhookAddrs{}
			for _, a := range tc.allow {
				cfg.Addrs.Allow = append(cfg.Addrs.Allow, mustPrefix(t, a))
			}
			q := &finishes{failed: map[uuid.UUID]string{}}
			w, err := NewWebhooks(cfg, q, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			d := boxoffice.WebhookDelivery{WebhookID: uuid.New(), URL: url, Secret: NewSecret(), MessageID: "msg_1", Body: []byte(`{}`), OrgID: tc.org}
			w.attempt(context.Background(), d)
			failed := q.failed[d.WebhookID]
			if tc.refused {
				if !strings.Contains(failed, "not allowed") || hits.Load() != before {
					t.Fatalf("failed %q, %d requests reached the server; want refused before connecting", failed, hits.Load()-before)
				}
				return
			}
			if failed != "" || hits.Load() != before+1 {
				t.Fatalf("failed %q, %d requests; want delivered", failed, hits.Load()-before)
			}
		})
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
