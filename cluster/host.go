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

	started time.Time // when the last activation began
	stop    chan struct{}
	wg      sync.WaitGroup
}

// Activation is one grain kind's part of an activation (Host.Activate).
type Activation struct {
	// Admit, if set, may refuse to load at all (the event grain holds off
	// after failed activations); its refusal is not logged.
	Admit func(id uuid.UUID) error
	// Load builds the grain's state from PostgreSQL under ctx.
	Load func(ctx context.Context) error
	// Failed, if set, hears of a failed Load.
	Failed func(id uuid.UUID, err error)
}

// Activate runs the start of an activation, in the grain's ClusterInit
// turn: it takes the event from the grain identity into *id, then runs
// a's Admit and Load, the latter under parent with timeout. A bad identity
// and a failed load are logged. It returns why the grain cannot serve (nil
// when it can): the grain keeps it as its load error and fails.
func (h *Host) Activate(parent context.Context, identity string, id *uuid.UUID, timeout time.Duration, a Activation) error {
	h.started = time.Now()
	parsed, err := uuid.Parse(identity)
	if err != nil {
		h.Log.Error(h.Name+" identity is not a UUID", "identity", identity)
		return fmt.Errorf("bad identity %q", identity)
	}
	*id = parsed
	if a.Admit != nil {
		if err := a.Admit(parsed); err != nil {
			return err
		}
	}
	c, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	if err := a.Load(c); err != nil {
		h.Log.Warn(h.Name+" activation failed", "event", parsed, "err", err)
		if a.Failed != nil {
			a.Failed(parsed, err)
		}
		return err
	}
	return nil
}

// Took is how long the last activation has taken so far.
func (h *Host) Took() time.Duration { return time.Since(h.started) }

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

// Refuse answers the message in ctx when the grain cannot serve (ready is
// false; activation or a write failed) and reports whether it did. The
// answer is reply(code, message): not_found when the activation found no
// such event (loadErr), else unavailable with unavailable as the message,
// so the caller retries and a new activation rebuilds from PostgreSQL.
// reply returns the grain's reply message for ctx's message, or nil for
// none (a message sent without a reply expected).
func Refuse(ctx actor.Context, ready bool, loadErr error, unavailable string, reply func(code, message string) any) bool {
	if ready {
		return false
	}
	code, msg := boxoffice.EUnavailable, unavailable
	if boxoffice.ErrorCode(loadErr) == boxoffice.ENotFound {
		code, msg = boxoffice.ENotFound, "no such event"
	}
	if r := reply(code, msg); r != nil {
		ctx.Respond(r)
	}
	return true
}

// StartTicker starts the goroutine that calls tick every tickEvery and
// refresh every refreshEvery (never when refresh is nil) until Shutdown.
// Both run on that goroutine, outside the actor: they should send the
// grain a message, or read only what the actor does not own.
func (h *Host) StartTicker(tickEvery time.Duration, tick func(), refreshEvery time.Duration, refresh func()) {
	// The goroutine keeps its own copy of the channel: Shutdown sets
	// h.stop to nil after closing it, and a goroutine reading the field
	// could then wait on a nil channel forever (and Shutdown on it).
	stop := make(chan struct{})
	h.stop = stop
	h.Go(func() {
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		var refreshC <-chan time.Time // nil refresh: none
		if refresh != nil {
			r := time.NewTicker(refreshEvery)
			defer r.Stop()
			refreshC = r.C
		}
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				tick()
			case <-refreshC:
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
