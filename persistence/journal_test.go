package persistence_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/google/uuid"
)

// newWriter starts a journal writer closed when tb ends.
func newWriter(tb testing.TB, db *persistence.DB, maxDelay time.Duration) *persistence.JournalWriter {
	tb.Helper()
	cfg := persistence.DefaultJournalConfig()
	cfg.MaxDelay = maxDelay
	w := persistence.NewJournalWriter(db, cfg)
	tb.Cleanup(w.Close)
	return w
}

// submit waits for c's outcome.
func submit(w *persistence.JournalWriter, c boxoffice.Commit) error {
	ch := make(chan error, 1)
	w.Submit(c, func(err error) { ch <- err })
	return <-ch
}

// submitAsync submits and returns where the outcome will arrive.
func submitAsync(w *persistence.JournalWriter, c boxoffice.Commit) <-chan error {
	ch := make(chan error, 1)
	w.Submit(c, func(err error) { ch <- err })
	return ch
}

// records builds n entries with versions from..from+n-1.
func records(from uint64, n int) []boxoffice.Entry {
	out := make([]boxoffice.Entry, n)
	for i := range out {
		v := from + uint64(i)
		out[i] = boxoffice.Entry{Version: v, Record: []byte(fmt.Sprintf("record %d", v))}
	}
	return out
}

func acquire(tb testing.TB, db *persistence.DB, event uuid.UUID, node string) int64 {
	tb.Helper()
	epoch, err := db.Acquire(ctxT(tb), event, node)
	if err != nil {
		tb.Fatalf("acquire: %v", err)
	}
	return epoch
}

func versions(tb testing.TB, db *persistence.DB, event uuid.UUID) []uint64 {
	tb.Helper()
	vs, err := db.JournalVersions(ctxT(tb), event)
	if err != nil {
		tb.Fatalf("journal versions: %v", err)
	}
	return vs
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func hold(event, user uuid.UUID, tickets ...uuid.UUID) boxoffice.Booking {
	now := time.Now().UTC().Round(time.Microsecond)
	return boxoffice.Booking{
		ID: uuid.New(), UserID: user, EventID: event, TicketIDs: tickets, Status: boxoffice.BookingInProgress,
		Total: boxoffice.Money(100 * len(tickets)), Currency: "EUR", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), UpdatedAt: now,
	}
}

