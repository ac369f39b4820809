package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/notify"
	"github.com/boxoffice/boxoffice/api/notify/mailpittest"
	"github.com/boxoffice/boxoffice/api/ticketpdf/pdfscan"
	"github.com/boxoffice/boxoffice/persistence"
)

// fastNotices shortens the notice workers' backoffs and polls, so retries
// happen within a test (nothing asserts how long they take).
func fastNotices(smtpURL string) nodeOption {
	return func(c *Config) {
		c.SMTPURL = smtpURL
		c.noticeTune = func(t *noticeTuning) {
			t.MailBackoff, t.MailMaxBackoff = 20*time.Millisecond, 200*time.Millisecond
			t.Webhooks.Poll, t.Webhooks.Backoff, t.Webhooks.MaxBackoff = 20*time.Millisecond, 20*time.Millisecond, 200*time.Millisecond
		}
	}
}

// buySeats reserves and confirms seats first..first+n-1 of the demo
// stadium for token; it returns the booking id and fails t unless both
// succeed.
func (n *testNode) buySeats(t *testing.T, token string, first, count int) string {
	t.Helper()
	ev := stadiumEventID()
	var seats struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	var ids []string
	for i := first; i < first+count; i++ {
		ids = append(ids, seats.Tickets[i].TicketID)
	}
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", token, map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	if status, code := n.confirmWithKey(t, token, "buy-"+held.BookingID, held.BookingID); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, code)
	}
	return held.BookingID
}

// TestMailWhileSMTPIsDead: a sale completes while the SMTP server is
// blackholed (its connections are accepted and never answered), and the
// buyer's mail, with the tickets PDF, arrives once the server answers
// again. The mail is read back from a real SMTP server (mailpit).
func TestMailWhileSMTPIsDead(t *testing.T) {
	mp := mailpittest.Start(t)
	gate := mailpittest.NewGate(t, mp.SMTPAddr)
	n := startSeededNode(t, fastNotices("smtp://"+gate.Addr))
	alice := n.token(t, "alice@example.com")

	booking := n.buySeats(t, alice, 700, 2) // confirmed (200) with the SMTP server dead
	gate.WaitSeen(t, 1)                     // the mailer is stuck on it meanwhile
	if ms, err := mp.Messages(context.Background()); err != nil || len(ms) != 0 {
		t.Fatalf("mailpit has %d messages (%v) behind a closed gate", len(ms), err)
	}

	gate.Open()
	ms := mp.WaitMessages(t, 1)
	if len(ms) != 1 || len(ms[0].To) != 1 || ms[0].To[0].Address != "alice@example.com" || ms[0].Attachments != 1 ||
		!strings.HasPrefix(ms[0].Subject, "Your tickets: ") {
		t.Fatalf("messages %+v, want one to alice with one attachment", ms)
	}
	msg, err := mp.Message(context.Background(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, booking) || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/pdf" ||
		msg.Attachments[0].FileName != "tickets-"+booking+".pdf" {
		t.Fatalf("message %+v, want the booking in the text and its PDF attached", msg)
	}
	pdf, err := mp.Part(context.Background(), msg.ID, msg.Attachments[0].PartID)
	if err != nil {
		t.Fatal(err)
	}
	var tickets struct {
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+booking+"/tickets", alice, nil, &tickets); code != http.StatusOK {
		t.Fatalf("GET tickets: %d", code)
	}
	pages, err := pdfscan.Pages(pdf)
	if err != nil || len(pages) != 2 {
		t.Fatalf("attached PDF: %d pages, %v; want 2", len(pages), err)
	}
	for i, p := range pages {
		if p.QR != tickets.Tickets[i].Code {
			t.Errorf("page %d QR %q, want the ticket's code %q", i+1, p.QR, tickets.Tickets[i].Code)
		}
	}
}

// hookSink is an organiser's endpoint that fails until healed.
type hookSink struct {
	mu     sync.Mutex
	healed bool
	got    []hookCall
}

type hookCall struct {
	header http.Header
	body   []byte
	status int
}

func (s *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	status := http.StatusInternalServerError
	if s.healed {
		status = http.StatusNoContent
	}
	s.got = append(s.got, hookCall{header: r.Header.Clone(), body: body, status: status})
	s.mu.Unlock()
	w.WriteHeader(status)
}

func (s *hookSink) calls() []hookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookCall(nil), s.got...)
}

