package persistence

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Placements is the shared placement record of the cluster's bounded-load
// grain placement in PostgreSQL (it implements cluster.PlacementStore).
// PostgreSQL rather than a JetStream KV bucket: every node already depends
// on it, a claim must count the records and write one atomically (a
// transaction under an advisory lock, where a KV bucket offers only
// per-key compare-and-set), and the event grain's epoch fence lives in the
// same database.
type Placements struct{ db *DB }

// Placements returns the placement record store.
func (db *DB) Placements() *Placements { return &Placements{db: db} }

// placementLockClass is the first key of the transaction advisory lock
// that serialises claims of one kind (the second is hashtext(kind)); the
// two-key lock space does not overlap the one-key locks used elsewhere.
const placementLockClass = 0x626f7870 // "boxp"

// Claim implements cluster.PlacementStore: in one transaction under the
// kind's advisory lock, every identity with a record of a live member keeps
// it; the others get choose's pick from the live counts, one after another
// (each pick counted before the next), written in one statement. Claims of
// a kind still take turns, but a node asks for all the identities its
// callers are waiting on at once, so thousands of first activations (or a
// dead member's re-placements) cost a few transactions, not one each.
func (s *Placements) Claim(ctx context.Context, kind string, identities, live []string, choose func(identity string, counts map[string]int) string) (map[string]string, error) {
	owners := make(map[string]string, len(identities))
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		// One round trip: the kind's lock, then what the choice needs. The
		// commit does not wait for the WAL flush: a record lost in a crash
		// of PostgreSQL is only re-claimed (the epoch fence, not this
		// record, keeps one writer per event), and claims of a kind take
		// turns, so a flush per claim would bound re-placing a dead
		// node's thousands of events.
		var b pgx.Batch
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, placementLockClass, kind)
		b.Queue(`SELECT identity, member FROM grain_placement WHERE kind = $1 AND identity = ANY($2)`, kind, identities)
		b.Queue(`SELECT member, n FROM grain_placement_counts WHERE kind = $1 AND member = ANY($2)`, kind, live)
		b.Queue(`SELECT member FROM grain_placement_excluded WHERE member = ANY($1)`, live)
		br := tx.SendBatch(ctx, &b)
		defer br.Close()
		for range 2 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		var id, m string
		var n int
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&id, &m}, func() error {
			if slices.Contains(live, m) {
				owners[id] = m
			}
			return nil
		}); err != nil {
			return err
		}
		counts := make(map[string]int, len(live))
		if rows, err = br.Query(); err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&m, &n}, func() error { counts[m] = n; return nil }); err != nil {
			return err
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&m}, func() error { counts[m] = -1; return nil }); err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
		var ids, members []string
		for _, id := range identities {
			if _, ok := owners[id]; ok {
				continue // live record, or asked twice in this batch
			}
			o := choose(id, counts)
			if o == "" {
				continue
			}
			owners[id] = o
			if counts[o] >= 0 {
				counts[o]++
			}
			ids, members = append(ids, id), append(members, o)
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO grain_placement (kind, identity, member)
			SELECT $1, u.identity, u.member FROM unnest($2::text[], $3::text[]) AS u(identity, member)
			ON CONFLICT (kind, identity) DO UPDATE SET member = EXCLUDED.member, placed_at = now()`, kind, ids, members)
		return err
	})
	if err != nil {
		return nil, wrap("claim placement", err)
	}
	return owners, nil
}

// HeldBy implements cluster.PlacementStore.
func (s *Placements) HeldBy(ctx context.Context, kind string, members []string) ([]string, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT identity FROM grain_placement WHERE kind = $1 AND member = ANY($2) ORDER BY identity`, kind, members)
	if err != nil {
		return nil, wrap("read placements held", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("read placements held", err)
	}
	return ids, nil
}

// Ensure implements cluster.PlacementStore.
func (s *Placements) Ensure(ctx context.Context, kind string, identities []string, member string) error {
	_, err := s.db.pool.Exec(ctx, `
		INSERT INTO grain_placement (kind, identity, member)
		SELECT $1, u.identity, $3 FROM unnest($2::text[]) AS u(identity)
		ON CONFLICT (kind, identity) DO NOTHING`, kind, identities, member)
	return wrap("ensure placement", err)
}

// Release implements cluster.PlacementStore.
func (s *Placements) Release(ctx context.Context, kind, identity, member string) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM grain_placement WHERE kind = $1 AND identity = $2 AND member = $3`, kind, identity, member)
	return wrap("release placement", err)
}

// ReleaseMember implements cluster.PlacementStore; it also clears the
// member's exclusion (member ids are not reused).
func (s *Placements) ReleaseMember(ctx context.Context, member string) error {
	_, err := s.db.pool.Exec(ctx, `
		WITH ex AS (DELETE FROM grain_placement_excluded WHERE member = $1)
		DELETE FROM grain_placement WHERE member = $1`, member)
	if err == nil {
		_, err = s.db.pool.Exec(ctx, `DELETE FROM grain_placement_counts WHERE member = $1`, member)
	}
	return wrap("release member placements", err)
}

// Exclude implements cluster.PlacementStore.
func (s *Placements) Exclude(ctx context.Context, member string, excluded bool) error {
	var err error
	if excluded {
		_, err = s.db.pool.Exec(ctx, `INSERT INTO grain_placement_excluded (member) VALUES ($1) ON CONFLICT DO NOTHING`, member)
	} else {
		_, err = s.db.pool.Exec(ctx, `DELETE FROM grain_placement_excluded WHERE member = $1`, member)
	}
	return wrap("exclude member from placement", err)
}

// Owners implements cluster.PlacementStore.
func (s *Placements) Owners(ctx context.Context, kind string, identities []string) (map[string]string, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT identity, member FROM grain_placement WHERE kind = $1 AND identity = ANY($2)`, kind, identities)
	if err != nil {
		return nil, wrap("read placements", err)
	}
	out := map[string]string{}
	var id, member string
	_, err = pgx.ForEachRow(rows, []any{&id, &member}, func() error {
		out[id] = member
		return nil
	})
	if err != nil {
		return nil, wrap("read placements", err)
	}
	return out, nil
}

// Counts implements cluster.PlacementStore.
func (s *Placements) Counts(ctx context.Context, kind string, live []string) (map[string]int, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT member, n FROM grain_placement_counts WHERE kind = $1 AND member = ANY($2)`, kind, live)
	if err != nil {
		return nil, wrap("count placements", err)
	}
	counts := make(map[string]int, len(live))
	var member string
	var n int
	if _, err = pgx.ForEachRow(rows, []any{&member, &n}, func() error {
		counts[member] = n
		return nil
	}); err != nil {
		return nil, wrap("count placements", err)
	}
	return counts, nil
}
