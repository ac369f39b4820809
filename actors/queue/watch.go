package queue

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queuepb"
)

// Subscription delivers a place's status to its owner whenever it changes
// for them: at once on admission, and otherwise at most every PushInterval
// (the position and estimated wait). Updates keeps only the latest status,
// so a slow reader skips stale positions instead of slowing the node.
type Subscription struct {
	ch   chan Status
	h    *hub
	w    *watcher
	once sync.Once
}

// Updates returns the channel of statuses. Its first value is the status at
// subscription. It is closed by Close and when the Room closes.
func (s *Subscription) Updates() <-chan Status { return s.ch }

// Close ends the subscription; it is idempotent.
func (s *Subscription) Close() {
	s.once.Do(func() { s.h.r.removeWatcher(s.h, s.w) })
}

// Subscribe watches the place queueID names. All subscriptions of one event
// on this node share one hub: one NATS subscription (or one poll of the
// room per PollInterval) however many people watch. Errors are those of
// Status.
// It returns the root interface so that *Room is a boxoffice.Admissions.
func (r *Room) Subscribe(ctx context.Context, eventID, queueID uuid.UUID) (boxoffice.QueueSubscription, error) {
	ch := make(chan Status, 1)
	h, w, err := r.watch(ctx, eventID, queueID, func(s Status) { offer(ch, s) }, ch)
	if err != nil {
		return nil, err
	}
	return &Subscription{ch: ch, h: h, w: w}, nil
}

// Watch is Subscribe for callers that keep no goroutine per watcher (a
// server-sent-events fan-out, a load test): fn gets each status Subscribe
// would deliver, starting with the current one. fn runs with the event's
// hub locked, so it must return quickly and not call the Room. cancel
// stops the calls and is idempotent.
func (r *Room) Watch(ctx context.Context, eventID, queueID uuid.UUID, fn func(Status)) (cancel func(), err error) {
	h, w, err := r.watch(ctx, eventID, queueID, fn, nil)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { r.removeWatcher(h, w) }) }, nil
}

func (r *Room) watch(ctx context.Context, eventID, queueID uuid.UUID, fn func(Status), ch chan Status) (*hub, *watcher, error) {
	p, err := r.lookup(ctx, eventID, queueID)
	if err != nil {
		return nil, nil, err
	}
	w := &watcher{seq: p.seq, user: p.user, id: queueID, notify: fn, ch: ch}
	h, err := r.addWatcher(eventID, w, p)
	if err != nil {
		return nil, nil, err
	}
	return h, w, nil
}

// offer replaces whatever status the reader has not taken yet with s. Only
// a hub (under its lock) sends, so the second send always has room.
func offer(ch chan Status, s Status) {
	select {
	case ch <- s:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- s:
	default:
	}
}

// watcher is one subscription as its hub sees it.
type watcher struct {
	seq    int64
	user   uuid.UUID
	id     uuid.UUID
	notify func(Status)
	ch     chan Status // closed with the subscription; nil for in-package watchers

	idx      int // position in the hub's heap; -1 once admitted
	lastPos  int64
	lastRate int
	done     bool
}

// hub serves one event's watchers on this node. Lock order: Room.mu, then
// hub.mu.
type hub struct {
	r       *Room
	eventID uuid.UUID

	ctx    context.Context // cancelled by close; bounds the hub's calls
	cancel context.CancelFunc

	mu       sync.Mutex // guards everything below
	waiting  waitHeap   // watchers not yet admitted, lowest place first
	watchers map[*watcher]struct{}
	upto     int64     // the room's watermark as last heard
	at       time.Time // when it last rose
	rate     int
	enabled  bool
	period   int64 // the room's on-period, and the watermark when it began
	base     int64
	closed   bool
}

// addWatcher registers w with its event's hub, starting the hub if it is
// the first, and sends w its first status from p.
func (r *Room) addWatcher(eventID uuid.UUID, w *watcher, p place) (*hub, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errStopping
	}
	h := r.hubs[eventID]
	if h == nil {
		h = &hub{r: r, eventID: eventID, upto: p.upto, rate: p.rate, enabled: p.enabled,
			period: p.period, base: p.base, watchers: map[*watcher]struct{}{}}
		h.ctx, h.cancel = context.WithCancel(context.Background())
		r.hubs[eventID] = h
		r.wg.Add(1)
		go h.run()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers[w] = struct{}{}
	w.idx = -1
	now := r.cfg.Now()
	if p.seq <= p.upto {
		w.notify(r.status(eventID, w.id, p, now))
		return h, nil
	}
	w.lastPos, w.lastRate = p.seq-p.upto, p.rate
	w.notify(r.status(eventID, w.id, p, now))
	heap.Push(&h.waiting, w)
	h.admitDue(now)
	return h, nil
}

