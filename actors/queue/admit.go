package queue

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
)

// admissions remembers when the watermark passed each place, as one
// checkpoint per admission step, so that a place's admission (and its
// token) expires AdmissionTTL after its own admission however often its
// owner asks. Checkpoints older than the TTL collapse into a floor: every
// place at or below floorUpto was admitted at floorAt or earlier, which is
// long enough ago to have expired.
//
// After a failover only the last step's time survives (the room's
// admitted_at), so places admitted before it count from that time: an
// admission window may then run up to one step's age longer, never shorter.
type admissions struct {
	steps     []step
	floorUpto int64
	floorAt   time.Time
}

type step struct {
	upto int64
	at   time.Time
}

func newAdmissions(upto int64, at time.Time) admissions {
	if upto == 0 {
		return admissions{floorAt: at}
	}
	return admissions{steps: []step{{upto, at}}}
}

// add records that the watermark rose to upto at at.
func (a *admissions) add(upto int64, at time.Time) {
	a.steps = append(a.steps, step{upto, at})
}

// at is when the watermark passed seq, which must be admitted.
func (a *admissions) at(seq int64) time.Time {
	if seq <= a.floorUpto {
		return a.floorAt
	}
	i := sort.Search(len(a.steps), func(i int) bool { return a.steps[i].upto >= seq })
	if i == len(a.steps) {
		return a.last()
	}
	return a.steps[i].at
}

// last is when the watermark last rose.
func (a *admissions) last() time.Time {
	if n := len(a.steps); n > 0 {
		return a.steps[n-1].at
	}
	return a.floorAt
}

// prune collapses the steps older than cutoff into the floor.
func (a *admissions) prune(cutoff time.Time) {
	i := 0
	for i < len(a.steps) && a.steps[i].at.Before(cutoff) {
		i++
	}
	if i == 0 {
		return
	}
	a.floorUpto, a.floorAt = a.steps[i-1].upto, a.steps[i-1].at
	a.steps = append(a.steps[:0:0], a.steps[i:]...)
}

// expired reports whether place seq's admission has run out at now, or
// belongs to an earlier on-period of the room: its owner queues again.
func (g *grain) expired(seq int64, now time.Time) bool {
	if seq > g.upto {
		return false
	}
	return (g.enabled && seq <= g.base) || !now.Before(g.admit.at(seq).Add(g.r.cfg.AdmissionTTL))
}

// onTick earns admissions at the room's rate and, when some are due and no
// admission is being written, writes the new watermark. The watermark is
// applied (and tokens for it handed out) only once it is durable.
func (g *grain) onTick(ctx actor.Context) {
	if !g.loaded || g.broken {
		return
	}
	now := g.r.cfg.Now()
	dt := now.Sub(g.lastTick).Seconds()
	g.lastTick = now
	if g.enabled && dt > 0 {
		// Earned admissions pile up at most one second's worth, so a
		// stalled write does not turn into a burst afterwards.
		g.credit = math.Min(g.credit+float64(g.rate)*dt, math.Max(float64(g.rate), 1))
	}
	g.admit.prune(now.Add(-g.r.cfg.AdmissionTTL))
	g.forget()
	if g.admitting != 0 {
		return
	}
	waiting := g.durable - g.upto
	if waiting <= 0 {
		g.credit = math.Min(g.credit, 1) // an empty room earns nothing
		return
	}
	n := waiting
	if g.enabled {
		n = min(int64(g.credit), waiting)
		g.credit -= float64(n)
	}
	if n > 0 {
		g.startAdmit(ctx, g.upto+n, now)
	}
}

func (g *grain) startAdmit(ctx actor.Context, upto int64, at time.Time) {
	at = dbTime(at)
	g.admitting = upto
	ev, store := g.eventID, g.r.deps.Store
	room := boxoffice.QueueRoom{Epoch: g.epoch, AdmittedUpto: upto, AdmittedAt: at,
		Period: g.period, PeriodBase: g.base}
	g.goWrite(ctx, func(c context.Context) any {
		return admitDone{upto: upto, at: at, err: store.AdmitQueue(c, ev, room)}
	})
}

// onAdmitted applies a durable watermark and tells every node, or gives the
// admissions back to be retried on the next tick.
func (g *grain) onAdmitted(ctx actor.Context, d admitDone) {
	n := d.upto - g.upto
	g.admitting = 0
	if d.err != nil {
		if errors.Is(d.err, boxoffice.ErrFenced) {
			g.fail(ctx, d.err)
			return
		}
		g.log.Warn("room could not write its watermark; retrying", "event", g.eventID, "err", d.err)
		if g.enabled {
			g.credit += float64(n)
		}
		return
	}
	g.raise(ctx, d.upto, d.at)
}

// raise applies a durable watermark and publishes it.
func (g *grain) raise(ctx actor.Context, upto int64, at time.Time) {
	if upto <= g.upto {
		return
	}
	g.upto = upto
	g.admit.add(upto, at)
	g.publish(ctx)
}

// publish tells every node's watchers the room's progress. A lost message
// only delays pushes until the next poll.
func (g *grain) publish(_ actor.Context) {
	if g.r.deps.Publisher == nil {
		return
	}
	data, err := proto.Marshal(g.watermark())
	if err == nil {
		err = g.r.deps.Publisher.Publish(Subject(g.eventID), data)
	}
	if err != nil {
		g.log.Debug("room could not publish its watermark", "event", g.eventID, "err", err)
	}
}

// dbTime rounds t to PostgreSQL's microseconds, so that an admission time
// reads back after a failover exactly as it was handed out.
func dbTime(t time.Time) time.Time { return t.Round(time.Microsecond) }
