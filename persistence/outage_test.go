package persistence_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
	"github.com/google/uuid"
)

// PostgreSQL stops while event actors are committing: every commit fails
// as unavailable or is in the table (nothing acknowledged is lost, I2), and
// the writer works again once PostgreSQL is back. Not parallel: it stops
// the package's server.
func TestJournalPostgresStopsMidRun(t *testing.T) {
	db := openDB(t)
	w := newWriter(t, db, 2*time.Millisecond)
	const events = 8
	ids := make([]uuid.UUID, events)
	epochs := make([]int64, events)
	for i := range ids {
		ids[i] = uuid.New()
		epochs[i] = acquire(t, db, ids[i], "node-a")
	}
	acked := make([][]uint64, events)
	failed := make([]error, events)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() { // like an event actor: commit after commit, stop at the first failure
			defer wg.Done()
			for v := uint64(1); ; v++ {
				if err := submit(w, boxoffice.Commit{EventID: ids[i], Epoch: epochs[i], Entries: records(v, 1)}); err != nil {
					failed[i] = err
					return
				}
				acked[i] = append(acked[i], v)
			}
		}()
	}
	require.Eventually(t, func() bool { return w.Stats().Commits >= 10*events }, 10*time.Second, 20*time.Millisecond, "committing")
	if err := pgtest.Stop(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range failed {
		if code := boxoffice.ErrorCode(err); code != boxoffice.EUnavailable || errors.Is(err, boxoffice.ErrFenced) {
			t.Errorf("event %d failed with %v (code %s), want unavailable", i, err, code)
		}
	}
	wantCode(t, db.Ping(ctxT(t)), boxoffice.EUnavailable)
	if err := pgtest.Start(); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		present := versions(t, db, id)
		for _, v := range acked[i] {
			if !slices.Contains(present, v) {
				t.Fatalf("event %d: version %d was acknowledged but is not in the journal %v", i, v, present)
			}
		}
		if len(present) != len(acked[i]) && len(present) != len(acked[i])+1 {
			t.Fatalf("event %d: %d acked, %d present; at most the one unacknowledged commit may have landed", i, len(acked[i]), len(present))
		}
	}
	for i, id := range ids {
		require.Eventually(t, func() bool {
			next := uint64(len(versions(t, db, id))) + 1
			return submit(w, boxoffice.Commit{EventID: id, Epoch: epochs[i], Entries: records(next, 1)}) == nil
		}, 10*time.Second, 20*time.Millisecond, "writing after the restart")
	}
	if err := db.Ping(ctxT(t)); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
}
