package actors

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Activation batching. When the survivors of a failover re-activate a
// dead node's thousands of events, each activation's six reads and its
// epoch claim, one event at a time, made PostgreSQL round trips the limit
// (~260 events/s a node). The grains that activate at the same moment
// instead hand their event to the node's loadBatcher, and one
// boxoffice.ActivationLoader call claims and reads them all. A lone
// activation is not delayed: the first goes at once, and the ones that
// arrive while batches are in flight wait for the next.

// Bounds of activation batching.
const (
	// activationBatchMax is the most events one batch claims and reads.
	activationBatchMax = 128
	// activationBatchesInFlight is how many batches run at once.
	activationBatchesInFlight = 4
)

// loadBatcher gathers the activations of one node's grains into batches.
type loadBatcher struct {
	loader  boxoffice.ActivationLoader
	node    string
	timeout time.Duration
	since   func() time.Time // the claims window's start

	// batches counts the batches run, loaded the events they loaded.
	batches, loaded atomic.Int64

	mu       sync.Mutex
	queue    []*loadWait
	inFlight int
}

// loadWait is one grain waiting for its event's activation load.
type loadWait struct {
	id   uuid.UUID
	done chan struct{}
	load *boxoffice.ActivationLoad // nil: no such event
	err  error
}

// load claims the event for the node and reads its activation load,
// batched with the other activations waiting at the time. It returns a nil
// load for an event that does not exist, and an error when the batch
// failed (nothing of it may be used; the caller reads on its own).
func (b *loadBatcher) load(ctx context.Context, id uuid.UUID) (*boxoffice.ActivationLoad, error) {
	w := &loadWait{id: id, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	start := b.inFlight < activationBatchesInFlight
	if start {
		b.inFlight++
	}
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-w.done:
		return w.load, w.err
	case <-ctx.Done():
		// The batch may still take an epoch for the event: harmless, as
		// an epoch no grain writes with fences nobody but older owners.
		return nil, ctx.Err()
	}
}

// run takes batches off the queue until it is empty.
func (b *loadBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), activationBatchMax)
		if n == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil
		}
		b.mu.Unlock()
		b.runBatch(batch)
	}
}

func (b *loadBatcher) runBatch(batch []*loadWait) {
	ids := make([]uuid.UUID, len(batch))
	for i, w := range batch {
		ids[i] = w.id
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	loads, err := b.loader.LoadActivations(ctx, ids, b.node, b.since())
	b.batches.Add(1)
	if err == nil {
		b.loaded.Add(int64(len(loads)))
	}
	for _, w := range batch {
		if err != nil {
			w.err = err
		} else if a := loads[w.id]; a != nil {
			// Two grains of one event in one batch (a grain and the next
			// activation after it failed) cannot both have its epoch;
			// the later one reads on its own.
			delete(loads, w.id)
			w.load = a
		} else if seen(batch, w) {
			w.err = errDuplicateActivation
		}
		close(w.done)
	}
}

// seen reports whether an earlier waiter of batch has w's event.
func seen(batch []*loadWait, w *loadWait) bool {
	for _, o := range batch {
		if o == w {
			return false
		}
		if o.id == w.id {
			return true
		}
	}
	return false
}

// errDuplicateActivation: the event was twice in one batch; the second
// activation falls back on reading on its own.
var errDuplicateActivation = boxoffice.Errorf(boxoffice.EUnavailable, "the event was activated twice in one batch")
