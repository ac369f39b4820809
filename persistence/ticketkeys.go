package persistence

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
)

// TicketKeys returns the ticket-code keyring stored in PostgreSQL: the
// active key signs, the retired ones (newest first) still verify. When no
// key is active yet it generates one and inserts it only if still absent
// (the partial unique index on active), then reads back whichever key won,
// so that nodes starting together all sign with the same key.
func (db *DB) TicketKeys(ctx context.Context) (*boxoffice.TicketKeys, error) {
	seeds, err := db.ticketSeeds(ctx)
	if err != nil {
		return nil, err
	}
	if len(seeds) == 0 || !seeds[0].active {
		if err := db.insertTicketKey(ctx, false); err != nil {
			return nil, err
		}
		if seeds, err = db.ticketSeeds(ctx); err != nil {
			return nil, err
		}
	}
	raw := make([][]byte, len(seeds))
	for i, s := range seeds {
		raw[i] = s.seed
	}
	return boxoffice.TicketKeysFromSeeds(raw...)
}

// RotateTicketKey retires the active ticket key and makes a new one active
// in one transaction; codes of the retired key stay valid. Running nodes
// load keys at start, so restart them (one at a time) after a rotation.
func (db *DB) RotateTicketKey(ctx context.Context) error {
	return db.insertTicketKey(ctx, true)
}

type ticketSeed struct {
	seed   []byte
	active bool
}

// ticketSeeds reads every key, the active one first, then newest first.
func (db *DB) ticketSeeds(ctx context.Context) ([]ticketSeed, error) {
	rows, err := db.pool.Query(ctx, `SELECT seed, active FROM ticket_keys ORDER BY active DESC, created_at DESC, kid`)
	if err != nil {
		return nil, wrap("read ticket keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticketSeed, error) {
		var s ticketSeed
		return s, r.Scan(&s.seed, &s.active)
	})
	if err != nil {
		return nil, wrap("read ticket keys", err)
	}
	return out, nil
}

// insertTicketKey adds a fresh active key: when rotate, after retiring the
// current one; otherwise only if no key is active (insert-if-absent).
func (db *DB) insertTicketKey(ctx context.Context, rotate bool) error {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("generate ticket key: %w", err)
	}
	kid := boxoffice.TicketKeyID(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap("store ticket key", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if rotate {
		if _, err := tx.Exec(ctx, `UPDATE ticket_keys SET active = false, retired_at = now() WHERE active`); err != nil {
			return wrap("retire ticket key", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ticket_keys (kid, seed, active) VALUES ($1, $2, true)
		ON CONFLICT (active) WHERE active DO NOTHING`, kid, seed); err != nil {
		return wrap("store ticket key", err)
	}
	return wrap("store ticket key", tx.Commit(ctx))
}
