package persistence_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/baseline"
	"github.com/google/uuid"
)

// runWorkers spreads b.N operations over workers goroutines and reports
// the rate; op gets its worker's index and the operation's number.
func runWorkers(b *testing.B, workers int, unit string, op func(worker, i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
}

// benchJournal has submitters goroutines, one event each, commit
// recordsPer records at a time and wait for each ack, as event actors do.
func benchJournal(b *testing.B, submitters, recordsPer int, useCopy bool) {
	db := openDB(b)
	w := persistence.NewJournalWriterMode(db, persistence.DefaultJournalConfig(), useCopy)
	defer w.Close()
	ids := make([]uuid.UUID, submitters)
	epochs := make([]int64, submitters)
	next := make([]uint64, submitters)
	for i := range ids {
		ids[i] = uuid.New()
		epochs[i] = acquire(b, db, ids[i], "bench")
		next[i] = 1
	}
	record := make([]byte, 64) // about the size of an encoded SeatsHeld
	runWorkers(b, submitters, "commits", func(s, _ int) error {
		entries := make([]boxoffice.Entry, recordsPer)
		for k := range entries {
			entries[k] = boxoffice.Entry{Version: next[s], Record: record}
			next[s]++
		}
		return submit(w, boxoffice.Commit{EventID: ids[s], Epoch: epochs[s], Entries: entries})
	})
	st := w.Stats()
	b.ReportMetric(float64(st.Commits)/float64(st.Batches), "commits/batch")
	b.ReportMetric(float64(st.Records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJournalWriter: single-record commits, the seat engine's usual
// shape (one hold or release per commit).
func BenchmarkJournalWriter(b *testing.B) {
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("submitters=%d", n), func(b *testing.B) { benchJournal(b, n, 1, false) })
	}
}

// BenchmarkJournalRows compares COPY with INSERT ... unnest for the
// journal rows, for small and large batches; the writer uses the faster.
func BenchmarkJournalRows(b *testing.B) {
	for _, method := range []string{"insert", "copy"} {
		for _, shape := range []struct{ submitters, records int }{{64, 1}, {64, 16}} {
			b.Run(fmt.Sprintf("%s/submitters=%d/records=%d", method, shape.submitters, shape.records), func(b *testing.B) {
				benchJournal(b, shape.submitters, shape.records, method == "copy")
			})
		}
	}
}

// BenchmarkReserveConventional is the conventional design's throughput on
// a 50,000-seat event: baseline.Hold, one statement per hold of two seats
// with its booking row. Seats do not overlap, the baseline's best case.
func BenchmarkReserveConventional(b *testing.B) {
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			db := openDB(b)
			ctx := ctxT(b)
			event := uuid.New()
			const seats = 50_000
			conv := baseline.New(db.Pool())
			if err := conv.Setup(ctx, event, seats); err != nil {
				b.Fatal(err)
			}
			space := boxoffice.NewTicketSpace(event)
			var held atomic.Int64
			runWorkers(b, n, "reserves", func(_, i int) error {
				ids := []uuid.UUID{space.ID((2 * i) % seats), space.ID((2*i + 1) % seats)}
				ok, err := conv.Hold(ctx, event, uuid.New(), uuid.New(), ids, 2000)
				if ok {
					held.Add(1)
				}
				return err
			})
			b.ReportMetric(float64(held.Load())/float64(b.N), "held/op")
		})
	}
}

// BenchmarkCreateEvent50k times the creation of a 50,000-seat event with
// its tickets (budget: well under 2 s).
func BenchmarkCreateEvent50k(b *testing.B) {
	db := openDB(b)
	ctx := ctxT(b)
	v, _, err := db.CreateVenue(ctx, newVenue(seatMap(10, 50, 100)))
	if err != nil {
		b.Fatal(err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "Band"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, n, _, err := db.CreateEvent(ctx, newEvent(v, p)); err != nil || n != 50_000 {
			b.Fatalf("create: %d tickets, %v", n, err)
		}
	}
}
