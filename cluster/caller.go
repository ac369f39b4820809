package cluster

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
)

// ErrMemberLeft reports a grain call abandoned because the member hosting
// the grain left the cluster while the call was in flight: the reply can no
// longer come, and the grain is being re-activated elsewhere, so the caller
// may retry at once.
var ErrMemberLeft = errors.New("cluster: the grain's member left the cluster during the call")

// Caller makes grain calls that give up as soon as the member hosting the
// grain leaves the cluster. Proto.Actor's futures do not watch the member
// they wait on: a request already delivered to a member that then crashes
// waits out its whole timeout (5 s by default), and under a closed loop of
// callers that stalls every caller of the member's events for that long.
// Caller learns departures from the cluster's topology events, which
// gossip's failure detector raises within a second or two, and completes
// the futures waiting on that member.
//
// It also retries calls whose grain stopped under them. A grain that
// placement moves (its node drains, or a member joins) is stopped: the
// commands it accepted are answered first (the grain settles), but those
// still in its mailbox are dropped without a word, and their callers would
// wait out their timeout. The placement actor then announces the stop to
// every member (ActivationTerminated, sent after those answers on the same
// connection); Caller completes the calls still waiting on that grain and
// sends them again to its new activation.
type Caller struct {
	c   *pcluster.Cluster
	sub *eventstream.Subscription

	mu      sync.Mutex
	waiting map[string]map[*call]struct{} // member address -> calls to it
	byPID   map[string]map[*call]struct{} // grain PID (address/id) -> calls to it
	lookups map[chan struct{}]struct{}    // placement lookups in flight; closed when a member leaves
}

// call is one request in flight to a grain.
type call struct {
	f     *actor.Future
	left  atomic.Bool // the grain's member left
	moved atomic.Bool // the grain stopped (ActivationTerminated)
}

// NewCaller watches c's topology until Close (or until c's actor system
// stops, which ends the subscription with it).
func NewCaller(c *pcluster.Cluster) *Caller {
	k := &Caller{c: c, waiting: map[string]map[*call]struct{}{}, byPID: map[string]map[*call]struct{}{},
		lookups: map[chan struct{}]struct{}{}}
	k.sub = c.ActorSystem.EventStream.Subscribe(func(evt any) {
		switch t := evt.(type) {
		case *pcluster.ClusterTopology:
			for _, m := range t.Left {
				k.departed(m.Address())
			}
		case *pcluster.ActivationTerminated:
			if t.Pid != nil {
				if ci := t.ClusterIdentity; ci != nil {
					c.PidCache.RemoveByValue(ci.Identity, ci.Kind, t.Pid)
				}
				k.terminated(pidKey(t.Pid))
			}
		}
	})
	return k
}

func pidKey(p *actor.PID) string { return p.Address + "/" + p.Id }

// Close stops watching the topology. Idempotent.
func (k *Caller) Close() { k.c.ActorSystem.EventStream.Unsubscribe(k.sub) }

// Closed reports whether the Caller no longer watches the topology (its
// owner closed it); owners' tests use it to check they do.
func (k *Caller) Closed() bool { return !k.sub.IsActive() }

