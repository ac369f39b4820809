package persistence

import "context"

// InsertTicketKeyIfAbsent is the step of TicketKeys that a node starting on
// an empty table takes after reading no key, exported so that tests run it
// for several nodes that all read "no key" before any inserted.
func (db *DB) InsertTicketKeyIfAbsent(ctx context.Context) error {
	return db.insertTicketKey(ctx, false)
}
