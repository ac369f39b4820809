package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// chargedAtStripe is the proxy's rule for a charge that Stripe made: the
// intent's confirm and every later retrieve of it are succeeded. onConfirm,
// when set, runs once when the first confirm arrives, before it is
// answered (or instead: hang keeps the confirm from being answered).
func chargedAtStripe(onConfirm func(), hang bool) func(stripetest.Recorded, int) *stripetest.Override {
	var once sync.Once
	return func(r stripetest.Recorded, _ int) *stripetest.Override {
		switch {
		case strings.HasSuffix(r.Path, "/confirm"):
			first := false
			once.Do(func() {
				first = true
				if onConfirm != nil {
					onConfirm()
				}
			})
			if first && hang {
				return &stripetest.Override{Hang: true}
			}
			return &stripetest.Override{Status: "succeeded"}
		case r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/payment_intents/"):
			return &stripetest.Override{Status: "succeeded"}
		}
		return nil
	}
}

// postJSON sends one request without failing the test on a transport
// error (the node may die under it); it returns the status, 0 on error.
func postJSON(url, token string, body any) int {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	c := http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// moneyAndSeatsAgree checks what Stripe saw (through the proxy) against
// the database: the booking was confirmed at Stripe under its first
// attempt's key only (retries of one request carry the same key, and Stripe
// takes the money once per key), nothing was refunded or cancelled, and
// the booking is confirmed with its seats sold; `boxoffice check` finds
// nothing.
func moneyAndSeatsAgree(t *testing.T, proxy *stripetest.Proxy, db, booking string, seats int) {
	t.Helper()
	key := "booking-" + booking + "-attempt-1:confirm"
	confirms := 0
	for _, r := range proxy.Requests("/confirm") {
		if r.Key == key {
			confirms++
		} else if strings.Contains(r.Key, booking) {
			t.Errorf("a confirm under another key %q", r.Key)
		}
	}
	if confirms == 0 {
		t.Error("no confirm of the booking reached Stripe")
	}
	if n := len(proxy.Requests("/v1/refunds")) + len(proxy.Requests("/cancel")); n != 0 {
		t.Errorf("%d refunds or cancels, want none (the sale stands)", n)
	}
	pool := openPool(t, db)
	var status, payment string
	var sold int
	if err := pool.QueryRow(context.Background(), `SELECT b.status, p.status,
			(SELECT count(*) FROM sold_seats s WHERE s.booking_id = b.id)
		FROM bookings b JOIN payments p ON p.booking_id = b.id WHERE b.id = $1`, booking).Scan(&status, &payment, &sold); err != nil {
		t.Fatal(err)
	}
	if status != "confirmed" || payment != "succeeded" || sold != seats {
		t.Errorf("booking %s, payment %s, %d sold seats; want confirmed, succeeded, %d", status, payment, sold, seats)
	}
	assertNoViolations(t, db, nil)
}

// TestStripeChargeThenPostgresDies: Stripe charges the booking (the proxy
// answers the confirm succeeded) and PostgreSQL is stopped just before
// that answer reaches the node, so the sale cannot be made durable. Once
// PostgreSQL is back, the node finishes the sale from the pending payment
// (the run records the charge, or the next activation asks Stripe): the
// money and the seats agree, and nothing was charged twice.
func TestStripeChargeThenPostgresDies(t *testing.T) {
	stopped := make(chan struct{})
	proxy := stripetest.Start(t, chargedAtStripe(func() {
		if err := pgtest.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
		close(stopped)
	}, false))
	t.Cleanup(func() { _ = pgtest.Start() }) // a no-op when it runs
	n := startTestNode(t, func(c *Config) {
		c.Payments, c.StripeSecretKey, c.StripeAPIURL = "stripe", "sk_test_node", proxy.URL
	})
	ev := seedSmall(t, n.DB, 1)[0]
	alice := n.token(t, "alice@example.com")
	seats := ticketsOf(t, n, ev)
	var b struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", alice,
		map[string]any{"event_id": ev, "ticket_ids": seats[20:22]}, &b); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	confirm := map[string]any{"booking_id": b.BookingID, "payment": map[string]string{"method": "card", "token": "pm_card_visa"}}
	go postJSON(n.URL+"/booking/confirm", alice, confirm) // its answer may be lost with the database
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("the confirm did not reach Stripe")
	}
	if err := pgtest.Start(); err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	require.Eventually(t, func() bool {
		var got struct {
			Status string `json:"status"`
		}
		n.call(t, http.MethodGet, "/events/"+ev, "", nil, nil) // activates the event if it stopped
		return n.call(t, http.MethodGet, "/booking/"+b.BookingID, alice, nil, &got) == http.StatusOK && got.Status == "confirmed"
	}, 3*time.Minute, 200*time.Millisecond, "the sale is finished once PostgreSQL is back")
	moneyAndSeatsAgree(t, proxy, n.DB, b.BookingID, 2)
}

// TestStripeChargeThenNodeKilled: the node's confirm reaches Stripe, which
// charges (every later look at the intent says succeeded), and the node
// is killed with SIGKILL before the answer arrives: a pending payment row
// and a pinned hold are all that is durable. After a restart, the event's
// activation (a reader's GET of the event, no confirm) reconciles: it asks
// Stripe about the pending payment without confirming again and finishes
// the sale. The money and the seats agree.
func TestStripeChargeThenNodeKilled(t *testing.T) {
	arrived := make(chan struct{})
	proxy := stripetest.Start(t, chargedAtStripe(func() { close(arrived) }, true))
	pc := startProcCluster(t, 1)
	nd := pc.Nodes[0]
	nd.kill()
	nd.env = append(nd.env, "BOXOFFICE_PAYMENTS=stripe", "BOXOFFICE_STRIPE_SECRET_KEY=sk_test_node",
		"BOXOFFICE_STRIPE_API_URL="+proxy.URL)
	nd.restart()
	c := nd.client()
	ev := seedSmall(t, pc.DB, 1)[0]
	alice := c.token(t, "alice@example.com")
	seats := ticketsOf(t, c, ev)
	var b struct {
		BookingID string `json:"booking_id"`
	}
	if code := c.call(t, http.MethodPost, "/booking/reserve", alice,
		map[string]any{"event_id": ev, "ticket_ids": seats[5:8]}, &b); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	go postJSON(c.URL+"/booking/confirm", alice, map[string]any{"booking_id": b.BookingID,
		"payment": map[string]string{"method": "card", "token": "pm_card_visa"}})
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the confirm did not reach Stripe")
	}
	nd.kill()
	before := len(proxy.Requests("/confirm"))
	nd.restart()
	require.Eventually(t, func() bool {
		var got struct {
			Status string `json:"status"`
		}
		c.call(t, http.MethodGet, "/events/"+ev, "", nil, nil) // activates the event
		return c.call(t, http.MethodGet, "/booking/"+b.BookingID, alice, nil, &got) == http.StatusOK && got.Status == "confirmed"
	}, 2*time.Minute, 200*time.Millisecond, "reconciliation finishes the sale after the restart")
	if after := len(proxy.Requests("/confirm")); after != before {
		t.Errorf("%d confirms reached Stripe after the restart, want none (reconciliation looks the payment up)", after-before)
	}
	moneyAndSeatsAgree(t, proxy, pc.DB, b.BookingID, 3)
}
