package actors

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// fakeLoader records each LoadActivations call; the first blocks until
// release is closed, so that later activations queue behind it.
type fakeLoader struct {
	mu      sync.Mutex
	calls   [][]uuid.UUID
	release chan struct{}
	err     error
}

func (f *fakeLoader) LoadActivations(_ context.Context, ids []uuid.UUID, _ string, _ time.Time) (map[uuid.UUID]*boxoffice.ActivationLoad, error) {
	f.mu.Lock()
	first := len(f.calls) == 0
	f.calls = append(f.calls, ids)
	f.mu.Unlock()
	if first {
		<-f.release
	}
	if f.err != nil {
		return nil, f.err
	}
	out := map[uuid.UUID]*boxoffice.ActivationLoad{}
	for _, id := range ids {
		if id != missingEvent {
			out[id] = &boxoffice.ActivationLoad{Event: boxoffice.Event{ID: id}, Epoch: 7}
		}
	}
	return out, nil
}

var missingEvent = uuid.MustParse("00000000-0000-0000-0000-00000000dead")

// The activations that arrive while a batch is in flight share the next
// one; each gets its own event, a missing event gets none, a second
// activation of an event in the same batch reads on its own, and a failed
// batch fails each of its activations.
func TestLoadBatcher(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{{"loaded", nil}, {"batch fails", errors.New("boom")}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLoader{release: make(chan struct{}), err: tc.err}
			b := &loadBatcher{loader: f, node: "n", timeout: time.Minute, since: time.Now}
			type result struct {
				load *boxoffice.ActivationLoad
				err  error
			}
			run := func(id uuid.UUID) <-chan result {
				ch := make(chan result, 1)
				go func() {
					a, err := b.load(context.Background(), id)
					ch <- result{a, err}
				}()
				return ch
			}
			calls := func() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.calls) }
			queued := func() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) }
			waitUntil := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s", what)
					}
					time.Sleep(time.Millisecond) // polling a condition
				}
			}
			// A first activation's batch blocks in the loader; while it
			// does (and, here, every other batch slot seems busy) four more
			// queue up, and its goroutine takes them as the next batch.
			blocker := run(uuid.New())
			waitUntil("the first batch", func() bool { return calls() == 1 })
			b.mu.Lock()
			b.inFlight = activationBatchesInFlight
			b.mu.Unlock()
			a, dup := uuid.New(), uuid.New()
			chA, chDup1, chMissing, chDup2 := run(a), run(dup), run(missingEvent), run(dup)
			waitUntil("four queued activations", func() bool { return queued() == 4 })
			b.mu.Lock()
			b.inFlight = 1 // the blocker's only
			b.mu.Unlock()
			close(f.release)
			<-blocker
			ra, rd1, rm, rd2 := <-chA, <-chDup1, <-chMissing, <-chDup2
			if tc.err != nil {
				for _, r := range []result{ra, rd1, rm, rd2} {
					if !errors.Is(r.err, tc.err) || r.load != nil {
						t.Fatalf("activation of a failed batch: %v, %v; want the batch's error", r.load, r.err)
					}
				}
				return
			}
			if c := calls(); c != 2 {
				t.Errorf("%d loader calls for the blocker and 4 queued activations, want 2 (the 4 batched)", c)
			}
			if ra.err != nil || ra.load == nil || ra.load.Event.ID != a {
				t.Errorf("activation of %s: %+v, %v", a, ra.load, ra.err)
			}
			if rm.err != nil || rm.load != nil {
				t.Errorf("activation of a missing event: %+v, %v; want none and no error", rm.load, rm.err)
			}
			got := 0
			for _, r := range []result{rd1, rd2} {
				switch {
				case r.err == nil && r.load != nil && r.load.Event.ID == dup:
					got++
				case errors.Is(r.err, errDuplicateActivation):
				default:
					t.Errorf("activation of a duplicated event: %+v, %v", r.load, r.err)
				}
			}
			if got != 1 {
				t.Errorf("%d activations of the duplicated event got its load, want 1", got)
			}
		})
	}
}