// 50 goroutines, one event each, submit commits one after another as event
// actors do; every commit is acknowledged, every row is there without
// gaps, and group commit wrote them in fewer transactions than commits.
func TestJournalConcurrentSubmits(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	var hookRecords, hookBatches atomic.Int64
	cfg := persistence.DefaultJournalConfig()
	cfg.OnBatch = func(records int, d time.Duration) {
		hookRecords.Add(int64(records))
		hookBatches.Add(1)
	}
	w := persistence.NewJournalWriter(db, cfg)
	t.Cleanup(w.Close)
	const events, perEvent = 50, 20
	ids := make([]uuid.UUID, events)
	epochs := make([]int64, events)
	for i := range ids {
		ids[i] = uuid.New()
		epochs[i] = acquire(t, db, ids[i], "node-a")
	}
	var wg sync.WaitGroup
	errs := make(chan error, events*perEvent)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := uuid.New()
			for v := uint64(1); v <= perEvent; v++ {
				c := boxoffice.Commit{EventID: ids[i], Epoch: epochs[i], Entries: records(v, 1),
					Bookings: []boxoffice.Booking{hold(ids[i], user, uuid.New())}}
				if err := submit(w, c); err != nil {
					errs <- fmt.Errorf("event %d version %d: %w", i, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, id := range ids {
		if got := versions(t, db, id); !reflect.DeepEqual(got, seq(1, perEvent)) {
			t.Fatalf("event %d: versions %v, want 1..%d", i, got, perEvent)
		}
	}
	var bookings int
	if err := db.Pool().QueryRow(ctxT(t), `SELECT count(*) FROM bookings`).Scan(&bookings); err != nil || bookings != events*perEvent {
		t.Fatalf("%d bookings (%v), want %d", bookings, err, events*perEvent)
	}
	s := w.Stats()
	t.Logf("stats: %+v", s)
	if s.Commits != events*perEvent || s.Records != events*perEvent || s.Failed != 0 || s.Fenced != 0 {
		t.Fatalf("stats %+v, want %d commits and records, no failures", s, events*perEvent)
	}
	if hookRecords.Load() != int64(s.Records) || hookBatches.Load() != int64(s.Batches) {
		t.Fatalf("OnBatch saw %d records in %d batches, stats say %d in %d", hookRecords.Load(), hookBatches.Load(), s.Records, s.Batches)
	}
	if s.Transactions >= s.Commits {
		t.Fatalf("%d transactions for %d commits: group commit did not batch", s.Transactions, s.Commits)
	}
}

// A commit whose epoch was superseded by another owner is refused with
// ErrFenced and writes nothing, even in a batch with valid commits.
func TestJournalFencing(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, time.Second)
	event, other := uuid.New(), uuid.New()
	old := acquire(t, db, event, "node-a")
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: old, Entries: records(1, 1)}); err != nil {
		t.Fatalf("owner's first commit: %v", err)
	}
	current := acquire(t, db, event, "node-b")
	if current != old+1 {
		t.Fatalf("takeover epoch %d, want %d", current, old+1)
	}
	otherEpoch := acquire(t, db, other, "node-a")

	w.SetMinBatch(3) // the three commits below share one batch
	batches := w.Stats().Batches
	u := uuid.New()
	stale := submitAsync(w, boxoffice.Commit{EventID: event, Epoch: old, Entries: records(2, 2),
		Bookings: []boxoffice.Booking{hold(event, u, uuid.New())},
		Sales:    []boxoffice.Sale{{BookingID: uuid.New(), TicketIDs: []uuid.UUID{uuid.New()}}}})
	fine := submitAsync(w, boxoffice.Commit{EventID: other, Epoch: otherEpoch, Entries: records(1, 1)})
	never := submitAsync(w, boxoffice.Commit{EventID: uuid.New(), Epoch: 1, Entries: records(1, 1)})

	err := <-stale
	wantIs(t, err, boxoffice.ErrFenced)
	wantCode(t, err, boxoffice.EUnavailable)
	if err := <-fine; err != nil {
		t.Fatalf("valid commit in the same batch: %v", err)
	}
	wantIs(t, <-never, boxoffice.ErrFenced)
	if n := w.Stats().Batches - batches; n != 1 {
		t.Fatalf("the commits took %d batches, want 1", n)
	}
	w.SetMinBatch(0)
	if got := versions(t, db, event); !reflect.DeepEqual(got, []uint64{1}) {
		t.Fatalf("versions %v after a fenced commit, want [1]", got)
	}
	if bs, _ := db.UserBookings(ctxT(t), u, 10); len(bs) != 0 {
		t.Fatalf("fenced commit wrote bookings %+v", bs)
	}
	var sold int
	if err := db.Pool().QueryRow(ctxT(t), `SELECT count(*) FROM sold_seats`).Scan(&sold); err != nil || sold != 0 {
		t.Fatalf("fenced commit wrote %d sold seats (%v)", sold, err)
	}
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: current, Entries: records(2, 1)}); err != nil {
		t.Fatalf("new owner's commit: %v", err)
	}
	if s := w.Stats(); s.Fenced != 2 {
		t.Fatalf("stats count %d fenced commits, want 2", s.Fenced)
	}
}

