package actors

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Node-wide polls (issue 22). Every active grain re-reading its event's
// sale rules every RulesRefresh and listing its pending payments every
// ReconcileInterval on its own made a node with thousands of events queue
// thousands of queries for the pool's connections, and starved its
// activations. The engine polls for all of the node's active events (the
// budget's resident entries) on one goroutine instead: one query reads the
// events whose revision is above the one their grain has, and only those
// grains get the new rules (SetRules, as a PATCH's push); one query lists
// the pending payments of every active event, and each grain with some is
// handed its list (pendingPolled) and reconciles it as before. The
// goroutine starts with Attach and stops with Drain or Close.

// pendingPolled is an active event's list of pending payments read by the
// engine's poll; the grain reconciles it (onPendingFound).
type pendingPolled struct{ rows []boxoffice.Payment }

// NotInfluenceReceiveTimeout: a poll is not a use.
func (pendingPolled) NotInfluenceReceiveTimeout() {}

// onPendingPolled reconciles the polled list unless the grain's own
// (activation) reconciliation is still reading one.
func (g *grain) onPendingPolled(ctx actor.Context, msg pendingPolled) {
	if g.reconciling {
		return
	}
	g.onPendingFound(ctx, &pendingFound{rows: msg.rows})
}

// polls is the engine's polling goroutine: cancel stops it, done is closed
// when it has returned.
type polls struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startPolls (re)starts the engine's polls, sending to the grains through
// sys.
func (e *Engine) startPolls(sys *actor.ActorSystem) {
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	e.stopPollsLocked()
	ctx, cancel := context.WithCancel(context.Background())
	p := &polls{cancel: cancel, done: make(chan struct{})}
	e.polls = p
	go func() {
		defer close(p.done)
		e.poll(ctx, sys)
	}()
}

// stopPolls stops the engine's polls and waits for them. Idempotent.
func (e *Engine) stopPolls() {
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	e.stopPollsLocked()
}

func (e *Engine) stopPollsLocked() {
	if e.polls != nil {
		e.polls.cancel()
		<-e.polls.done
		e.polls = nil
	}
}

// poll re-reads the rules every RulesRefresh and reconciles every
// ReconcileInterval by the engine's clock (looked at every TickInterval,
// so tests can move it), until ctx ends or sys stops.
func (e *Engine) poll(ctx context.Context, sys *actor.ActorSystem) {
	tick := time.NewTicker(e.cfg.TickInterval)
	defer tick.Stop()
	rules := time.NewTicker(e.cfg.RulesRefresh)
	defer rules.Stop()
	next := e.cfg.Now().Add(e.cfg.ReconcileInterval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-rules.C:
			e.refreshRules(ctx, sys)
		case <-tick.C:
			if now := e.cfg.Now(); !now.Before(next) {
				next = now.Add(e.cfg.ReconcileInterval)
				e.reconcileActive(ctx, sys)
			}
		}
		if sys.IsStopped() {
			return
		}
	}
}

// residents lists the node's active grains that are not leaving.
func (e *Engine) residents() (ids []uuid.UUID, res []*resident) {
	e.active.Range(func(k, v any) bool {
		if r := v.(*resident); !r.leaving.Load() {
			ids, res = append(ids, k.(uuid.UUID)), append(res, r)
		}
		return true
	})
	return ids, res
}

// refreshRules sends their new rules to the active grains whose event
// changed since they read it: the safety net for a PATCH whose push
// (UpdateRules) was lost, e.g. made through another node.
func (e *Engine) refreshRules(ctx context.Context, sys *actor.ActorSystem) {
	ids, res := e.residents()
	if len(ids) == 0 {
		return
	}
	revs := make([]int64, len(res))
	for i, r := range res {
		revs[i] = r.revision.Load()
	}
	c, cancel := context.WithTimeout(ctx, e.cfg.RequestTimeout)
	changed, err := e.deps.Store.ChangedEvents(c, ids, revs)
	cancel()
	if err != nil {
		e.cfg.Logger.Debug("active events could not re-read their sale rules", "events", len(ids), "err", err)
		return
	}
	for _, ev := range changed {
		if v, ok := e.active.Load(ev.ID); ok {
			sys.Root.Send(v.(*resident).pid, rulesToPB(ev))
		}
	}
}

// reconcileActive hands each active grain with pending payments its list.
func (e *Engine) reconcileActive(ctx context.Context, sys *actor.ActorSystem) {
	ids, _ := e.residents()
	if len(ids) == 0 {
		return
	}
	c, cancel := context.WithTimeout(ctx, e.cfg.RequestTimeout)
	pending, err := e.deps.Store.PendingPaymentsFor(c, ids)
	cancel()
	if err != nil {
		e.cfg.Logger.Warn("listing pending payments failed; reconciliation retries at the next interval", "events", len(ids), "err", err)
		return
	}
	for id, rows := range pending {
		if len(rows) == 0 {
			continue
		}
		if v, ok := e.active.Load(id); ok {
			sys.Root.Send(v.(*resident).pid, pendingPolled{rows: rows})
		}
	}
}
