package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// parseTicketKeys reads BOXOFFICE_TICKET_KEYS: comma-separated base64url
// (or standard base64) Ed25519 seeds of 32 bytes; the first signs new
// ticket codes, the others only verify (keys rotated out). Empty: nil.
func parseTicketKeys(s string) (*boxoffice.TicketKeys, error) {
	parts := splitList(s)
	if len(parts) == 0 {
		return nil, nil
	}
	seeds := make([][]byte, len(parts))
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			if b, err = base64.StdEncoding.DecodeString(p); err != nil {
				return nil, fmt.Errorf("BOXOFFICE_TICKET_KEYS: key %d is not base64", i+1)
			}
		}
		seeds[i] = b
	}
	k, err := boxoffice.TicketKeysFromSeeds(seeds...)
	if err != nil {
		return nil, fmt.Errorf("BOXOFFICE_TICKET_KEYS: %w", err)
	}
	return k, nil
}

// ticketKeys is the node's keyring: the configured keys, or else the ones
// stored in PostgreSQL (generated once by the first node to start).
func ticketKeys(ctx context.Context, c Config, db *persistence.DB) (*boxoffice.TicketKeys, error) {
	k, err := parseTicketKeys(c.TicketKeys)
	if err != nil || k != nil {
		return k, err
	}
	if k, err = db.TicketKeys(ctx); err != nil {
		return nil, fmt.Errorf("ticket keys: %w", err)
	}
	return k, nil
}