// A second sale of a seat fails exactly the guilty commit of a batch; the
// others in the batch are written.
func TestJournalDoubleSale(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, time.Second)
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	seat := boxoffice.NewTicketSpace(event).ID(7)
	first := uuid.New()
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 1),
		Sales: []boxoffice.Sale{{BookingID: first, TicketIDs: []uuid.UUID{seat}}}}); err != nil {
		t.Fatalf("first sale: %v", err)
	}

	others := make([]uuid.UUID, 3)
	epochs := make([]int64, len(others))
	for i := range others {
		others[i] = uuid.New()
		epochs[i] = acquire(t, db, others[i], "node-a")
	}
	w.SetMinBatch(4) // the four commits below share one batch
	before := w.Stats()
	var oks []<-chan error
	for i := range others {
		oks = append(oks, submitAsync(w, boxoffice.Commit{EventID: others[i], Epoch: epochs[i], Entries: records(1, 2),
			Sales: []boxoffice.Sale{{BookingID: uuid.New(), TicketIDs: []uuid.UUID{boxoffice.NewTicketSpace(others[i]).ID(7)}}}}))
		if i == 1 {
			oks = append(oks, submitAsync(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(2, 1),
				Sales: []boxoffice.Sale{{BookingID: uuid.New(), TicketIDs: []uuid.UUID{seat}}}}))
		}
	}
	guilty := oks[2]
	oks = slices.Delete(oks, 2, 3)
	err := <-guilty
	wantIs(t, err, boxoffice.ErrSeatSold)
	wantCode(t, err, boxoffice.ESeatUnavailable)
	for i, ch := range oks {
		if err := <-ch; err != nil {
			t.Fatalf("innocent commit %d of the batch failed: %v", i, err)
		}
	}
	after := w.Stats()
	if b, tx := after.Batches-before.Batches, after.Transactions-before.Transactions; b != 1 || tx != 5 {
		t.Fatalf("%d batches and %d transactions, want 1 batch retried as 1+4 transactions", b, tx)
	}
	for _, id := range others {
		if got := versions(t, db, id); !reflect.DeepEqual(got, []uint64{1, 2}) {
			t.Fatalf("innocent event versions %v, want [1 2]", got)
		}
	}
	if got := versions(t, db, event); !reflect.DeepEqual(got, []uint64{1}) {
		t.Fatalf("guilty event versions %v, want [1]", got)
	}
	var owner uuid.UUID
	if err := db.Pool().QueryRow(ctxT(t), `SELECT booking_id FROM sold_seats WHERE ticket_id = $1`, seat).Scan(&owner); err != nil || owner != first {
		t.Fatalf("seat sold to %s (%v), want the first booking %s", owner, err, first)
	}
}

// A version already in the journal fails only its commit, and not as a
// seat sale.
func TestJournalVersionConflict(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, 0)
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 3)}); err != nil {
		t.Fatal(err)
	}
	err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(3, 2)})
	if err == nil || boxoffice.ErrorCode(err) != boxoffice.EInternal {
		t.Fatalf("rewriting version 3: %v, want an internal error", err)
	}
	err = submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: []boxoffice.Entry{{Version: 4}, {Version: 6}}})
	if err == nil {
		t.Fatal("a commit with a version gap was accepted")
	}
	if got := versions(t, db, event); !reflect.DeepEqual(got, []uint64{1, 2, 3}) {
		t.Fatalf("versions %v, want [1 2 3]", got)
	}
}

// Close writes what is queued; Submit after Close fails at once.
func TestJournalCloseDrains(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	cfg := persistence.DefaultJournalConfig()
	cfg.MaxDelay = time.Second
	w := persistence.NewJournalWriter(db, cfg)
	w.SetMinBatch(2) // the one commit below waits in the queue until Close
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	ch := submitAsync(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 1)})
	w.Close()
	if err := <-ch; err != nil {
		t.Fatalf("queued commit: %v", err)
	}
	w.Close() // idempotent
	err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(2, 1)})
	wantIs(t, err, boxoffice.ErrClosed)
	if got := versions(t, db, event); !reflect.DeepEqual(got, []uint64{1}) {
		t.Fatalf("versions %v, want [1]", got)
	}
}