// removeWatcher unregisters w and stops its hub when it was the last.
func (r *Room) removeWatcher(h *hub, w *watcher) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h.mu.Lock()
	if !w.done {
		if w.idx >= 0 {
			heap.Remove(&h.waiting, w.idx)
		}
		delete(h.watchers, w)
		w.finish()
	}
	empty := len(h.watchers) == 0
	h.mu.Unlock()
	if empty && r.hubs[h.eventID] == h {
		delete(r.hubs, h.eventID)
		h.close()
	}
}

// close stops the hub and closes its subscriptions; the caller removed it
// from Room.hubs.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	h.cancel()
	for w := range h.watchers {
		w.idx = -1
		w.finish()
	}
	h.waiting, h.watchers = nil, nil
}

// finish marks w done and closes its channel; the hub's lock is held.
func (w *watcher) finish() {
	w.done = true
	if w.ch != nil {
		close(w.ch)
	}
}

// run feeds the hub: watermarks from the bus as they are published, a poll
// of the room as a fallback (or as the only source without a Subscriber),
// and the periodic position pushes.
func (h *hub) run() {
	defer h.r.wg.Done()
	cfg := h.r.cfg
	poll := cfg.PollInterval
	if sub := h.r.deps.Subscriber; sub != nil {
		poll *= 5
		cancel, err := sub.Subscribe(Subject(h.eventID), h.onMessage)
		if err != nil {
			cfg.Logger.Warn("queue hub could not subscribe; polling", "event", h.eventID, "err", err)
			poll = cfg.PollInterval
		} else {
			defer cancel()
		}
	}
	h.poll()
	pollT := time.NewTicker(poll)
	defer pollT.Stop()
	pushT := time.NewTicker(cfg.PushInterval)
	defer pushT.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-pollT.C:
			h.poll()
		case <-pushT.C:
			h.pushPositions()
		}
	}
}

func (h *hub) onMessage(data []byte) {
	var w queuepb.Watermark
	if proto.Unmarshal(data, &w) == nil {
		h.apply(&w)
	}
}

func (h *hub) poll() {
	ctx, cancel := context.WithTimeout(h.ctx, h.r.cfg.RequestTimeout)
	defer cancel()
	w, err := h.r.watermark(ctx, h.eventID)
	if err != nil {
		h.r.cfg.Logger.Debug("queue hub poll failed", "event", h.eventID, "err", err)
		return
	}
	h.apply(w)
}

// apply takes in a watermark (from the bus or a poll, in any order) and
// pushes admission to every watcher it admits. When the room was switched
// on or off, the watchers already past the watermark hear it too: their
// place turned open, or expired with its token.
func (h *hub) apply(w *queuepb.Watermark) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || w.AdmittedUpto < h.upto || w.Period < h.period {
		return // stale
	}
	switched := w.Enabled != h.enabled || w.Period != h.period
	h.rate, h.enabled = int(w.Rate), w.Enabled
	h.period, h.base = w.Period, w.PeriodBase
	if w.AdmittedUpto > h.upto || h.at.IsZero() {
		h.upto, h.at = w.AdmittedUpto, time.Unix(0, w.At)
	}
	now := h.r.cfg.Now()
	if switched {
		for wt := range h.watchers {
			if wt.idx < 0 {
				wt.notify(h.r.status(h.eventID, wt.id, h.place(wt), now))
			}
		}
	}
	h.admitDue(now)
}

// admitDue pushes admission to the watchers at or below the watermark.
func (h *hub) admitDue(now time.Time) {
	for len(h.waiting) > 0 && h.waiting[0].seq <= h.upto {
		w := heap.Pop(&h.waiting).(*watcher)
		w.notify(h.r.status(h.eventID, w.id, h.place(w), now))
	}
}

func (h *hub) place(w *watcher) place {
	p := place{seq: w.seq, user: w.user, upto: h.upto, rate: h.rate, enabled: h.enabled,
		period: h.period, base: h.base}
	if w.seq <= h.upto {
		p.admittedAt = h.at
	}
	return p
}

// pushPositions tells each waiting watcher its position, if it changed.
func (h *hub) pushPositions() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.r.cfg.Now()
	for _, w := range h.waiting {
		pos := w.seq - h.upto
		if pos == w.lastPos && h.rate == w.lastRate {
			continue
		}
		w.lastPos, w.lastRate = pos, h.rate
		w.notify(h.r.status(h.eventID, w.id, h.place(w), now))
	}
}

// waitHeap orders waiting watchers by place.
type waitHeap []*watcher

func (q waitHeap) Len() int           { return len(q) }
func (q waitHeap) Less(i, j int) bool { return q[i].seq < q[j].seq }
func (q waitHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *waitHeap) Push(x any) {
	w := x.(*watcher)
	w.idx = len(*q)
	*q = append(*q, w)
}
func (q *waitHeap) Pop() any {
	old := *q
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	w.idx = -1
	*q = old[:n-1]
	return w
}