type webhookList struct {
	Webhooks []struct {
		WebhookID string `json:"webhook_id"`
		Secret    string `json:"secret"`
		Pending   int    `json:"pending"`
		Delivered int    `json:"delivered"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	} `json:"webhooks"`
}

// waitWebhooks polls GET /admin/api/webhooks until ok holds for it.
func (n *testNode) waitWebhooks(t *testing.T, admin string, what string, ok func(webhookList) bool) webhookList {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var l webhookList
		if code := n.call(t, http.MethodGet, "/admin/api/webhooks", admin, nil, &l); code == http.StatusOK && ok(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks never showed %s: %+v", what, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhooksSignedAndRetried: an organiser's endpoint that fails gets
// the confirmed booking again and again (the failures show in the admin
// list) until it answers 2xx; every attempt carries the same webhook-id and
// a signature the Standard Webhooks reference library verifies.
func TestWebhooksSignedAndRetried(t *testing.T) {
	sink := &hookSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	n := startSeededNode(t, fastNotices(""))
	admin := n.token(t, "admin@example.com", "admin")
	alice := n.token(t, "alice@example.com")

	bad := []struct {
		name  string
		token string
		body  any
		code  int
		field string
	}{
		{"not admin", alice, map[string]any{"url": srv.URL, "events": []string{"booking.confirmed"}}, http.StatusForbidden, ""},
		{"relative url", admin, map[string]any{"url": "/hooks", "events": []string{"booking.confirmed"}}, http.StatusBadRequest, "url"},
		{"ftp url", admin, map[string]any{"url": "ftp://example.com/x", "events": []string{"booking.confirmed"}}, http.StatusBadRequest, "url"},
		{"no events", admin, map[string]any{"url": srv.URL, "events": []string{}}, http.StatusBadRequest, "events"},
		{"unknown event", admin, map[string]any{"url": srv.URL, "events": []string{"booking.exploded"}}, http.StatusBadRequest, "events"},
		{"twice", admin, map[string]any{"url": srv.URL, "events": []string{"event.sold_out", "event.sold_out"}}, http.StatusBadRequest, "events"},
		{"unknown field", admin, map[string]any{"url": srv.URL, "events": []string{"event.sold_out"}, "secret": "x"}, http.StatusBadRequest, ""},
	}
	for _, c := range bad {
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		code := n.call(t, http.MethodPost, "/admin/api/webhooks", c.token, c.body, &e)
		if code != c.code || (c.field != "" && e.Error.Details["field"] != c.field) {
			t.Errorf("%s: %d %+v, want %d on field %q", c.name, code, e.Error, c.code, c.field)
		}
	}

	var created struct {
		WebhookID string   `json:"webhook_id"`
		URL       string   `json:"url"`
		Events    []string `json:"events"`
		Secret    string   `json:"secret"`
	}
	if code := n.call(t, http.MethodPost, "/admin/api/webhooks", admin,
		map[string]any{"url": srv.URL, "events": []string{"booking.confirmed"}}, &created); code != http.StatusCreated ||
		!strings.HasPrefix(created.Secret, "whsec_") || created.URL != srv.URL || len(created.Events) != 1 {
		t.Fatalf("create webhook: %d %+v", code, created)
	}
	booking := n.buySeats(t, alice, 710, 1)

	l := n.waitWebhooks(t, admin, "two failed attempts", func(l webhookList) bool {
		return len(l.Webhooks) == 1 && l.Webhooks[0].Attempts >= 2 && l.Webhooks[0].LastError == "HTTP 500"
	})
	if w := l.Webhooks[0]; w.Secret != "" || w.Pending != 1 || w.Delivered != 0 {
		t.Fatalf("failing webhook %+v: want 1 pending, the secret not shown again", w)
	}
	sink.mu.Lock()
	sink.healed = true
	sink.mu.Unlock()
	n.waitWebhooks(t, admin, "the delivery", func(l webhookList) bool {
		return len(l.Webhooks) == 1 && l.Webhooks[0].Delivered == 1 && l.Webhooks[0].Pending == 0
	})

	wh, err := standardwebhooks.NewWebhook(created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	calls := sink.calls()
	if len(calls) < 3 || calls[len(calls)-1].status != http.StatusNoContent {
		t.Fatalf("%d calls, want at least 2 failures and then the success", len(calls))
	}
	for i, c := range calls {
		if err := wh.Verify(c.body, c.header); err != nil {
			t.Errorf("call %d: signature does not verify: %v", i, err)
		}
		if c.header.Get("webhook-id") != calls[0].header.Get("webhook-id") || !strings.HasPrefix(c.header.Get("webhook-id"), "msg_") {
			t.Errorf("call %d: webhook-id %q, want the first call's %q", i, c.header.Get("webhook-id"), calls[0].header.Get("webhook-id"))
		}
		var body struct {
			Type string `json:"type"`
			Data struct {
				BookingID string `json:"booking_id"`
				Total     string `json:"total"`
			} `json:"data"`
		}
		if err := json.Unmarshal(c.body, &body); err != nil || body.Type != "booking.confirmed" || body.Data.BookingID != booking || body.Data.Total == "" {
			t.Errorf("call %d: body %s (%v), want booking.confirmed of %s", i, c.body, err, booking)
		}
	}
	tampered := append([]byte(nil), calls[0].body...)
	tampered[len(tampered)-2] ^= 1
	if wh.Verify(tampered, calls[0].header) == nil {
		t.Error("a tampered body verified")
	}
}

// TestRefundAndCancelMails: notices written by a refund's or a
// cancellation's own transaction (persistence.AddNotices, as the refund
// code calls it) mail the buyer, and every buyer of the event; a notice
// handled before is not mailed again when it is delivered a second time.
func TestRefundAndCancelMails(t *testing.T) {
	mp := mailpittest.Start(t)
	n := startSeededNode(t, fastNotices("smtp://"+mp.SMTPAddr))
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")
	aliceBooking := n.buySeats(t, alice, 720, 2)
	n.buySeats(t, bob, 730, 1)
	mp.WaitMessages(t, 2)

	ctx := context.Background()
	b, err := n.db.Booking(ctx, uuid.MustParse(aliceBooking))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := n.db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := persistence.AddNotices(ctx, tx, boxoffice.BookingNotice(boxoffice.NoticeBookingRefunded, b, now),
		boxoffice.EventNotice(boxoffice.NoticeEventCancelled, b.EventID, now)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ms := mp.WaitMessages(t, 5)
	got := map[string]int{}
	for _, m := range ms {
		subject, _, _ := strings.Cut(m.Subject, ":")
		got[m.To[0].Address+" "+subject]++
	}
	want := map[string]int{"alice@example.com Your tickets": 1, "bob@example.com Your tickets": 1,
		"alice@example.com Refunded": 1, "alice@example.com Cancelled": 1, "bob@example.com Cancelled": 1}
	if len(ms) != 5 || !maps.Equal(got, want) {
		t.Fatalf("mails %v, want %v", got, want)
	}

	// A second delivery of the refund notice (at least once) mails nothing.
	var id int64
	var payload []byte
	if err := n.db.Pool().QueryRow(ctx, `SELECT id, payload FROM outbox WHERE topic = $1`, boxoffice.NoticeBookingRefunded).Scan(&id, &payload); err != nil {
		t.Fatal(err)
	}
	mc := notify.DefaultMailConfig()
	mc.SMTPURL = "smtp://" + mp.SMTPAddr
	m, err := notify.NewMailer(mc, n.db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Handle(ctx, id, boxoffice.NoticeBookingRefunded, payload); err != nil {
		t.Fatal(err)
	}
	if ms, err := mp.Messages(ctx); err != nil || len(ms) != 5 {
		t.Fatalf("%d mails (%v) after a redelivered notice, want still 5", len(ms), err)
	}
}
