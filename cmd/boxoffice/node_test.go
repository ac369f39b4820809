package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// TestNewUserJourney is the README's promise: a new user gets a token, finds
// the demo stadium, holds seats, pays with tok_visa, and sees them booked.
func TestNewUserJourney(t *testing.T) {
	n := startSeededNode(t)
	tok := n.token(t, "newcomer@example.com")

	var found struct {
		Results []struct {
			EventID string `json:"event_id"`
			Name    string `json:"name"`
		} `json:"results"`
	}
	require.Eventually(t, func() bool {
		n.call(t, http.MethodGet, "/search?q=metalica+m72", "", nil, &found)
		return len(found.Results) > 0 && found.Results[0].EventID == stadiumEventID()
	}, 10*time.Second, 25*time.Millisecond, "the stadium is searchable")
	var ev struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Status   string `json:"status"`
		} `json:"tickets"`
		Version uint64 `json:"version"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+stadiumEventID(), "", nil, &ev); code != 200 || len(ev.Tickets) != 50000 {
		t.Fatalf("GET stadium: %d with %d tickets, want 200 with 50000", code, len(ev.Tickets))
	}
	var held struct {
		BookingID string `json:"booking_id"`
		Status    string `json:"status"`
	}
	seats := []string{ev.Tickets[100].TicketID, ev.Tickets[101].TicketID}
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok,
		map[string]any{"event_id": stadiumEventID(), "ticket_ids": seats}, &held); code != 201 || held.Status != "in-progress" {
		t.Fatalf("reserve: %d %+v", code, held)
	}
	var paid struct {
		Status string `json:"status"`
	}
	if code := n.call(t, http.MethodPost, "/booking/confirm", tok, map[string]any{"booking_id": held.BookingID,
		"payment": map[string]string{"method": "card", "token": "tok_visa"}}, &paid); code != 200 || paid.Status != "confirmed" {
		t.Fatalf("confirm: %d %+v", code, paid)
	}
	n.call(t, http.MethodGet, "/events/"+stadiumEventID(), "", nil, &ev)
	if ev.Tickets[100].Status != "booked" || ev.Tickets[101].Status != "booked" || ev.Version < 3 {
		t.Fatalf("after paying: seats %s %s at version %d, want booked", ev.Tickets[100].Status, ev.Tickets[101].Status, ev.Version)
	}
}

// TestWaitingRoom turns the stadium's waiting room on through the admin API:
// reserve then needs an admission token, which joining the queue gives.
func TestWaitingRoom(t *testing.T) {
	n := startSeededNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	user := n.token(t, "fan@example.com")
	ev := stadiumEventID()
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin,
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 100}}, nil); code != 200 {
		t.Fatalf("PATCH waiting room: %d", code)
	}
	var tickets struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	n.call(t, http.MethodGet, "/events/"+ev, "", nil, &tickets)
	body := map[string]any{"event_id": ev, "ticket_ids": []string{tickets.Tickets[7].TicketID}}
	var refusal struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.Eventually(t, func() bool {
		return n.call(t, http.MethodPost, "/booking/reserve", user, body, &refusal) == 403 && refusal.Error.Code == "queue_required"
	}, 5*time.Second, 25*time.Millisecond, "reserve needs an admission token")
	var place struct {
		QueueID        string `json:"queue_id"`
		State          string `json:"state"`
		AdmissionToken string `json:"admission_token"`
	}
	require.Eventually(t, func() bool {
		if place.QueueID == "" {
			n.call(t, http.MethodPost, "/events/"+ev+"/queue", user, nil, &place)
		} else {
			n.call(t, http.MethodGet, "/events/"+ev+"/queue/"+place.QueueID, "", nil, &place)
		}
		return place.State == "admitted" && place.AdmissionToken != ""
	}, 10*time.Second, 25*time.Millisecond, "admitted from the queue")
	req, _ := http.NewRequest(http.MethodPost, n.URL+"/booking/reserve", jsonBody(t, body))
	req.Header.Set("Authorization", "Bearer "+user)
	req.Header.Set("X-Admission-Token", place.AdmissionToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("reserve with an admission token: %d, want 201", resp.StatusCode)
	}
}

// TestQueueStatusMatchesSpec checks the waiting room's replies against
// api/openapi.yaml, which the api package's own tests cannot see.
func TestQueueStatusMatchesSpec(t *testing.T) {
	n := startSeededNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	ev := stadiumEventID()
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin,
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 1}}, nil); code != http.StatusOK {
		t.Fatalf("PATCH waiting room: %d, want 200", code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["QueueStatus"].Value
	for _, email := range []string{"one@example.com", "two@example.com", "three@example.com"} {
		var place map[string]any
		if code := n.call(t, http.MethodPost, "/events/"+ev+"/queue", n.token(t, email), nil, &place); code != 200 {
			t.Fatalf("join: %d", code)
		}
		if err := schema.VisitJSON(place); err != nil {
			t.Errorf("queue reply %v does not match QueueStatus: %v", place, err)
		}
	}
}

// TestEventViewGzip: the 7 MB stadium view is served gzipped to clients
// that accept it, and a write through this node is visible at once.
func TestEventViewGzip(t *testing.T) {
	n := startSeededNode(t)
	get := func() (eventView, int, string) {
		req, _ := http.NewRequest(http.MethodGet, n.URL+"/events/"+stadiumEventID(), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("body is not gzip (Content-Encoding %q): %v", resp.Header.Get("Content-Encoding"), err)
		}
		var v eventView
		if err := json.NewDecoder(zr).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v, len(raw), resp.Header.Get("Content-Encoding")
	}
	v, size, enc := get()
	if enc != "gzip" || len(v.Tickets) != 50000 || size > 2<<20 {
		t.Fatalf("view: encoding %q, %d tickets, %d bytes; want gzip, 50000, under 2 MB", enc, len(v.Tickets), size)
	}
	tok := n.token(t, "reader@example.com")
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok,
		map[string]any{"event_id": stadiumEventID(), "ticket_ids": []string{v.Tickets[3].TicketID}}, nil); code != 201 {
		t.Fatalf("reserve: %d", code)
	}
	if v2, _, _ := get(); v2.Tickets[3].Status != "reserved" || v2.Version != v.Version+1 {
		t.Errorf("after my reserve: seat %s at version %d, want reserved at %d", v2.Tickets[3].Status, v2.Version, v.Version+1)
	}
}

// TestDebugAddrServesProfiler: BOXOFFICE_DEBUG_ADDR puts Go's profiler on
// its own listener, and the public address never serves it.
func TestDebugAddrServesProfiler(t *testing.T) {
	addr, n := startOnFreeAddr(t, func(c *Config, addr string) { c.DebugAddr = addr })
	for _, c := range []struct {
		url  string
		want int
	}{
		{"http://" + addr + "/debug/pprof/", http.StatusOK},
		{"http://" + addr + "/debug/pprof/goroutine?debug=1", http.StatusOK},
		{n.URL + "/debug/pprof/", http.StatusNotFound},
	} {
		res, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, res.StatusCode, c.want)
		}
	}
}

// startOnFreeAddr starts a node with set giving it a loopback address
// that was free a moment ago. Another process can take it before the node
// binds it, so a failed start is retried on a new address (a few times);
// it returns the address and the node.
func startOnFreeAddr(t *testing.T, set func(c *Config, addr string)) (string, *testNode) {
	t.Helper()
	db := pgtest.NewDB(t)
	const attempts = 3
	for attempt := 1; ; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
		cfg := testNodeConfig(t, db, func(c *Config) { set(c, addr) })
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		nd, err := startNode(ctx, cfg, newLogger(io.Discard, "error"))
		cancel()
		if err == nil {
			t.Cleanup(nd.Close)
			return addr, &testNode{node: nd, URL: nd.URL(), DB: db}
		}
		if attempt == attempts {
			t.Fatalf("start a node on a free address, %d attempts; the last on %s: %v", attempts, addr, err)
		}
		t.Logf("start a node on %s, attempt %d: %v; again on a new address", addr, attempt, err)
	}
}
