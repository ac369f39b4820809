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
type Caller struct {
	c   *pcluster.Cluster
	sub *eventstream.Subscription

	mu      sync.Mutex
	waiting map[string]map[*call]struct{} // member address -> calls to it
}

// call is one request in flight to a remote member; abort ends its wait.
type call struct {
	abort func()
	left  atomic.Bool
}

// NewCaller watches c's topology until Close (or until c's actor system
// stops, which ends the subscription with it).
func NewCaller(c *pcluster.Cluster) *Caller {
	k := &Caller{c: c, waiting: map[string]map[*call]struct{}{}}
	k.sub = c.ActorSystem.EventStream.Subscribe(func(evt any) {
		if t, ok := evt.(*pcluster.ClusterTopology); ok {
			for _, m := range t.Left {
				k.departed(m.Address())
			}
		}
	})
	return k
}

// Close stops watching the topology. Idempotent.
func (k *Caller) Close() { k.c.ActorSystem.EventStream.Unsubscribe(k.sub) }

// Closed reports whether the Caller no longer watches the topology (its
// owner closed it); owners' tests use it to check they do.
func (k *Caller) Closed() bool { return !k.sub.IsActive() }

// Request is Cluster().Request(identity, kind, msg, CallOptions(timeout)...)
// that returns ErrMemberLeft as soon as the member the grain was last seen
// on leaves. Calls to a grain on this member are made as they are. The
// first attempt to a cached remote grain is sent here, with the same
// handling as Proto.Actor's: a dead letter (the grain moved) drops the
// cached place and retries through the cluster; a timeout is final. A call
// to a grain whose place is not cached (uncached) is given up the same way
// when the member the placement picks leaves.
func (k *Caller) Request(identity, kind string, msg any, timeout time.Duration) (any, error) {
	pid, ok := k.c.PidCache.Get(identity, kind)
	if !ok {
		return k.uncached(identity, kind, msg, timeout)
	}
	if pid.Address == k.c.ActorSystem.Address() {
		return k.c.Request(identity, kind, msg, CallOptions(timeout)...)
	}
	start := time.Now()
	f := k.c.ActorSystem.Root.RequestFuture(pid, msg, timeout)
	cl := &call{abort: func() { k.c.ActorSystem.Root.Stop(f.PID()) }}
	k.watch(pid.Address, cl)
	res, err := f.Result()
	if h := afterResult.Load(); h != nil {
		(*h)(k, pid.Address)
	}
	k.unwatch(pid.Address, cl)
	switch {
	case res != nil:
		// The reply came, even if the member left right after: a reserve
		// that succeeded must not come back as "unavailable" (the retry
		// would then find its own seats taken).
		return res, nil
	case cl.left.Load():
		return nil, fmt.Errorf("%s/%s on %s: %w", kind, identity, pid.Address, ErrMemberLeft)
	case errors.Is(err, actor.ErrDeadLetter) || errors.Is(err, remote.ErrDeadLetter):
		k.c.PidCache.Remove(identity, kind)
		time.Sleep(retryBackoff(1, timeout))
		if left := timeout - time.Since(start); left > 0 {
			return k.c.Request(identity, kind, msg, CallOptions(left)...)
		}
		return nil, fmt.Errorf("%s/%s: %w", kind, identity, err)
	case err != nil:
		return nil, fmt.Errorf("%s/%s: %w", kind, identity, err)
	}
	return nil, fmt.Errorf("%s/%s: no reply", kind, identity)
}

// uncached makes a call to a grain whose place this member has not cached:
// Proto.Actor's Request asks the placement's owner member to activate it,
// then calls it there, and waits its whole timeout on each (its lookup
// waits 5 s more) when that member crashed after the request reached it,
// which is how events stalled 6.5 s after a kill (detection, then 5 s).
// The owner is the rendezvous pick over the current members, as Proto.Actor's
// lookup makes it; the call is given up with ErrMemberLeft when that member
// leaves. The abandoned request runs on to its own timeout in the
// background; its reply, if one still comes, is dropped, as a timed-out
// call's is (503 is documented as "safe to retry").
func (k *Caller) uncached(identity, kind string, msg any, timeout time.Duration) (any, error) {
	rdv := pcluster.NewRendezvous()
	rdv.UpdateMembers(k.c.MemberList.Members().Members())
	owner := rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(identity, kind))
	if owner == "" || owner == k.c.ActorSystem.Address() {
		return k.c.Request(identity, kind, msg, CallOptions(timeout)...)
	}
	type result struct {
		res any
		err error
	}
	done := make(chan result, 1)
	gone := make(chan struct{})
	var once sync.Once
	cl := &call{abort: func() { once.Do(func() { close(gone) }) }}
	k.watch(owner, cl)
	defer k.unwatch(owner, cl)
	go func() { // ends with k.c.Request, within timeout
		res, err := k.c.Request(identity, kind, msg, CallOptions(timeout)...)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-gone:
		select {
		case r := <-done: // a reply that raced the departure is kept
			if r.res != nil {
				return r.res, nil
			}
		default:
		}
		return nil, fmt.Errorf("%s/%s placed on %s: %w", kind, identity, owner, ErrMemberLeft)
	}
}

// afterResult, when set, runs between a call's result and its checks
// (tests make the member leave there).
var afterResult atomic.Pointer[func(k *Caller, addr string)]

func (k *Caller) watch(addr string, cl *call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.waiting[addr] == nil {
		k.waiting[addr] = map[*call]struct{}{}
	}
	k.waiting[addr][cl] = struct{}{}
}

func (k *Caller) unwatch(addr string, cl *call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if w := k.waiting[addr]; w != nil {
		delete(w, cl)
		if len(w) == 0 {
			delete(k.waiting, addr)
		}
	}
}

// departed completes every call waiting on addr: stopping a future ends
// its wait at once, with no result.
func (k *Caller) departed(addr string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for cl := range k.waiting[addr] {
		cl.left.Store(true)
		cl.abort()
	}
	delete(k.waiting, addr)
}
