package bus_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/cluster/bus"
)

// fakeOutbox is an in-memory outbox with the relay lock.
type fakeOutbox struct {
	mu     sync.Mutex
	rows   []bus.OutboxRow
	sent   map[int64]bool
	locked bool
}

func newOutbox(n int) *fakeOutbox {
	o := &fakeOutbox{sent: map[int64]bool{}}
	for i := 1; i <= n; i++ {
		o.rows = append(o.rows, bus.OutboxRow{ID: int64(i), Topic: "listing", Payload: []byte(strconv.Itoa(i))})
	}
	return o
}

func (o *fakeOutbox) TryRelayLock(context.Context) (func(), bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.locked {
		return nil, false, nil
	}
	o.locked = true
	return func() { o.mu.Lock(); o.locked = false; o.mu.Unlock() }, true, nil
}

func (o *fakeOutbox) PendingOutbox(_ context.Context, limit int) ([]bus.OutboxRow, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []bus.OutboxRow
	for _, r := range o.rows {
		if !o.sent[r.ID] && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (o *fakeOutbox) MarkOutboxSent(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		o.sent[id] = true
	}
	return nil
}

// applied records what a follower applied, in order.
type applied struct {
	mu  sync.Mutex
	seq []int
}

func (a *applied) apply(topic string, payload []byte) error {
	n, _ := strconv.Atoi(string(payload))
	a.mu.Lock()
	a.seq = append(a.seq, n)
	a.mu.Unlock()
	return nil
}

func (a *applied) list() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.seq...)
}

func TestRelayAndFollowExactlyOnceInOrder(t *testing.T) {
	dir := t.TempDir()
	cfg := bus.DefaultConfig()
	cfg.StoreDir = dir
	b := open(t, cfg)
	ctx := context.Background()
	if err := b.EnsureCatalogStream(ctx); err != nil {
		t.Fatal(err)
	}
	out := newOutbox(300)
	// Two relays at once: the lock lets one publish; message IDs drop repeats.
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = b.RunRelay(rctx, out, 10*time.Millisecond) }()
	}
	require.Eventually(t, func() bool {
		rows, _ := out.PendingOutbox(ctx, 1)
		return len(rows) == 0
	}, 10*time.Second, 20*time.Millisecond, "all rows published")
	stop()
	wg.Wait()
	// A relay restarted after a crash that lost the "sent" marks republishes; dedup drops it.
	out.sent = map[int64]bool{}
	rctx, stop = context.WithCancel(ctx)
	go func() { _ = b.RunRelay(rctx, out, 10*time.Millisecond) }()
	require.Eventually(t, func() bool {
		rows, _ := out.PendingOutbox(ctx, 1)
		return len(rows) == 0
	}, 10*time.Second, 20*time.Millisecond, "republished")
	stop()
	if seq, err := b.CatalogSeq(ctx); err != nil || seq != 300 {
		t.Fatalf("stream holds %d messages (%v), want exactly 300", seq, err)
	}
	var a applied
	fctx, stopFollow := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = b.FollowCatalog(fctx, "node-a", a.apply); close(done) }()
	require.Eventually(t, func() bool { return len(a.list()) == 300 }, 10*time.Second, 20*time.Millisecond, "follower applied 300")
	stopFollow()
	<-done
	for i, n := range a.list() {
		if n != i+1 {
			t.Fatalf("applied[%d] = %d, want %d (stream order)", i, n, i+1)
		}
	}
}

func TestFollowerResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := bus.DefaultConfig()
	cfg.StoreDir = dir
	ctx := context.Background()
	b, err := bus.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureCatalogStream(ctx); err != nil {
		t.Fatal(err)
	}
	out := newOutbox(100)
	rctx, stop := context.WithCancel(ctx)
	go func() { _ = b.RunRelay(rctx, out, 10*time.Millisecond) }()
	var a applied
	fctx, stopFollow := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = b.FollowCatalog(fctx, "node-a", a.apply); close(done) }()
	require.Eventually(t, func() bool { return len(a.list()) == 100 }, 10*time.Second, 20*time.Millisecond, "first 100 applied")
	stopFollow()
	<-done
	stop()
	b.Close() // the embedded server and its JetStream restart on the same store

	for i := 101; i <= 150; i++ {
		out.rows = append(out.rows, bus.OutboxRow{ID: int64(i), Topic: "listing", Payload: []byte(strconv.Itoa(i))})
	}
	b2 := open(t, cfg)
	if err := b2.EnsureCatalogStream(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, stop = context.WithCancel(ctx)
	defer stop()
	go func() { _ = b2.RunRelay(rctx, out, 10*time.Millisecond) }()
	fctx, stopFollow = context.WithCancel(ctx)
	defer stopFollow()
	go func() { _ = b2.FollowCatalog(fctx, "node-a", a.apply) }()
	require.Eventually(t, func() bool { return len(a.list()) >= 150 }, 15*time.Second, 20*time.Millisecond, "the rest applied after the restart")
	// A duplicate would be delivered before a message published after it:
	// a sentinel, once applied, says nothing more is on its way.
	out.mu.Lock()
	out.rows = append(out.rows, bus.OutboxRow{ID: 151, Topic: "listing", Payload: []byte("151")})
	out.mu.Unlock()
	require.Eventually(t, func() bool { return slices.Contains(a.list(), 151) }, 15*time.Second, 20*time.Millisecond, "the sentinel applied")
	got := a.list()
	if len(got) != 151 {
		t.Fatalf("applied %d messages, want 151 (none lost, none twice)", len(got))
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("applied[%d] = %d, want %d", i, n, i+1)
		}
	}
}
