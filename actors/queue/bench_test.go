package queue_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/actors/queue/queuetest"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// BenchmarkWaitingRoom100k queues 100,000 users on one node and then admits
// them while all 100,000 watch their place. The clients are simulated:
// 512 goroutines calling Room.Join (through the cluster, as the HTTP
// handler does) and 100,000 Room.Watch callbacks instead of sockets, since
// 100,000 WebSockets exceed this machine. The room's watermark travels on
// a real (embedded) NATS server. Run it once per measurement:
//
//	go test -run '^$' -bench WaitingRoom100k -benchtime 1x ./actors/queue/
//
// It reports joins/s, the heap per queued user (the room grain) and per
// watcher (the node's hub), and the admission-push latency (from the
// room deciding an admission, through its PostgreSQL write and NATS, to
// the watcher's callback) at p50 and p99.
func BenchmarkWaitingRoom100k(b *testing.B) {
	const users, clients, rate = 100_000, 512, 2000
	const measure = 5 * time.Second
	for range b.N {
		e, nc := benchEnv(b)
		ctx := context.Background()
		ids := make([]uuid.UUID, users)

		// Proto.Actor's process registry keeps the memory of a burst of
		// requests (its maps never shrink); warm it with as many calls as
		// the joins make, so the heap delta below is the room's own.
		parallel(clients, users, func(int) {
			if _, err := e.room().Stats(ctx, e.ev.ID); err != nil {
				b.Errorf("stats: %v", err)
			}
		})
		before := heapBytes()
		start := time.Now()
		parallel(clients, users, func(i int) {
			s, err := e.room().Join(ctx, e.ev.ID, uuid.New())
			if err != nil {
				b.Errorf("join: %v", err)
				return
			}
			ids[i] = s.QueueID
		})
		joinTime := time.Since(start)
		perUser := float64(heapBytes()-before) / users

		var mu sync.Mutex
		var lat []time.Duration
		ttl := e.cfg.AdmissionTTL
		before = heapBytes()
		cancels := make([]func(), 0, users)
		for _, id := range ids {
			cancel, err := e.room().Watch(ctx, e.ev.ID, id, func(s queue.Status) {
				if s.State == queue.StateAdmitted {
					d := time.Since(s.ExpiresAt.Add(-ttl))
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
			if err != nil {
				b.Fatalf("watch: %v", err)
			}
			cancels = append(cancels, cancel)
		}
		perWatcher := float64(heapBytes()-before) / users

		e.setRoom(b, true, rate)
		time.Sleep(measure)
		e.setRoom(b, true, 0)
		mu.Lock()
		got := slices.Clone(lat)
		mu.Unlock()
		for _, c := range cancels {
			c()
		}
		e.node.Stop()
		nc.Close()

		if len(got) < rate*int(measure/time.Second)/2 {
			b.Fatalf("only %d admissions pushed in %v at %d/s", len(got), measure, rate)
		}
		slices.Sort(got)
		b.ReportMetric(users/joinTime.Seconds(), "joins/s")
		b.ReportMetric(perUser, "B/queued-user")
		b.ReportMetric(perWatcher, "B/watcher")
		b.ReportMetric(float64(got[len(got)/2].Microseconds())/1000, "push-p50-ms")
		b.ReportMetric(float64(got[len(got)*99/100].Microseconds())/1000, "push-p99-ms")
		b.ReportMetric(float64(len(got)), "admissions-pushed")
	}
}

// parallel calls fn(0..n-1) from the given number of goroutines.
func parallel(goroutines, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				fn(int(i))
			}
		}()
	}
	wg.Wait()
}

// benchEnv is newEnv with the watermark on a real NATS server.
func benchEnv(b *testing.B) (*env, *nats.Conn) {
	b.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	b.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	db := dbtest.OpenDB(b, pgtest.NewDB(b))
	e := &env{db: db, ev: dbtest.CreateEvent(b, db, dbtest.SmallHall(), paused), cfg: queuetest.Config()}
	e.cfg.PushInterval = 3 * time.Second
	sub := queue.SubscriberFunc(func(subj string, fn func([]byte)) (func(), error) {
		s, err := nc.Subscribe(subj, func(m *nats.Msg) { fn(m.Data) })
		if err != nil {
			return nil, err
		}
		return func() { _ = s.Unsubscribe() }, nil
	})
	e.node = queuetest.StartNode(b, e.cfg, queue.Deps{Store: db, Events: db, Publisher: nc, Subscriber: sub})
	return e, nc
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkVerifyToken is the cost CheckAdmission adds to a reserve.
func BenchmarkVerifyToken(b *testing.B) {
	key := queue.DeriveKey([]byte("secret"))
	ev, user := uuid.New(), uuid.New()
	now := time.Now()
	tok := queue.SignToken(key, ev, user, 1, now.Add(time.Minute))
	for b.Loop() {
		if err := queue.VerifyToken(key, tok, ev, user, 1, now); err != nil {
			b.Fatal(err)
		}
	}
}
