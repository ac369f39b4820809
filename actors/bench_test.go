package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/baseline"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// stadium is a 50,000-seat seat map: 10 sections of 50 rows of 100 seats.
func stadium() boxoffice.SeatMap {
	var sm boxoffice.SeatMap
	for s := range 10 {
		sec := boxoffice.Section{Name: fmt.Sprintf("S%d", s)}
		for r := range 50 {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: fmt.Sprint(r + 1), Seats: 100})
		}
		sm.Sections = append(sm.Sections, sec)
	}
	return sm
}

// BenchmarkReserve compares, on the same PostgreSQL and a 50,000-seat hot
// event, the grain with durable acknowledgements against the conventional
// design at its strongest (baseline.Hold: one prepared statement, one round
// trip, seats and booking row together, all or nothing). Each op is one
// reserve attempt of random seats by one of `conc` concurrent requesters
// (a closed loop); it reports attempts/s, successful holds/s, latency and,
// for the grain, PostgreSQL rows and journal bytes per hold.
// "conventional-3rt" is the first, weaker baseline (BEGIN, UPDATE, COMMIT,
// no booking row), run at one concurrency only to explain older numbers.
func BenchmarkReserve(b *testing.B) {
	for _, seats := range []int{1, 4} {
		for _, conc := range []int{16, 64, 256, 1024} {
			b.Run(fmt.Sprintf("grain/seats=%d/conc=%d", seats, conc), func(b *testing.B) {
				e := newBenchEnv(b, actors.Config{})
				rows, cpu := pgRows(b, e.db), pgCPU(b, e.db)
				holds := runReserve(b, conc, seats, 50_000, grainReserve(b, e))
				reportPGCPU(b, e.db, cpu, holds)
				reportBatches(b, e.node.jw)
				reportRows(b, e.db, rows, e.node.jw)
			})
			b.Run(fmt.Sprintf("conventional/seats=%d/conc=%d", seats, conc), func(b *testing.B) {
				db, hold := conventionalHold(b)
				cpu := pgCPU(b, db)
				holds := runReserve(b, conc, seats, 50_000, hold)
				reportPGCPU(b, db, cpu, holds)
			})
		}
		b.Run(fmt.Sprintf("conventional-3rt/seats=%d/conc=16", seats), func(b *testing.B) {
			db := openBenchDB(b)
			ev := uuid.New()
			conv := baseline.New(db.Pool())
			if err := conv.Setup(context.Background(), ev, 50_000); err != nil {
				b.Fatal(err)
			}
			space := boxoffice.NewTicketSpace(ev)
			runReserve(b, 16, seats, 50_000, func(ids []int) bool {
				ok, err := conv.Reserve(context.Background(), uuid.New(), toIDs(space, ids))
				if err != nil {
					b.Fatal(err)
				}
				return ok
			})
		})
	}
}

// conventionalHold sets up the strong conventional design on a fresh
// database and returns it and one hold attempt by a new user.
func conventionalHold(b *testing.B) (*persistence.DB, func(ids []int) bool) {
	b.Helper()
	db := openBenchDB(b)
	ev := uuid.New()
	conv := baseline.New(db.Pool())
	if err := conv.Setup(context.Background(), ev, 50_000); err != nil {
		b.Fatal(err)
	}
	space := boxoffice.NewTicketSpace(ev)
	return db, func(ids []int) bool {
		ok, err := conv.Hold(context.Background(), ev, uuid.New(), uuid.New(), toIDs(space, ids), int64(1000*len(ids)))
		if err != nil {
			b.Fatal(err)
		}
		return ok
	}
}

