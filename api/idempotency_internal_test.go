package api

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestFingerprintIsParsedJSON: bodies that parse to the same JSON share a
// fingerprint; any difference in a value, an array's order or a field
// present gives another.
func TestFingerprintIsParsedJSON(t *testing.T) {
	const base = `{"event_id":"e","ticket_ids":["a","b"]}`
	cases := []struct {
		body string
		same bool
	}{
		{base, true},
		{"{\n  \"ticket_ids\" : [ \"a\", \"b\" ],\n\t\"event_id\": \"e\" }", true},
		{`{"event_id":"\u0065","ticket_ids":["a","b"]}`, true},
		{`{"event_id":"e","ticket_ids":["b","a"]}`, false},
		{`{"event_id":"e","ticket_ids":["a"]}`, false},
		{`{"event_id":"E","ticket_ids":["a","b"]}`, false},
		{`{"event_id":"e","ticket_ids":["a","b"],"ticket_id":""}`, false},
	}
	want, err := fingerprint([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got, err := fingerprint([]byte(c.body))
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if bytes.Equal(got, want) != c.same {
			t.Errorf("%s: same fingerprint = %v, want %v", c.body, !c.same, c.same)
		}
	}
}

// TestIdempotencyKeyHeader: 1..255 visible ASCII characters, else a 400
// naming the header.
func TestIdempotencyKeyHeader(t *testing.T) {
	cases := []struct {
		key string
		ok  bool
	}{
		{"", true},
		{"order-42", true},
		{strings.Repeat("k", 255), true},
		{strings.Repeat("k", 256), false},
		{"with space", false},
		{"caf\u00e9", false},
		{"tab\there", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/booking/reserve", nil)
		r.Header["Idempotency-Key"] = []string{c.key}
		got, err := idempotencyKey(r)
		switch {
		case c.ok && (err != nil || got != c.key):
			t.Errorf("%q: %q, %v; want it accepted", c.key, got, err)
		case !c.ok && boxoffice.ErrorCode(err) != boxoffice.EInvalid:
			t.Errorf("%q: %v; want invalid_argument", c.key, err)
		}
	}
}
