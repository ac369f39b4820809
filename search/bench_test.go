package search_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

// Benchmark knobs, from the environment so that `make bench` stays bounded:
//
//	BOXOFFICE_SEARCH_BENCH_EVENTS  catalog size (default 20000)
//	BOXOFFICE_SEARCH_BENCH_BATCH   Config.BatchSize of the builds (default
//	                               DefaultConfig's)
//	BOXOFFICE_SEARCH_BENCH_SLOTS   Config.MaxConcurrentSearches (default
//	                               DefaultConfig's: one per core)
//	BOXOFFICE_SEARCH_BENCH_FUZZY_PREFIX  Config.FuzzyPrefix (default 0)
//	BOXOFFICE_SEARCH_BENCH_DIR     keep the query benchmarks' index here and
//	                               reuse it when it holds that many events
//	                               (default: a temporary directory)
const (
	envEvents = "BOXOFFICE_SEARCH_BENCH_EVENTS"
	envDir    = "BOXOFFICE_SEARCH_BENCH_DIR"
	envBatch  = "BOXOFFICE_SEARCH_BENCH_BATCH"
	envSlots  = "BOXOFFICE_SEARCH_BENCH_SLOTS"
	envPrefix = "BOXOFFICE_SEARCH_BENCH_FUZZY_PREFIX"
	benchSeed = 2027
)

func benchEvents(tb testing.TB) int {
	n := envInt(tb, envEvents, 20_000)
	if n < 1 {
		tb.Fatalf("%s: want at least 1 event", envEvents)
	}
	return n
}

// benchConfig is DefaultConfig(dir) with the benchmark's knobs.
func benchConfig(tb testing.TB, dir string) search.Config {
	cfg := search.DefaultConfig(dir)
	cfg.BatchSize = envInt(tb, envBatch, cfg.BatchSize)
	cfg.MaxConcurrentSearches = envInt(tb, envSlots, cfg.MaxConcurrentSearches)
	cfg.FuzzyPrefix = envInt(tb, envPrefix, cfg.FuzzyPrefix)
	return cfg
}

func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		tb.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return n
}

// TestMain removes the query benchmarks' temporary index.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.tmp != "" {
		_ = os.RemoveAll(shared.tmp)
	}
	os.Exit(code)
}

// shared is the index every query benchmark searches, built once.
var shared struct {
	once     sync.Once
	ix       *search.Index
	listings []boxoffice.Listing
	tmp      string
	err      error
}

func sharedIndex(b *testing.B) (*search.Index, []boxoffice.Listing) {
	b.Helper()
	shared.once.Do(func() {
		n := benchEvents(b)
		shared.listings = generate(n, benchSeed)
		dir := os.Getenv(envDir)
		if dir == "" {
			shared.tmp, shared.err = os.MkdirTemp("", "boxoffice-search-bench-")
			dir = shared.tmp
		}
		if shared.err != nil {
			return
		}
		cfg := benchConfig(b, dir)
		if ix, err := search.Open(cfg); err == nil {
			if c, _ := ix.Count(); c == uint64(n) {
				shared.ix = ix
				return
			}
			_ = ix.Close()
		}
		start := time.Now()
		shared.ix, shared.err = search.Rebuild(context.Background(), cfg, sliceSource(shared.listings), nil)
		b.Logf("built %d events in %v", n, time.Since(start).Round(time.Millisecond))
	})
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.ix, shared.listings
}

