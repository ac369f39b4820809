package queue

import (
	"context"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/queuepb"
)

// maxPlaces bounds one room: seqOf stores places as uint32.
const maxPlaces = math.MaxUint32

// pendingJoin is a place handed out in memory and not yet durable, with
// every caller waiting for it (the same user may ask twice meanwhile).
type pendingJoin struct {
	user    uuid.UUID
	seq     int64
	oldSeq  int64 // the place given up by a re-join after expiry, else 0
	waiters []*actor.PID
}

// joinBatcher is the group commit of joins. Places are numbered in the
// order joins reach the grain (first come, first served); at most one
// batch is being written, and joins arriving meanwhile form the next one,
// so batches grow with load and an idle room writes a join at once.
type joinBatcher struct {
	next     int64 // the next place to hand out, pending ones included
	open     []*pendingJoin
	inflight []*pendingJoin
	byUser   map[uuid.UUID]*pendingJoin // open and in flight
	// With a room that is off, the in-flight batch also admits itself:
	// admitTo is the watermark it writes (0 otherwise), admitAt its time.
	admitTo int64
	admitAt time.Time
}

func newJoinBatcher(next int64) joinBatcher {
	return joinBatcher{next: next, byUser: map[uuid.UUID]*pendingJoin{}}
}

func (b *joinBatcher) busy() bool { return len(b.open) > 0 || len(b.inflight) > 0 }

// failAll answers every waiting joiner with err; their places were never
// confirmed, so they may retry (and get the same place if it was written).
func (b *joinBatcher) failAll(ctx actor.Context, err error) {
	reply := &queuepb.Place{Error: grainpb.ErrorOf(err)}
	for _, batch := range [][]*pendingJoin{b.inflight, b.open} {
		for _, p := range batch {
			for _, w := range p.waiters {
				if w != nil {
					ctx.Send(w, reply)
				}
			}
		}
	}
	b.open, b.inflight = nil, nil
	b.byUser = map[uuid.UUID]*pendingJoin{}
}

// join answers with the user's durable place, or hands out the next place
// and answers once it is durable.
func (g *grain) join(ctx actor.Context, msg *queuepb.Join) {
	if g.refuse(ctx) {
		return
	}
	user, err := uuid.FromBytes(msg.UserId)
	if err != nil || user == uuid.Nil {
		ctx.Respond(&queuepb.Place{Error: grainpb.ErrorOf(boxoffice.InvalidField("user_id", "a user ID is required"))})
		return
	}
	if p := g.joins.byUser[user]; p != nil {
		p.waiters = append(p.waiters, ctx.Sender())
		return
	}
	var old int64
	if s, ok := g.seqOf[user]; ok {
		if !g.expired(int64(s), g.r.cfg.Now()) {
			ctx.Respond(g.place(int64(s)))
			return
		}
		old = int64(s) // the admission ran out: queue again at the back
	}
	if g.joins.next > maxPlaces {
		ctx.Respond(&queuepb.Place{Error: grainpb.ErrorOf(boxoffice.Errorf(boxoffice.EUnavailable, "the waiting room is full"))})
		return
	}
	p := &pendingJoin{user: user, seq: g.joins.next, oldSeq: old, waiters: []*actor.PID{ctx.Sender()}}
	g.joins.next++
	g.joins.open = append(g.joins.open, p)
	g.joins.byUser[user] = p
	g.flush(ctx)
}

// flush starts writing the open joins unless a batch is being written.
func (g *grain) flush(ctx actor.Context) {
	b := &g.joins
	if len(b.inflight) > 0 || len(b.open) == 0 {
		return
	}
	n := min(len(b.open), g.r.cfg.MaxJoinBatch)
	b.inflight = b.open[:n:n]
	b.open = append([]*pendingJoin(nil), b.open[n:]...)
	entries := make([]boxoffice.QueueEntry, n)
	for i, p := range b.inflight {
		entries[i] = boxoffice.QueueEntry{UserID: p.user, Seq: p.seq}
	}
	last := b.inflight[n-1].seq
	room := boxoffice.QueueRoom{Epoch: g.epoch, NextSeq: last + 1, AdmittedUpto: g.upto, AdmittedAt: dbTime(g.r.cfg.Now()),
		Period: g.period, PeriodBase: g.base}
	b.admitTo, b.admitAt = 0, room.AdmittedAt
	if !g.enabled { // a room that is off admits everyone at once
		room.AdmittedUpto, b.admitTo = last, last
	}
	ev, store := g.eventID, g.r.deps.Store
	g.goWrite(ctx, func(c context.Context) any {
		return flushDone{err: store.AppendQueue(c, ev, room, entries)}
	})
}

// onFlushed makes the written places visible and answers their callers. A
// failed write stops the grain: its in-memory numbering may be ahead of
// PostgreSQL, and the next activation rebuilds from what is durable.
func (g *grain) onFlushed(ctx actor.Context, err error) {
	if err != nil {
		g.fail(ctx, err)
		return
	}
	b := &g.joins
	if len(b.inflight) == 0 {
		return // nothing was being written (toSelf drops stale outcomes; this guards the index below)
	}
	for _, p := range b.inflight {
		g.users = append(g.users, p.user)
		g.seqOf[p.user] = uint32(p.seq)
		if p.oldSeq > g.forgot { // a forgotten place is gone already
			g.users[p.oldSeq-1-g.forgot] = uuid.Nil
		}
		delete(b.byUser, p.user)
	}
	g.durable = b.inflight[len(b.inflight)-1].seq
	if b.admitTo != 0 {
		g.raise(ctx, b.admitTo, b.admitAt)
	}
	for _, p := range b.inflight {
		reply := g.place(p.seq)
		for _, w := range p.waiters {
			if w != nil {
				ctx.Send(w, reply)
			}
		}
	}
	b.inflight = nil
	g.flush(ctx)
}