// One poisoned commit (a second sale of a seat) in a batch of 1,000 fails
// alone: the 999 others are written and acknowledged, most of them before
// the poisoned one's fate is known, and finding it costs a few bisection
// transactions, not one per commit under the batch's single deadline.
func TestJournalPoisonedCommitInLargeBatch(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	cfg := persistence.DefaultJournalConfig()
	cfg.MaxDelay = time.Second
	cfg.Timeout = 30 * time.Second // outcomes, not speed, are under test: no deadline on a busy machine
	w := persistence.NewJournalWriter(db, cfg)
	t.Cleanup(w.Close)
	const n = 1000 // = DefaultJournalConfig().MaxRecords: one batch of one-record commits
	innocent := make([]uuid.UUID, n-1)
	epochs := make([]int64, n-1)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(innocent); i += 8 {
				innocent[i] = uuid.New()
				epochs[i] = acquire(t, db, innocent[i], "node-a")
			}
		}()
	}
	wg.Wait()
	poisoned := uuid.New()
	pEpoch := acquire(t, db, poisoned, "node-a")
	seat := boxoffice.NewTicketSpace(poisoned).ID(1)
	if err := submit(w, boxoffice.Commit{EventID: poisoned, Epoch: pEpoch, Entries: records(1, 1),
		Sales: []boxoffice.Sale{{BookingID: uuid.New(), TicketIDs: []uuid.UUID{seat}}}}); err != nil {
		t.Fatalf("first sale of the seat: %v", err)
	}

	// Each case writes the next version of every innocent event, with the
	// poisoned commit at a different place in the batch.
	for k, at := range []int{0, n / 2, n - 1} {
		t.Run(fmt.Sprintf("poisoned_at_%d", at), func(t *testing.T) {
			version := uint64(k + 1)
			w.SetMinBatch(n)
			before := w.Stats()
			var acked atomic.Int64 // done runs on the writer goroutine, one at a time
			ackedBefore := int64(-1)
			errs := make([]error, n-1)
			var poisonErr error
			var all sync.WaitGroup
			all.Add(n)
			start := time.Now()
			ev := 0
			for i := range n {
				if i == at {
					w.Submit(boxoffice.Commit{EventID: poisoned, Epoch: pEpoch, Entries: records(version+1, 1),
						Sales: []boxoffice.Sale{{BookingID: uuid.New(), TicketIDs: []uuid.UUID{seat}}}},
						func(err error) { poisonErr, ackedBefore = err, acked.Load(); all.Done() })
					continue
				}
				j := ev
				ev++
				w.Submit(boxoffice.Commit{EventID: innocent[j], Epoch: epochs[j], Entries: records(version, 1)},
					func(err error) { errs[j] = err; acked.Add(1); all.Done() })
			}
			all.Wait()
			took := time.Since(start)
			w.SetMinBatch(0)
			wantIs(t, poisonErr, boxoffice.ErrSeatSold)
			failed := 0
			for j, err := range errs {
				if err != nil {
					failed++
					if failed <= 3 {
						t.Errorf("innocent commit %d: %v", j, err)
					}
				}
			}
			if failed > 0 {
				t.Fatalf("%d of %d innocent commits failed", failed, n-1)
			}
			var written int
			if err := db.Pool().QueryRow(ctxT(t), `SELECT count(*) FROM journal WHERE event_id = ANY($1) AND $2 BETWEEN first_version AND last_version`,
				innocent, int64(version)).Scan(&written); err != nil || written != n-1 {
				t.Fatalf("%d innocent records of version %d in the journal (%v), want %d", written, version, err, n-1)
			}
			if got := versions(t, db, poisoned); !reflect.DeepEqual(got, []uint64{1}) {
				t.Fatalf("poisoned event versions %v, want [1]", got)
			}
			after := w.Stats()
			t.Logf("%d transactions, every commit acknowledged after %s (%d innocent ones before the poisoned one)",
				after.Transactions-before.Transactions, took.Round(time.Millisecond), ackedBefore)
			// Bisection: the batch, then two halves per level down to one
			// commit (ceil(log2 1000) = 10 levels), breadth first.
			if b, tx := after.Batches-before.Batches, after.Transactions-before.Transactions; b != 1 || tx > 1+2*10+2 {
				t.Fatalf("%d batches and %d transactions, want 1 batch and at most 23 transactions", b, tx)
			}
			// Breadth first, the half without the poisoned commit is
			// acknowledged before the search goes deeper.
			if ackedBefore < n/2-1 {
				t.Fatalf("%d innocent commits were acknowledged before the poisoned one, want at least %d", ackedBefore, n/2-1)
			}
		})
	}
}

func TestReadJournal(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, 0)
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	if err := submit(w, boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 5)}); err != nil {
		t.Fatal(err)
	}
	var got []boxoffice.Entry
	err := db.ReadJournal(ctxT(t), event, 2, func(e boxoffice.Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, records(3, 3)) {
		t.Fatalf("ReadJournal after 2: %v %v, want versions 3..5", got, err)
	}
	stop := errors.New("enough")
	n := 0
	err = db.ReadJournal(ctxT(t), event, 0, func(boxoffice.Entry) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("callback error: got %v after %d calls, want it returned after 1", err, n)
	}
}