// BenchmarkBuild measures bulk indexing: Rebuild (the reindex and seeding
// path) and ApplyBatch (the catalog stream's path, durable), reporting
// events/s and the index's size on disk.
func BenchmarkBuild(b *testing.B) {
	n := benchEvents(b)
	listings := generate(n, benchSeed)
	b.Run(fmt.Sprintf("rebuild/events=%d", n), func(b *testing.B) {
		var size int64
		for b.Loop() {
			dir := b.TempDir()
			ix, err := search.Rebuild(context.Background(), benchConfig(b, dir), sliceSource(listings), nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				b.Fatal(err)
			}
			size = dirSize(b, dir)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(size)/(1<<20), "MB-on-disk")
		b.ReportMetric(float64(size)/float64(n), "bytes/event")
	})
	m := min(n, 50_000) // the live path is slower; keep it bounded
	b.Run(fmt.Sprintf("apply-batch-1000/events=%d", m), func(b *testing.B) {
		for b.Loop() {
			ix, err := search.Open(search.DefaultConfig(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			for chunk := range slices.Chunk(listings[:m], 1000) {
				if err := ix.ApplyBatch(chunk); err != nil {
					b.Fatal(err)
				}
			}
			if err := ix.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(m)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkApply measures one durable upsert at a time (the catalog
// stream's worst case: one message per fetch) into an index of 20,000
// events, each a new revision of an existing event.
func BenchmarkApply(b *testing.B) {
	listings := generate(20_000, benchSeed)
	ix, err := search.Rebuild(context.Background(), benchConfig(b, b.TempDir()), sliceSource(listings), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	i := 0
	for b.Loop() {
		l := listings[i%len(listings)]
		l.Revision = int64(2 + i/len(listings))
		l.Name += " (rescheduled)"
		if err := ix.Apply(l); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func dirSize(tb testing.TB, dir string) int64 {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			size += info.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return size
}

// BenchmarkQuery measures the query mix at 1 and 16 concurrent clients and
// reports latency percentiles. Targets (1,000,000 events): p99 <= 50 ms for
// text with a typo, <= 10 ms for filters only.
func BenchmarkQuery(b *testing.B) {
	ix, listings := sharedIndex(b)
	kinds := []struct {
		name string
		make func(r *rand.Rand, ls []boxoffice.Listing) search.Query
	}{
		{"text-typo", typoQuery},
		{"type-city", typeCityQuery},
		{"near-date", nearDateQuery},
		{"combined", combinedQuery},
		{"mix", func(r *rand.Rand, ls []boxoffice.Listing) search.Query {
			return []func(*rand.Rand, []boxoffice.Listing) search.Query{typoQuery, typeCityQuery, nearDateQuery, combinedQuery}[r.IntN(4)](r, ls)
		}},
	}
	for _, k := range kinds {
		r := rand.New(rand.NewPCG(benchSeed, 1))
		qs := make([]search.Query, 1000)
		for i := range qs {
			qs[i] = k.make(r, listings)
		}
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/events=%d/clients=%d", k.name, len(listings), clients), func(b *testing.B) {
				runClients(b, ix, qs, clients)
			})
		}
	}
}

// runClients runs b.N queries from qs over that many goroutines and
// reports p50, p99, mean hits and throughput.
func runClients(b *testing.B, ix *search.Index, qs []search.Query, clients int) {
	var next, hits atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				start := time.Now()
				r, err := ix.Search(context.Background(), qs[i%int64(len(qs))])
				lat[c] = append(lat[c], time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
				hits.Add(int64(r.Total))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p int) float64 { return float64(all[min(len(all)-1, len(all)*p/100)]) / float64(time.Millisecond) }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
	b.ReportMetric(float64(hits.Load())/float64(b.N), "hits/query")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// typoQuery takes a word of 5+ letters from an event or performer name and
// misspells it once: a swap of two inner letters, a dropped or a doubled
// letter, as people type.
func typoQuery(r *rand.Rand, ls []boxoffice.Listing) search.Query {
	for {
		l := ls[r.IntN(len(ls))]
		var words []string
		for _, w := range strings.FieldsFunc(l.Name+" "+l.PerformerName, func(c rune) bool { return !unicode.IsLetter(c) }) {
			if len(w) >= 5 && isASCII(w) {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			continue
		}
		return search.Query{Text: misspell(r, words[r.IntN(len(words))])}
	}
}

func misspell(r *rand.Rand, w string) string {
	b := []byte(w)
	i := 1 + r.IntN(len(b)-2)
	switch r.IntN(3) {
	case 0:
		b[i], b[i+1] = b[i+1], b[i]
	case 1:
		b = append(b[:i], b[i+1:]...)
	default:
		b = append(b[:i+1], b[i:]...)
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func typeCityQuery(r *rand.Rand, ls []boxoffice.Listing) search.Query {
	a, c := ls[r.IntN(len(ls))], ls[r.IntN(len(ls))]
	return search.Query{Type: a.Type, City: c.City}
}

func nearDateQuery(r *rand.Rand, ls []boxoffice.Listing) search.Query {
	l := ls[r.IntN(len(ls))]
	from := l.StartsAt.Truncate(24*time.Hour).AddDate(0, 0, -r.IntN(30))
	return search.Query{Near: &l.Location, RadiusKm: 50, From: from, To: from.AddDate(0, 1, 0)}
}

func combinedQuery(r *rand.Rand, ls []boxoffice.Listing) search.Query {
	q := typoQuery(r, ls)
	l := ls[r.IntN(len(ls))]
	from := l.StartsAt.Truncate(24*time.Hour).AddDate(0, -1, 0)
	q.Type, q.Near, q.RadiusKm = l.Type, &l.Location, 100
	q.From, q.To = from, from.AddDate(0, 3, 0)
	return q
}
