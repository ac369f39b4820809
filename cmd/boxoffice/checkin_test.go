package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// checkInSeed is the ticket key of the check-in tests' nodes, so that a
// test can sign codes the node accepts (for bookings that do not own them).
var checkInSeed = bytes.Repeat([]byte{7}, 32)

func withTicketKey(c *Config) { c.TicketKeys = base64.RawURLEncoding.EncodeToString(checkInSeed) }

// checkInReply is POST /checkin's body, success or error.
type checkInReply struct {
	TicketID   string `json:"ticket_id"`
	EventID    string `json:"event_id"`
	Section    string `json:"section"`
	Row        string `json:"row"`
	Seat       int    `json:"seat"`
	AdmittedAt string `json:"admitted_at"`
	Gate       string `json:"gate"`
	Error      struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// scan posts a check-in through c.
func scan(t testing.TB, c *testNode, tok string, body map[string]any) (int, checkInReply) {
	t.Helper()
	var r checkInReply
	code := c.call(t, http.MethodPost, "/checkin", tok, body, &r)
	return code, r
}

// scannerToken is a development token of a scanner assigned to events.
func scannerToken(t testing.TB, c *testNode, email string, events ...string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]any{"email": email, "roles": []string{"scanner"}, "event_ids": events}
	if code := c.call(t, http.MethodPost, "/auth/token", "", body, &out); code != http.StatusOK {
		t.Fatalf("POST /auth/token (scanner): %d", code)
	}
	return out.Token
}

