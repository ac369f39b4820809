package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/cluster/bus"
)

// Notices leave through the catalog's relay but on their own stream: the
// catalog follower never sees them, and a notice consumer shared by two
// followers gets each notice with its outbox id, again after a failure,
// until one acknowledges it.
func TestNoticesRouteAndRedeliver(t *testing.T) {
	cfg := bus.DefaultConfig()
	cfg.StoreDir = t.TempDir()
	b := open(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.EnsureCatalogStream(ctx); err != nil {
		t.Fatal(err)
	}
	out := &fakeOutbox{sent: map[int64]bool{}, rows: []bus.OutboxRow{
		{ID: 1, Topic: "listing", Payload: []byte("1")},
		{ID: 2, Topic: boxoffice.NoticeBookingConfirmed, Payload: []byte(`{"n":2}`)},
		{ID: 3, Topic: boxoffice.NoticeEventSoldOut, Payload: []byte(`{"n":3}`)},
	}}
	go func() { _ = b.RunRelay(ctx, out, 10*time.Millisecond) }()

	var mu sync.Mutex
	calls := map[int64]int{} // deliveries per id
	types := map[int64]string{}
	handle := func(_ context.Context, id int64, typ string, _ []byte) error {
		mu.Lock()
		defer mu.Unlock()
		calls[id]++
		types[id] = typ
		if id == 2 && calls[id] < 3 {
			return context.DeadlineExceeded // a sink that is down twice
		}
		return nil
	}
	retry := func(int) time.Duration { return 10 * time.Millisecond }
	var wg sync.WaitGroup
	for range 2 { // two nodes share the consumer
		wg.Add(1)
		go func() { defer wg.Done(); _ = b.FollowNotices(ctx, "mailer", retry, handle) }()
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls[2] == 3 && calls[3] == 1
	}, 20*time.Second, 20*time.Millisecond, "notice 2 delivered until it succeeds, notice 3 once")
	mu.Lock()
	if types[2] != boxoffice.NoticeBookingConfirmed || types[3] != boxoffice.NoticeEventSoldOut || calls[1] != 0 {
		t.Errorf("types %v, calls %v: want notices 2 and 3 by type, the listing never", types, calls)
	}
	mu.Unlock()
	if seq, err := b.CatalogSeq(ctx); err != nil || seq != 1 {
		t.Errorf("catalog stream holds %d messages (%v), want only the listing", seq, err)
	}
	if seq, err := b.NoticeSeq(ctx); err != nil || seq != 2 {
		t.Errorf("notice stream holds %d messages (%v), want 2", seq, err)
	}
	cancel()
	wg.Wait()
}
