package actors

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// group is the records of consecutive commands that commit together, and
// what to do for each once they are durable (or not).
type group struct {
	records  []seatmap.Record
	entries  []boxoffice.Entry
	bookings []boxoffice.Booking
	// projected are the bookings of holds, for the projector once the
	// group is durable (Config.BookingsWindow).
	projected []projRow
	sales     []boxoffice.Sale
	notices   []boxoffice.Notice
	refunds   []uuid.UUID
	waiters   []waiter
	// traces are the contexts of the traced commands that staged records
	// here: the journal's commit span links to each (tracing only).
	traces []context.Context
	// done receives the commit's outcome too (buffered), for settle,
	// which waits for it while the grain stops.
	done chan error
}

// waiter is a deferred reply or continuation. Exactly one of reply and
// then is set. reply builds the success reply; then runs in the actor after
// the group's outcome is known.
type waiter struct {
	sender *actor.PID
	reply  proto.Message
	onFail proto.Message
	then   func(ctx actor.Context, err error)
}

// finish answers every waiter of the group with its success reply, or with
// "unavailable" when err is set.
func (gr *group) finish(ctx actor.Context, err error) {
	for _, w := range gr.waiters {
		switch {
		case w.then != nil:
			w.then(ctx, err)
		case err == nil:
			ctx.Send(w.sender, w.reply)
		default:
			ctx.Send(w.sender, w.onFail)
		}
	}
}

// stage appends one record (and the booking row and sale it implies) to
// the open group.
func (g *grain) stage(r seatmap.Record, b *boxoffice.Booking, sale *boxoffice.Sale) {
	g.stageRow(r, b, sale, false)
}

// stageRow is stage; sync writes the booking row in the journal's commit
// even when the bookings of holds are projected (a keyed hold: its
// Idempotency-Key claim counts only with a row, persistence.ClaimedHolds).
func (g *grain) stageRow(r seatmap.Record, b *boxoffice.Booking, sale *boxoffice.Sale, sync bool) {
	if g.open == nil {
		g.open = &group{}
	}
	data, err := r.MarshalBinary()
	if err != nil {
		// Records are built by the seat map from validated input; a record
		// that cannot be encoded is a bug, and the grain must not go on.
		panic(err)
	}
	g.traceStaged()
	g.open.records = append(g.open.records, r)
	g.open.entries = append(g.open.entries, boxoffice.Entry{Version: r.Version, Record: data})
	switch {
	case b == nil:
	case !sync && g.projected(b, sale):
		g.open.projected = append(g.open.projected, projRow{
			row: boxoffice.ProjectedBooking{Booking: *b, Version: r.Version}, fresh: r.Kind == seatmap.KindHeld})
	default:
		if b.CreatedAt.IsZero() {
			b.CreatedAt = g.pendingCreatedAt(b.ID)
		}
		g.open.bookings = append(g.open.bookings, *b)
	}
	if sale != nil {
		g.open.sales = append(g.open.sales, *sale)
	}
	g.sinceSnap++
	g.countsDirty = true
}

// notify adds a notice (e-mail, webhooks) to the open group, so it reaches
// the outbox in the same transaction as the records staged before it. It
// must follow a stage.
func (g *grain) notify(n boxoffice.Notice) {
	g.open.notices = append(g.open.notices, n)
}

// wait defers a reply to the newest group that holds state the caller has
// seen, or replies at once when everything is durable.
func (g *grain) wait(ctx actor.Context, reply, onFail proto.Message) {
	gr := g.latest()
	if gr == nil {
		ctx.Respond(reply)
		return
	}
	gr.waiters = append(gr.waiters, waiter{sender: ctx.Sender(), reply: reply, onFail: onFail})
}

// after runs fn once the newest group's outcome is known (at once with nil
// when nothing is pending).
func (g *grain) after(ctx actor.Context, fn func(ctx actor.Context, err error)) {
	gr := g.latest()
	if gr == nil {
		fn(ctx, nil)
		return
	}
	gr.waiters = append(gr.waiters, waiter{then: fn})
}

func (g *grain) latest() *group {
	if g.open != nil {
		return g.open
	}
	return g.inflight
}