// soldCodes buys tickets for tok and returns the booking and its codes.
func soldCodes(t testing.TB, c *testNode, tok, ev string, tickets []string) (string, []string) {
	t.Helper()
	booking := reserveSeatsOK(t, c, tok, ev, tickets)
	confirmOK(t, c, tok, booking)
	var got struct {
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if code := c.call(t, http.MethodGet, "/booking/"+booking+"/tickets", tok, nil, &got); code != http.StatusOK || len(got.Tickets) != len(tickets) {
		t.Fatalf("GET tickets of %s: %d, %d codes", booking, code, len(got.Tickets))
	}
	codes := make([]string, len(got.Tickets))
	for i, tk := range got.Tickets {
		codes[i] = tk.Code
	}
	return booking, codes
}

// resign returns code with its booking replaced, signed with signer.
func resign(t testing.TB, code string, signer *boxoffice.TicketKeys, booking uuid.UUID) string {
	t.Helper()
	keys, err := boxoffice.TicketKeysFromSeeds(checkInSeed)
	if err != nil {
		t.Fatal(err)
	}
	c, err := keys.Verify(code)
	if err != nil {
		t.Fatalf("verify %q: %v", code, err)
	}
	c.BookingID = booking
	out, err := signer.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckInOnRealNode: POST /checkin on a real node (PostgreSQL, the
// event grain): the first scan admits with the seat, every later one is
// already_admitted with when and which gate; forged, altered and revoked
// codes, scanners of another event and bad bodies are refused with the
// documented 4xx, and the admin's counts show the admission.
func TestCheckInOnRealNode(t *testing.T) {
	db := pgtest.NewDB(t)
	evs := seedSmall(t, db, 2)
	n := startTestNodeOn(t, db, withTicketKey)
	ev, other := evs[0], evs[1]
	tickets := ticketsOf(t, n, ev)
	alice := n.token(t, "alice@example.com")
	admin := n.token(t, "admin@example.com", "admin")
	door := scannerToken(t, n, "door@example.com", ev)
	otherDoor := scannerToken(t, n, "door2@example.com", other)

	booking, codes := soldCodes(t, n, alice, ev, tickets[0:2])
	code, r := scan(t, n, door, map[string]any{"code": codes[0], "gate": "North 1"})
	if code != http.StatusOK || r.TicketID != tickets[0] || r.EventID != ev || r.Section == "" || r.Row == "" || r.Seat == 0 || r.AdmittedAt == "" {
		t.Fatalf("first scan: %d %+v", code, r)
	}
	first := r.AdmittedAt
	for _, via := range []string{door, admin} {
		code, r = scan(t, n, via, map[string]any{"code": codes[0], "gate": "South 2"})
		if code != http.StatusConflict || r.Error.Code != boxoffice.EAlreadyAdmitted ||
			r.Error.Details["gate"] != "North 1" || r.Error.Details["admitted_at"] == nil {
			t.Fatalf("second scan: %d %+v", code, r.Error)
		}
		if at, _ := time.Parse(time.RFC3339Nano, r.Error.Details["admitted_at"].(string)); !at.Equal(mustTime(t, first)) {
			t.Fatalf("already_admitted at %v, admitted at %s", r.Error.Details["admitted_at"], first)
		}
	}
	offline := "2026-01-02T03:04:05Z"
	if code, r = scan(t, n, admin, map[string]any{"code": codes[1], "scanned_at": offline}); code != http.StatusOK {
		t.Fatalf("offline scan by an admin: %d %+v", code, r.Error)
	}
	if code, r = scan(t, n, door, map[string]any{"code": codes[1]}); code != http.StatusConflict || r.Error.Details["scanned_at"] != offline {
		t.Fatalf("scan after an offline one: %d %+v", code, r.Error)
	}
	if got := adminStatsField(t, n, admin, ev, "admitted"); got != 2 {
		t.Fatalf("admin stats: admitted %v, want 2", got)
	}

	// Codes the node must refuse.
	_, fresh := soldCodes(t, n, alice, ev, tickets[2:3])
	held := reserveSeatsOK(t, n, alice, ev, tickets[5:6]) // never sold
	ownKeys, _ := boxoffice.TicketKeysFromSeeds(checkInSeed)
	strangers, _ := boxoffice.TicketKeysFromSeeds(bytes.Repeat([]byte{9}, 32))
	altered := []byte(fresh[0])
	altered[30] ^= 1
	if altered[30] == '-' || altered[30] == '_' || altered[30] > 'z' {
		altered[30] = 'A'
	}
	for _, tc := range []struct {
		name, tok string
		body      map[string]any
		status    int
		code      string
	}{
		{"no token", "", map[string]any{"code": fresh[0]}, http.StatusUnauthorized, boxoffice.EUnauthenticated},
		{"a buyer", alice, map[string]any{"code": fresh[0]}, http.StatusForbidden, boxoffice.EForbidden},
		{"a scanner of another event", otherDoor, map[string]any{"code": fresh[0]}, http.StatusForbidden, boxoffice.EForbidden},
		{"forged", door, map[string]any{"code": resign(t, fresh[0], strangers, uuid.MustParse(booking))}, http.StatusBadRequest, boxoffice.EInvalidTicket},
		{"altered", door, map[string]any{"code": string(altered)}, http.StatusBadRequest, boxoffice.EInvalidTicket},
		{"truncated", door, map[string]any{"code": fresh[0][:40]}, http.StatusBadRequest, boxoffice.EInvalidTicket},
		{"not a code", door, map[string]any{"code": "hello"}, http.StatusBadRequest, boxoffice.EInvalidTicket},
		{"no code", door, map[string]any{"gate": "A"}, http.StatusBadRequest, boxoffice.EInvalid},
		{"a long gate", door, map[string]any{"code": fresh[0], "gate": strings.Repeat("g", 65)}, http.StatusBadRequest, boxoffice.EInvalid},
		{"a bad scanned_at", door, map[string]any{"code": fresh[0], "scanned_at": "yesterday"}, http.StatusBadRequest, boxoffice.EInvalid},
		{"a future scanned_at", door, map[string]any{"code": fresh[0], "scanned_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, http.StatusBadRequest, boxoffice.EInvalid},
		{"an unknown field", door, map[string]any{"code": fresh[0], "seat": 1}, http.StatusBadRequest, boxoffice.EInvalid},
		{"a seat its booking never bought", door, map[string]any{"code": resign(t, fresh[0], ownKeys, uuid.MustParse(held))}, http.StatusConflict, boxoffice.ETicketRevoked},
		{"a seat of another sale", door, map[string]any{"code": resign(t, fresh[0], ownKeys, uuid.MustParse(booking))}, http.StatusConflict, boxoffice.ETicketRevoked},
		{"a booking that does not exist", door, map[string]any{"code": resign(t, fresh[0], ownKeys, uuid.New())}, http.StatusConflict, boxoffice.ETicketRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r := scan(t, n, tc.tok, tc.body)
			if code != tc.status || r.Error.Code != tc.code {
				t.Fatalf("%d %q, want %d %q", code, r.Error.Code, tc.status, tc.code)
			}
		})
	}
	// None of the refusals admitted it.
	if code, r = scan(t, n, door, map[string]any{"code": fresh[0]}); code != http.StatusOK {
		t.Fatalf("the fresh ticket after the refusals: %d %+v", code, r.Error)
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// TestCheckInExactlyOnceAcrossNodes: two real node processes. The same
// code scanned at both at once is admitted once and already_admitted once,
// for every one of a booking's codes; then the event's owner is killed -9
// right after a 200, and a scan of that code at the survivor (once the
// event is served there) is still already_admitted, as are the earlier ones.
// `boxoffice check` finds nothing wrong in the journal afterwards.
func TestCheckInExactlyOnceAcrossNodes(t *testing.T) {
	pc := startProcCluster(t, 2)
	ev := seedSmall(t, pc.DB, 1)[0]
	a, b := pc.Nodes[0].client(), pc.Nodes[1].client()
	admin := a.token(t, "admin@example.com", "admin")
	buyer := a.token(t, "buyer@example.com")
	door := scannerToken(t, a, "door@example.com", ev)
	tickets := ticketsOf(t, a, ev)
	_, codes := soldCodes(t, a, buyer, ev, tickets[0:10])

	for i, code := range codes[:9] {
		start := make(chan struct{})
		type result struct {
			status int
			r      checkInReply
		}
		results := make(chan result, 2)
		for k, c := range []*testNode{a, b} {
			go func() {
				<-start
				st, r := scan(inGoroutine(t), c, door, map[string]any{"code": code, "gate": []string{"A", "B"}[k]})
				results <- result{st, r}
			}()
		}
		close(start)
		admitted, already := 0, 0
		for range 2 {
			res := <-results
			switch {
			case res.status == http.StatusOK:
				admitted++
			case res.status == http.StatusConflict && res.r.Error.Code == boxoffice.EAlreadyAdmitted:
				already++
			default:
				t.Errorf("code %d: %d %+v", i, res.status, res.r.Error)
			}
		}
		if admitted != 1 || already != 1 {
			t.Fatalf("code %d scanned at both nodes at once: %d admitted, %d already_admitted; want 1 and 1", i, admitted, already)
		}
	}
	if got := adminStatsField(t, a, admin, ev, "admitted"); got != 9 {
		t.Fatalf("admitted %v, want 9", got)
	}

	owner := ownerOf(t, pc, pc.Nodes[0], admin, ev)
	survivor := pc.Nodes[0]
	if owner == survivor {
		survivor = pc.Nodes[1]
	}
	last := codes[9]
	if st, r := scan(t, survivor.client(), door, map[string]any{"code": last, "gate": "Last"}); st != http.StatusOK {
		t.Fatalf("scan before the kill: %d %+v", st, r.Error)
	}
	killed := time.Now()
	owner.kill()
	waitServing(t, survivor, admin, ev, owner.Name, killed, 30*time.Second)
	for i, code := range codes {
		st, r := scanUntilServed(t, survivor.client(), door, code, killed.Add(30*time.Second))
		if st != http.StatusConflict || r.Error.Code != boxoffice.EAlreadyAdmitted {
			t.Fatalf("code %d after the kill -9 of the owner: %d %+v, want 409 already_admitted", i, st, r.Error)
		}
		if i == 9 && r.Error.Details["gate"] != "Last" {
			t.Fatalf("the admission before the kill: gate %v, want Last", r.Error.Details["gate"])
		}
	}
	assertNoViolations(t, pc.DB, nil)
}

// scanUntilServed scans code through c, again while the event is between
// owners (503), until deadline.
func scanUntilServed(t testing.TB, c *testNode, tok, code string, deadline time.Time) (int, checkInReply) {
	t.Helper()
	for {
		st, r := scan(t, c, tok, map[string]any{"code": code})
		if st != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return st, r
		}
		time.Sleep(20 * time.Millisecond)
	}
}