// Request is Cluster().Request(identity, kind, msg, CallOptions(timeout)...)
// that returns ErrMemberLeft as soon as the member the grain was last seen
// on leaves, and sends the call again when the grain stopped under it. It
// finds the grain as Proto.Actor does (the cached place, else placement);
// a dead letter (the grain moved) drops the cached place and retries with
// a backoff (CallOptions); a timeout is final.
func (k *Caller) Request(identity, kind string, msg any, timeout time.Duration) (any, error) {
	start := time.Now()
	var lastErr error
	for attempt := 1; attempt <= retryCount; attempt++ {
		left := timeout - time.Since(start)
		if left <= 0 {
			break
		}
		pid, ok := k.c.PidCache.Get(identity, kind)
		if !ok {
			if pid = k.lookup(identity, kind, left); pid != nil {
				k.c.PidCache.Set(identity, kind, pid)
			}
		}
		if pid == nil {
			lastErr = errors.New("no activation found")
			time.Sleep(min(retryBackoff(attempt, timeout), max(0, timeout-time.Since(start))))
			continue
		}
		if left = timeout - time.Since(start); left <= 0 {
			break
		}
		cl := &call{f: k.c.ActorSystem.Root.RequestFuture(pid, msg, left)}
		k.watch(pid, cl)
		res, err := cl.f.Result()
		if h := afterResult.Load(); h != nil {
			(*h)(k, pid.Address)
		}
		k.unwatch(pid, cl)
		switch {
		case res != nil:
			// The reply came, even if the member left right after: a reserve
			// that succeeded must not come back as "unavailable" (the retry
			// would then find its own seats taken).
			return res, nil
		case cl.left.Load():
			return nil, fmt.Errorf("%s/%s on %s: %w", kind, identity, pid.Address, ErrMemberLeft)
		case cl.moved.Load():
			// The grain stopped without having seen the call: send it to
			// the next activation at once.
			k.c.PidCache.RemoveByValue(identity, kind, pid)
			lastErr = fmt.Errorf("the grain stopped on %s", pid.Address)
		case errors.Is(err, actor.ErrDeadLetter) || errors.Is(err, remote.ErrDeadLetter):
			k.c.PidCache.RemoveByValue(identity, kind, pid)
			lastErr = err
			time.Sleep(min(retryBackoff(attempt, timeout), max(0, timeout-time.Since(start))))
		case err != nil:
			return nil, fmt.Errorf("%s/%s: %w", kind, identity, err)
		default:
			return nil, fmt.Errorf("%s/%s: no reply", kind, identity)
		}
	}
	if lastErr == nil {
		lastErr = actor.ErrTimeout
	}
	return nil, fmt.Errorf("%s/%s: %w", kind, identity, lastErr)
}

// lookup is the placement's Get, which asks the member placement picks to
// activate the grain, cut short when a member leaves while it waits. Get
// waits its whole timeout (and Proto.Actor's lookup 5 s more) when that
// member crashed after the request reached it: that is how events stalled
// 6.5 s after a kill in the chaos run (failure detection, then 5 s). On a
// departure lookup returns nil, and Request's loop asks again against the
// new topology; the abandoned Get ends on its own timeout in the background
// (its activation, if one still comes, is the same grain a new Get finds).
func (k *Caller) lookup(identity, kind string, timeout time.Duration) *actor.PID {
	gone := make(chan struct{})
	k.mu.Lock()
	k.lookups[gone] = struct{}{}
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		delete(k.lookups, gone)
		k.mu.Unlock()
	}()
	done := make(chan *actor.PID, 1)
	go func() { done <- k.c.Get(identity, kind) }() // ends within the lookup's own timeout
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case pid := <-done:
		return pid
	case <-gone:
		select {
		case pid := <-done: // an answer that raced the departure is kept
			return pid
		default:
			return nil
		}
	case <-t.C:
		return nil
	}
}

// afterResult, when set, runs between a call's result and its checks
// (tests make the member leave there).
var afterResult atomic.Pointer[func(k *Caller, addr string)]

func (k *Caller) watch(pid *actor.PID, cl *call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range []struct {
		m   map[string]map[*call]struct{}
		key string
	}{{k.waiting, pid.Address}, {k.byPID, pidKey(pid)}} {
		if w.m[w.key] == nil {
			w.m[w.key] = map[*call]struct{}{}
		}
		w.m[w.key][cl] = struct{}{}
	}
}

func (k *Caller) unwatch(pid *actor.PID, cl *call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range []struct {
		m   map[string]map[*call]struct{}
		key string
	}{{k.waiting, pid.Address}, {k.byPID, pidKey(pid)}} {
		if calls := w.m[w.key]; calls != nil {
			delete(calls, cl)
			if len(calls) == 0 {
				delete(w.m, w.key)
			}
		}
	}
}

// departed completes every call waiting on addr: stopping a future ends
// its wait at once, with no result.
func (k *Caller) departed(addr string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if addr == k.c.ActorSystem.Address() {
		return // this member's own grains are not "left" to its callers
	}
	for cl := range k.waiting[addr] {
		cl.left.Store(true)
		k.c.ActorSystem.Root.Stop(cl.f.PID())
	}
	for gone := range k.lookups {
		close(gone)
		delete(k.lookups, gone)
	}
}

// terminated completes every call waiting on the grain key names, which
// stopped: they are sent again.
func (k *Caller) terminated(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for cl := range k.byPID[key] {
		if !cl.left.Load() {
			cl.moved.Store(true)
			k.c.ActorSystem.Root.Stop(cl.f.PID())
		}
	}
}