// flush hands the open group to the journal writer unless one is already in
// flight: one group in flight per event keeps the journal gap-free (I5) even
// when a commit fails.
func (g *grain) flush(ctx actor.Context) {
	if g.inflight == nil && g.open != nil && len(g.open.entries) == 0 {
		// Only waiters (reads) and no records: everything they saw is durable.
		gr := g.open
		g.open = nil
		gr.finish(ctx, nil)
		return
	}
	if g.inflight != nil || g.open == nil {
		return
	}
	if g.lingering {
		if len(g.open.entries) < g.expect {
			return // the callers of the last group are still coming back
		}
		g.lingering = false
		g.lingerTimer.Stop() // they are back: no need for its message
	}
	gr := g.open
	g.open, g.inflight = nil, gr
	g.inflightAt = time.Now()
	gr.done = make(chan error, 1)
	self, root, st := ctx.Self(), ctx.ActorSystem().Root, g.stamp()
	g.e.deps.Journal.Submit(boxoffice.Commit{
		EventID: g.eventID, Epoch: g.epoch, Entries: gr.entries, Bookings: gr.bookings, Sales: gr.sales, Traces: gr.traces,
		Notices: gr.notices, Refunds: gr.refunds,
	}, func(err error) {
		gr.done <- err
		root.Send(self, commitDone{stamp: st, err: err})
	})
}

// settle lets the commands the grain accepted become durable before it
// stops, and answers their callers: a grain is stopped while busy when its
// node drains (placement passed the node over), and callers cut off then
// would see errors, not the new owner. Commands still in the mailbox after
// the stop are dead letters, which callers retry on the new owner. It
// waits at most the request timeout.
func (g *grain) settle(ctx actor.Context) {
	deadline := time.NewTimer(g.e.cfg.RequestTimeout)
	defer deadline.Stop()
	for g.m != nil && !g.broken && (g.inflight != nil || g.open != nil) {
		if g.lingering {
			g.lingering = false
			g.lingerTimer.Stop()
		}
		if g.inflight == nil {
			g.flush(ctx)
			continue
		}
		select {
		case err := <-g.inflight.done:
			g.onCommit(ctx, err)
		case <-deadline.C:
			g.log.Warn("stopping with a commit still in flight", "event", g.eventID, "epoch", g.epoch)
			return
		}
	}
}

// onCommit learns the in-flight group's outcome: on success it publishes
// the deltas and answers the group's callers in order; on failure it fails
// everything pending and stops (the map is ahead of the journal).
func (g *grain) onCommit(ctx actor.Context, err error) {
	gr := g.inflight
	if gr == nil {
		return
	}
	if err != nil {
		g.log.Warn("commit failed; stopping the event actor to rebuild from PostgreSQL",
			"event", g.eventID, "epoch", g.epoch, "err", err)
		g.fail(ctx, err)
		return
	}
	g.inflight = nil
	g.committed = gr.records[len(gr.records)-1].Version
	if g.e.behind() {
		g.e.proj.add(g.eventID, g.committed, gr.projected, gr.bookings)
	}
	pctx, endPublish := g.tracePublish(gr)
	g.publish(pctx, gr.records)
	endPublish()
	gr.finish(ctx, nil)
	g.maybeSnapshot(ctx)
	staged := 0
	if g.open != nil {
		staged = len(g.open.entries)
	}
	g.linger(ctx, len(gr.entries)+staged, time.Since(g.inflightAt))
	g.flush(ctx)
}

// linger holds the next group back for a moment after a commit, until as
// many records are staged as were in flight and staged when the commit
// ended, or a quarter of the commit's duration (at most MaxLinger) has
// passed. The callers just answered are on their way back with their next
// command; flushing at once would send only those who were already
// waiting, and the callers would settle into two cohorts that each wait
// for two commits (half-full batches, measured: 8 records per batch with
// 16 callers). Lingering merges them. It never happens at low load (a
// group of one), and ticks or a timer end it, so no caller waits longer
// than the bound.
func (g *grain) linger(ctx actor.Context, expect int, took time.Duration) {
	g.expect = expect
	if expect < 2 || g.e.cfg.MaxLinger <= 0 || (g.open != nil && len(g.open.entries) >= expect) {
		return
	}
	g.lingering = true
	g.lingerSeq++
	seq, self, root, st := g.lingerSeq, ctx.Self(), ctx.ActorSystem().Root, g.stamp()
	g.lingerTimer = time.AfterFunc(min(took/4, g.e.cfg.MaxLinger), func() { root.Send(self, lingerDone{stamp: st, seq: seq}) })
}

func (g *grain) onLingerDone(ctx actor.Context, msg lingerDone) {
	if !g.lingering || msg.seq != g.lingerSeq {
		return
	}
	g.lingering = false
	g.flush(ctx)
}