// pgRows counts the rows of the tables a hold writes (journal, bookings,
// sold_seats). Bench databases are private to one benchmark and holds
// only insert, so the difference over a run is the rows it wrote.
func pgRows(b *testing.B, db *persistence.DB) int64 {
	b.Helper()
	var n int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM journal)
		+ (SELECT count(*) FROM bookings) + (SELECT count(*) FROM sold_seats)`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// reportRows reports the PostgreSQL rows and journal bytes written per
// journal record (one record per successful hold) since before: the
// records' own bytes, and the journal table's size on disk with its index
// (tuple headers, pages, TOAST) over the run's records.
func reportRows(b *testing.B, db *persistence.DB, before int64, jw *persistence.JournalWriter) {
	b.Helper()
	st := jw.Stats()
	if st.Records == 0 {
		return
	}
	rows := pgRows(b, db) - before
	var bytes, disk int64
	if err := db.Pool().QueryRow(context.Background(),
		`SELECT coalesce(sum(octet_length(records)), 0)::bigint, pg_total_relation_size('journal') FROM journal`).Scan(&bytes, &disk); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows)/float64(st.Records), "pg-rows/record")
	b.ReportMetric(float64(bytes)/float64(st.Records), "journal-bytes/record")
	b.ReportMetric(float64(disk)/float64(st.Records), "journal-disk-bytes/record")
}

// BenchmarkReserveLinger is the A/B of group-commit pacing (grain.linger):
// the same reserve load with the grain's commits held back for returning
// callers (the default) and flushed at once.
func BenchmarkReserveLinger(b *testing.B) {
	for _, seats := range []int{1, 4} {
		for _, conc := range []int{16, 64} {
			for _, linger := range []time.Duration{time.Millisecond, -1} {
				name := "on"
				if linger < 0 {
					name = "off"
				}
				b.Run(fmt.Sprintf("linger=%s/seats=%d/conc=%d", name, seats, conc), func(b *testing.B) {
					e := newBenchEnv(b, actors.Config{MaxLinger: linger})
					runReserve(b, conc, seats, 50_000, grainReserve(b, e))
					reportBatches(b, e.node.jw)
				})
			}
		}
	}
}

// grainReserve is one reserve attempt through the grain by a new user; a
// taken seat is a refusal, any other error ends the benchmark.
func grainReserve(b *testing.B, e *env) func(ids []int) bool {
	space := boxoffice.NewTicketSpace(e.eventID)
	return func(ids []int) bool {
		_, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{EventID: e.eventID,
			UserID: uuid.New(), BookingID: uuid.New(), TicketIDs: toIDs(space, ids)})
		if err != nil && boxoffice.ErrorCode(err) != boxoffice.ESeatUnavailable {
			b.Fatal(err)
		}
		return err == nil
	}
}

// reportBatches reports the journal records per group commit.
func reportBatches(b *testing.B, jw *persistence.JournalWriter) {
	if st := jw.Stats(); st.Batches > 0 {
		b.ReportMetric(float64(st.Records)/float64(st.Batches), "records/batch")
	}
}

// BenchmarkReserveHot is the on-sale as it really goes: 256 requesters all
// want the 1,000 best seats of the 50,000, so most attempts collide; the
// conventional side is the strong one (baseline.Hold).
func BenchmarkReserveHot(b *testing.B) {
	const conc, hot = 256, 1000
	b.Run("grain", func(b *testing.B) {
		e := newBenchEnv(b, actors.Config{})
		space := boxoffice.NewTicketSpace(e.eventID)
		runReserve(b, conc, 1, hot, func(ids []int) bool {
			_, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{EventID: e.eventID,
				UserID: uuid.New(), BookingID: uuid.New(), TicketIDs: toIDs(space, ids)})
			return err == nil
		})
	})
	b.Run("conventional", func(b *testing.B) {
		_, hold := conventionalHold(b)
		runReserve(b, conc, 1, hot, hold)
	})
}

func newBenchEnv(b *testing.B, cfg actors.Config) *env {
	b.Helper()
	db := openBenchDB(b)
	e := &env{db: db, eventID: createEvent(b, db, stadium()), seats: 50_000}
	e.node = startNode(b, db, cfg)
	// Activate the grain outside the timer.
	if _, err := e.node.eng.Seats(context.Background(), e.eventID); err != nil {
		b.Fatal(err)
	}
	return e
}

func openBenchDB(b *testing.B) *persistence.DB {
	b.Helper()
	ctx := context.Background()
	db, err := persistence.Open(ctx, persistence.Config{URL: pgtest.NewDB(b), MaxConns: 80})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

func toIDs(space boxoffice.TicketSpace, idx []int) []uuid.UUID {
	out := make([]uuid.UUID, len(idx))
	for i, x := range idx {
		out[i] = space.ID(x)
	}
	return out
}

// runReserve spreads b.N attempts over conc goroutines and reports rates
// and latency percentiles; seats are drawn from the first `among` seats.
// It returns the number of successful holds.
func runReserve(b *testing.B, conc, seats, among int, reserve func(idx []int) bool) int64 {
	var next, holds atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for next.Add(1) <= int64(b.N) {
				idx := make([]int, 0, seats)
				for len(idx) < seats {
					if x := r.IntN(among); !slices.Contains(idx, x) {
						idx = append(idx, x)
					}
				}
				t := time.Now()
				if reserve(idx) {
					holds.Add(1)
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "attempts/s")
	b.ReportMetric(float64(holds.Load())/elapsed.Seconds(), "holds/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	return holds.Load()
}

// pgCPU is the CPU time PostgreSQL's processes have used so far (user +
// system, from /proc), summed over the server processes pg_stat_activity
// lists: the pool's backends, which live through a benchmark, and the
// background writers. Zero where /proc is not readable.
func pgCPU(b *testing.B, db *persistence.DB) time.Duration {
	b.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	var ticks int64
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is field 3,
		// utime and stime are fields 14 and 15.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// reportPGCPU reports PostgreSQL's CPU per successful hold since before.
func reportPGCPU(b *testing.B, db *persistence.DB, before time.Duration, holds int64) {
	b.Helper()
	if holds > 0 {
		b.ReportMetric(float64((pgCPU(b, db)-before).Microseconds())/float64(holds), "pg-cpu-us/hold")
	}
}

// BenchmarkActivation measures rebuilding a 50,000-seat event from its
// snapshot plus 10,000 journal records, as an activation does, and reports
// the journal bytes per hold record.
func BenchmarkActivation(b *testing.B) {
	db, eventID, epoch, m, hold, snapshotBytes := stadiumSnapshotted(b, 1, 2)
	ctx := context.Background()
	jw := persistence.NewJournalWriter(db, persistence.DefaultJournalConfig())
	defer jw.Close()
	var bytes int
	for batch := range 10 { // 10,000 records after it
		c := boxoffice.Commit{EventID: eventID, Epoch: epoch}
		for range 1000 {
			data, _ := hold().MarshalBinary()
			bytes += len(data)
			c.Entries = append(c.Entries, boxoffice.Entry{Version: m.Version(), Record: data})
		}
		done := make(chan error, 1)
		jw.Submit(c, func(err error) { done <- err })
		if err := <-done; err != nil {
			b.Fatalf("batch %d: %v", batch, err)
		}
	}
	want, _ := m.MarshalBinary()
	b.ResetTimer()
	for range b.N {
		got, err := actors.Restore(ctx, db, eventID, 50_000)
		if err != nil {
			b.Fatal(err)
		}
		if got.Version() != m.Version() {
			b.Fatalf("restored v%d, want v%d", got.Version(), m.Version())
		}
	}
	b.StopTimer()
	got, _ := actors.Restore(ctx, db, eventID, 50_000)
	if have, _ := got.MarshalBinary(); string(have) != string(want) {
		b.Fatal("restored state differs from the live state")
	}
	b.ReportMetric(float64(bytes)/10_000, "journal-bytes/hold")
	b.ReportMetric(float64(snapshotBytes), "snapshot-bytes")
}

// stadiumSnapshotted creates the 50,000-seat stadium, makes 10,000 random
// single-seat holds (PCG seeded with seed1, seed2) and saves them as its
// snapshot, the starting point of the activation benchmarks. It returns
// the event's epoch, its seat map, hold (which makes one more such hold) and
// the snapshot's size.
func stadiumSnapshotted(b *testing.B, seed1, seed2 uint64) (*persistence.DB, uuid.UUID, int64, *seatmap.Map, func() seatmap.Record, int) {
	b.Helper()
	db := openBenchDB(b)
	ctx := context.Background()
	eventID := createEvent(b, db, stadium())
	m := seatmap.New(eventID, 50_000)
	epoch, err := db.Acquire(ctx, eventID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	space := boxoffice.NewTicketSpace(eventID)
	r := rand.New(rand.NewPCG(seed1, seed2))
	hold := func() seatmap.Record {
		for {
			rec, err := m.Hold(uuid.New(), uuid.New(), []uuid.UUID{space.ID(r.IntN(50_000))}, time.Now(), time.Hour)
			if err == nil {
				return rec
			}
		}
	}
	for range 10_000 { // state in the snapshot
		hold()
	}
	state, _ := m.MarshalBinary()
	if err := db.SaveSnapshot(ctx, eventID, epoch, m.Version(), state); err != nil {
		b.Fatal(err)
	}
	return db, eventID, epoch, m, hold, len(state)
}
