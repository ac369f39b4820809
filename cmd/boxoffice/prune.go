package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/boxoffice/boxoffice/persistence"
)

// Pruning of ownership_history (a row per activation, failed ones
// included). Rows younger than historyKeep stay for people reading the
// history; older ones go unless the I3 audit may need them (see
// persistence.PruneOwnershipHistory). Every node prunes: the DELETE is
// idempotent and cheap when there is nothing to do.
const (
	historyKeep       = 24 * time.Hour
	historyPruneEvery = time.Hour
	historyPruneBatch = 10_000
)

// pruneOwnershipHistory prunes at start and then every historyPruneEvery
// until ctx ends.
func pruneOwnershipHistory(ctx context.Context, db *persistence.DB, log *slog.Logger) {
	t := time.NewTicker(historyPruneEvery)
	defer t.Stop()
	for {
		total := int64(0)
		for ctx.Err() == nil {
			n, err := db.PruneOwnershipHistory(ctx, historyKeep, historyPruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("pruning ownership_history failed", "err", err)
				}
				break
			}
			total += n
			if n < historyPruneBatch {
				break
			}
		}
		if total > 0 {
			log.Info("pruned ownership_history", "rows", total)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
