package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// TestCancelEventRefundsEachBookingOnceAcrossARestart: an admin cancels an
// event with six confirmed bookings; reserves are refused at once; the
// refund job does two, then every further refund stops after the provider
// gave the money back and before the journal record (a hook: a crash at
// the worst point), and the node stops. A new node on the same database
// (and the same development provider, which counts refunds per charge)
// resumes the job from PostgreSQL (the sweeper wakes the event, which
// nobody calls): every booking is refunded, the provider
// refunded each charge exactly once, GET /admin/api/events/{id} shows
// 6 of 6, and boxoffice check finds nothing.
func TestCancelEventRefundsEachBookingOnceAcrossARestart(t *testing.T) {
	const n = 6
	pay := devpay.New()
	db := pgtest.NewDB(t)
	withPay := func(c *Config) { c.devPay = pay }
	a := startTestNodeOn(t, db, withPay)
	ev := createCheckEvent(t, a)
	admin := a.token(t, "admin@example.com", "admin")
	seats := a.ticketIDs(t, uuid.MustParse(ev))
	var bookings []string
	ours := map[uuid.UUID]bool{}
	for i := range n {
		tok := a.token(t, fmt.Sprintf("buyer%d@example.com", i))
		var held struct {
			BookingID string `json:"booking_id"`
		}
		if code := a.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": []string{seats[i]}}, &held); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
		if status, code := a.confirmWithKey(t, tok, "", held.BookingID); status != http.StatusOK {
			t.Fatalf("confirm: %d %s", status, code)
		}
		bookings = append(bookings, held.BookingID)
		ours[uuid.MustParse(held.BookingID)] = true
	}

	errCrash := errors.New("the node died here")
	var mu sync.Mutex
	passed, stopped := 0, map[uuid.UUID]bool{}
	actors.SetRefundHook(func(b uuid.UUID) error {
		if !ours[b] {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if passed < 2 && !stopped[b] {
			passed++
			return nil
		}
		stopped[b] = true
		return errCrash
	})
	t.Cleanup(func() { actors.SetRefundHook(nil) })

	var cancelled struct {
		Status string `json:"status"`
	}
	if code := a.call(t, http.MethodPost, "/admin/api/events/"+ev+"/cancel", admin, nil, &cancelled); code != http.StatusOK || cancelled.Status != "cancelled" {
		t.Fatalf("cancel: %d %+v", code, cancelled)
	}
	late := a.token(t, "late@example.com")
	var refused struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if code := a.call(t, http.MethodPost, "/booking/reserve", late, map[string]any{"event_id": ev, "ticket_ids": []string{seats[n]}}, &refused); code != http.StatusConflict || refused.Error.Code != boxoffice.ENotOnSale {
		t.Fatalf("reserve of a cancelled event: %d %+v, want 409 not_on_sale", code, refused)
	}
	progress := func(node *testNode, admin string) (int, int) {
		var st struct {
			Refunds struct{ Done, Total int } `json:"refunds"`
		}
		if code := node.call(t, http.MethodGet, "/admin/api/events/"+ev, admin, nil, &st); code != http.StatusOK {
			return -1, -1
		}
		return st.Refunds.Done, st.Refunds.Total
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		s := len(stopped)
		mu.Unlock()
		done, total := progress(a, admin)
		return s == n-2 && done == 2 && total == n
	}, 30*time.Second, 20*time.Millisecond, "two refunds done, the rest stopped after the provider")
	a.Close()
	actors.SetRefundHook(nil)

	b := startTestNodeOn(t, db, withPay)
	// Nobody calls the event: the sweeper wakes it because refunds are
	// owed, and its actor resumes them (PostgreSQL is read directly, since
	// the admin API would wake the event itself).
	require.Eventually(t, func() bool {
		p, err := b.db.RefundProgress(context.Background(), uuid.MustParse(ev))
		return err == nil && p.Done == n && p.Total == n
	}, 60*time.Second, 50*time.Millisecond, "the new node resumes the job")
	admin = b.token(t, "admin@example.com", "admin")
	if done, total := progress(b, admin); done != n || total != n {
		t.Fatalf("GET /admin/api/events/%s refunds %d of %d, want %d of %d", ev, done, total, n, n)
	}
	for _, id := range bookings {
		bk, err := b.db.Booking(context.Background(), uuid.MustParse(id))
		if err != nil || bk.Status != boxoffice.BookingRefunded {
			t.Errorf("booking %s: %s, %v; want refunded", id, bk.Status, err)
		}
		if got := pay.Refunds(uuid.MustParse(id)); got != 1 {
			t.Errorf("booking %s: the provider refunded its charge %d times, want 1", id, got)
		}
	}
	if code := b.call(t, http.MethodPost, "/admin/api/events/"+ev+"/cancel", admin, nil, &cancelled); code != http.StatusOK || cancelled.Status != "cancelled" {
		t.Fatalf("repeated cancel: %d %+v", code, cancelled)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check", "-database-url", db}, func(string) string { return "" }, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), " 0 violation(s)") {
		t.Fatalf("check after the cancellation: %v\n%s%s", err, out.String(), errOut.String())
	}
}
