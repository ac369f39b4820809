package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestTicketKeysConfig: BOXOFFICE_TICKET_KEYS is read at start, the first
// key signs, and a bad value stops the node with the variable's name.
func TestTicketKeysConfig(t *testing.T) {
	a := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	b := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	k, err := parseTicketKeys(a + ", " + b)
	if err != nil || len(k.PublicKeys()) != 2 {
		t.Fatalf("two keys: %v", err)
	}
	first, _ := parseTicketKeys(a)
	if k.ActiveKeyID() != first.ActiveKeyID() {
		t.Errorf("the first key does not sign")
	}
	for _, bad := range []string{"!!!", base64.RawURLEncoding.EncodeToString([]byte("short")), a + "," + a} {
		if _, err := parseTicketKeys(bad); err == nil || !strings.Contains(err.Error(), "BOXOFFICE_TICKET_KEYS") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	env := map[string]string{"BOXOFFICE_DATABASE_URL": "postgres://x@localhost/db", "BOXOFFICE_MODE": "dev", "BOXOFFICE_TICKET_KEYS": "nope"}
	if _, err := parseConfig("t", nil, func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil {
		t.Errorf("a bad BOXOFFICE_TICKET_KEYS was accepted")
	}
}
