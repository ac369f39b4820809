package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// SecretPrefix starts every Standard Webhooks signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 32 random bytes in
// base64, as the Standard Webhooks scheme writes them.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign is the Standard Webhooks signature of one message: "v1," and the
// base64 HMAC-SHA256, under the secret's decoded bytes, of
// "<id>.<unix seconds>.<body>".
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("notify: webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Body is a webhook delivery's JSON body: the notice's type, when the
// delivery was queued, and the notice as data (the Standard Webhooks
// layout).
func Body(typ string, n boxoffice.Notice, at time.Time) ([]byte, error) {
	return json.Marshal(struct {
		Type      string           `json:"type"`
		Timestamp time.Time        `json:"timestamp"`
		Data      boxoffice.Notice `json:"data"`
	}{typ, at.UTC(), n})
}

// WebhookQueue is the durable state of webhook deliveries (PostgreSQL):
// notices fan out into one row per subscribed webhook, attempts are
// claimed with a lease and finished with their outcome.
type WebhookQueue interface {
	// EnqueueWebhooks adds notice id for every webhook subscribed to typ,
	// once however often it is called.
	EnqueueWebhooks(ctx context.Context, id int64, typ string, body []byte) (int, error)
	// ClaimWebhookDeliveries takes due deliveries for lease.
	ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]boxoffice.WebhookDelivery, error)
	// FinishWebhookDelivery records an attempt: failed "" for a 2xx, else
	// the error, with the next attempt due after retry.
	FinishWebhookDelivery(ctx context.Context, d boxoffice.WebhookDelivery, failed string, retry time.Duration) error
}

// WebhookConfig tunes deliveries.
type WebhookConfig struct {
	// Poll is how often a node looks for due deliveries when it found
	// none; a new notice is delivered within about this long.
	Poll time.Duration
	// Timeout bounds one attempt (connect, send, answer headers): an
	// endpoint that hangs costs one worker this long, then a retry.
	Timeout time.Duration
	// Backoff is the first retry's delay; each further failure doubles
	// it, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Workers is how many deliveries a node attempts at once, so one dead
	// endpoint cannot hold up the others.
	Workers int
	// Now is the clock that stamps webhook-timestamp (tests may move it).
	Now func() time.Time
	// Addrs limits where organisers' webhooks connect (loopback and
	// private addresses only where its allow-list says): checked on the
	// address actually dialled, so a name that resolves somewhere else
	// after registration (DNS rebinding) is refused too. Nil checks
	// nothing; admins' webhooks (no organisation) are not limited.
	Addrs *boxoffice.WebhookAddrs
}

// DefaultWebhookConfig retries after 5 s, 10 s, 20 s... up to an hour.
func DefaultWebhookConfig() WebhookConfig {
	return WebhookConfig{Poll: time.Second, Timeout: 10 * time.Second, Backoff: 5 * time.Second,
		MaxBackoff: time.Hour, Workers: 4, Now: time.Now}
}

// Validate reports settings that cannot work.
func (c WebhookConfig) Validate() error {
	if c.Poll <= 0 || c.Timeout <= 0 || c.Backoff <= 0 || c.MaxBackoff < c.Backoff || c.Workers <= 0 || c.Now == nil {
		return errors.New("notify: webhook config needs positive Poll, Timeout, Backoff <= MaxBackoff, Workers and a clock")
	}
	return nil
}

// Backoff is the delay after the n-th failed attempt (n from 1): base,
// doubled each time, capped at max.
func Backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Webhooks delivers organisers' webhooks: Handle fans notices out into
// durable deliveries, Run attempts them until each gets a 2xx.
type Webhooks struct {
	cfg    WebhookConfig
	queue  WebhookQueue
	client *http.Client
	// limited is client for organisers' webhooks: it dials only what
	// cfg.Addrs permits (client itself when there is no limit).
	limited *http.Client
	log     *slog.Logger
}

// NewWebhooks checks cfg and returns the deliverer.
func NewWebhooks(cfg WebhookConfig, queue WebhookQueue, log *slog.Logger) (*Webhooks, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Webhooks{cfg: cfg, queue: queue, log: log, client: &http.Client{
		Timeout: cfg.Timeout,
		// A redirect could send the signed body somewhere else: the
		// registered URL answers, or the attempt fails.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	w.limited = w.client
	if cfg.Addrs != nil {
		addrs := *cfg.Addrs
		d := &net.Dialer{Timeout: cfg.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !addrs.Permits(ap.Addr()) {
				return fmt.Errorf("notify: webhook address %s is not allowed (loopback, private or special)", address)
			}
			return nil
		}}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the check is on the address dialled; a proxy would hide it
		tr.DialContext = d.DialContext
		w.limited = &http.Client{Timeout: cfg.Timeout, Transport: tr, CheckRedirect: w.client.CheckRedirect}
	}
	return w, nil
}

// Handle is the notice handler that queues a notice for every webhook
// subscribed to its type; a redelivered notice queues nothing new.
func (w *Webhooks) Handle(ctx context.Context, id int64, typ string, payload []byte) error {
	var n boxoffice.Notice
	if err := json.Unmarshal(payload, &n); err != nil {
		w.log.Error("dropping a malformed notice", "notice", id, "err", err)
		return nil
	}
	n.Type = typ
	body, err := Body(typ, n, w.cfg.Now())
	if err != nil {
		return err
	}
	_, err = w.queue.EnqueueWebhooks(ctx, id, typ, body)
	return err
}

// Run attempts due deliveries until ctx ends, with cfg.Workers at once.
// Every node may run it: claims are disjoint, and a delivery claimed by a
// node that dies is taken again once its lease runs out.
func (w *Webhooks) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx)
		}()
	}
	wg.Wait()
}

func (w *Webhooks) work(ctx context.Context) {
	lease := 2*w.cfg.Timeout + w.cfg.Poll
	for ctx.Err() == nil {
		ds, err := w.queue.ClaimWebhookDeliveries(ctx, 1, lease)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("claiming webhook deliveries failed", "err", err)
		}
		if len(ds) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(w.cfg.Poll):
			}
			continue
		}
		for _, d := range ds {
			w.attempt(ctx, d)
		}
	}
}

// attempt sends one delivery and records its outcome.
func (w *Webhooks) attempt(ctx context.Context, d boxoffice.WebhookDelivery) {
	failed := ""
	if err := w.post(ctx, d); err != nil {
		failed = err.Error()
		if len(failed) > 500 {
			failed = failed[:500]
		}
	}
	retry := Backoff(d.Attempts+1, w.cfg.Backoff, w.cfg.MaxBackoff)
	if err := w.queue.FinishWebhookDelivery(context.WithoutCancel(ctx), d, failed, retry); err != nil {
		w.log.Warn("recording a webhook attempt failed; it is retried after its lease", "webhook", d.WebhookID, "err", err)
	}
}

// post sends d once, signed; anything but a 2xx is an error.
func (w *Webhooks) post(ctx context.Context, d boxoffice.WebhookDelivery) error {
	at := w.cfg.Now()
	sig, err := Sign(d.Secret, d.MessageID, at, d.Body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "boxoffice-webhooks")
	req.Header.Set("webhook-id", d.MessageID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	client := w.client
	if d.OrgID != uuid.Nil {
		client = w.limited
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
