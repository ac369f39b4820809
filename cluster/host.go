package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Host is what every grain kind of this tree (the event grain, the waiting
// room) does the same way around its own state: take its event from the
// grain identity, load under a timeout, turn a panic into a stop, say why
// it refuses, and own goroutines (its ticker among them) that stop with
// it. Embed it in the grain and set Log and Name before the first message.
// Like the grain, it belongs to the actor's Receive loop.
type Host struct {
	Log *slog.Logger
	// Name names the grain in logs ("event actor", "room").
	Name string

	stop chan struct{}
	wg   sync.WaitGroup
}

// Identity parses the grain identity, which is its event's ID.
func (h *Host) Identity(identity string) (uuid.UUID, error) {
	id, err := uuid.Parse(identity)
	if err != nil {
		h.Log.Error(h.Name+" identity is not a UUID", "identity", identity)
		return uuid.Nil, fmt.Errorf("bad identity %q", identity)
	}
	return id, nil
}

// Load runs an activation's load of event id under parent with timeout; a
// failure is logged and returned.
func (h *Host) Load(parent context.Context, timeout time.Duration, id uuid.UUID, load func(context.Context) error) error {
	c, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	if err := load(c); err != nil {
		h.Log.Warn(h.Name+" activation failed", "event", id, "err", err)
		return err
	}
	return nil
}

// Contain, deferred first in Receive, turns a panic into fail: the grain
// fails what is pending and stops, and the next call activates a fresh
// actor (new PID, new mailbox) that rebuilds from PostgreSQL. Left to
// Proto.Actor's supervisor, the panic would restart the grain in place,
// behind the same PID and mailbox, with the late messages of this
// instance still coming. attrs, if set, names what to log with the panic
// (read after it, so that it sees the grain's state then).
func (h *Host) Contain(ctx actor.Context, fail func(actor.Context, error), attrs func() []any) {
	r := recover()
	if r == nil {
		return
	}
	var kv []any
	if attrs != nil {
		kv = attrs()
	}
	h.Log.Error(h.Name+" panicked; stopping it to rebuild from PostgreSQL", append(kv,
		"message", fmt.Sprintf("%T", ctx.Message()), "panic", r, "stack", string(debug.Stack()))...)
	fail(ctx, fmt.Errorf("panic: %v", r))
}

// Refusal is the error a grain that cannot serve answers: not_found when
// its activation found no such event (loadErr), else unavailable with
// message (activation or a write failed; a retry activates afresh).
func Refusal(loadErr error, message string) (code, msg string) {
	if boxoffice.ErrorCode(loadErr) == boxoffice.ENotFound {
		return boxoffice.ENotFound, "no such event"
	}
	return boxoffice.EUnavailable, message
}

// StartTicker starts the goroutine that calls tick every tickEvery and
// refresh every refreshEvery until Shutdown. Both run on that goroutine,
// outside the actor: they should send the grain a message, or read only
// what the actor does not own.
func (h *Host) StartTicker(tickEvery time.Duration, tick func(), refreshEvery time.Duration, refresh func()) {
	// The goroutine keeps its own copy of the channel: Shutdown sets
	// h.stop to nil after closing it, and a goroutine reading the field
	// could then wait on a nil channel forever (and Shutdown on it).
	stop := make(chan struct{})
	h.stop = stop
	h.Go(func() {
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		r := time.NewTicker(refreshEvery)
		defer r.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				tick()
			case <-r.C:
				refresh()
			}
		}
	})
}

// Go runs fn on a goroutine the grain owns; Shutdown waits for it.
func (h *Host) Go(fn func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
}

// Shutdown stops the ticker and waits for every goroutine the grain owns.
func (h *Host) Shutdown() {
	if h.stop != nil {
		close(h.stop)
		h.stop = nil
	}
	h.wg.Wait()
}
