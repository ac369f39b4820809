package queue_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
)

// TestJoinFirstComeFirstServed joins many users at once and checks that
// places are dense and unique, that a join which finished before another
// began is ahead of it, that PostgreSQL holds the same order, and that
// joining again returns the same place. The joins come in waves, each
// starting when the one before has been answered, so ordered pairs exist
// however slow the machine is.
func testJoinFirstComeFirstServed(t *testing.T, e *env) {
	const n, waves = 400, 4
	type result struct {
		user       uuid.UUID
		st         queue.Status
		start, end time.Time
	}
	res := make([]result, n)
	for w := range waves {
		var wg sync.WaitGroup
		for i := w * n / waves; i < (w+1)*n/waves; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i].user = uuid.New()
				res[i].start = time.Now()
				res[i].st = e.join(t, res[i].user)
				res[i].end = time.Now()
			}()
		}
		wg.Wait()
	}

	seen := map[int64]bool{}
	ids := map[uuid.UUID]bool{}
	for _, r := range res {
		if r.st.State != queue.StateWaiting || r.st.AdmissionToken != "" {
			t.Fatalf("paused room: %+v", r.st)
		}
		if r.st.Position < 1 || r.st.Position > n || seen[r.st.Position] {
			t.Fatalf("position %d duplicated or outside 1..%d", r.st.Position, n)
		}
		seen[r.st.Position] = true
		ids[r.st.QueueID] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct queue IDs for %d users", len(ids), n)
	}
	ordered := 0
	for _, a := range res {
		for _, b := range res {
			if a.end.Before(b.start) {
				ordered++
				if a.st.Position >= b.st.Position {
					t.Fatalf("join finished at %v got %d, later join started at %v got %d",
						a.end, a.st.Position, b.start, b.st.Position)
				}
			}
		}
	}
	if want := n * n * (waves - 1) / waves / 2; ordered < want {
		t.Fatalf("only %d ordered pairs, want at least %d: the waves did not separate joins", ordered, want)
	}

	// PostgreSQL has the same order.
	byPos := map[int64]uuid.UUID{}
	for _, r := range res {
		byPos[r.st.Position] = r.user
	}
	var stored []boxoffice.QueueEntry
	err := e.db.QueueEntries(context.Background(), e.ev.ID, func(q boxoffice.QueueEntry) error {
		stored = append(stored, q)
		return nil
	})
	if err != nil || len(stored) != n {
		t.Fatalf("stored %d places, err %v", len(stored), err)
	}
	for _, q := range stored {
		if byPos[q.Seq] != q.UserID {
			t.Fatalf("place %d: stored user %s, join answered %s", q.Seq, q.UserID, byPos[q.Seq])
		}
	}

	// One user holds one place.
	for _, r := range res[:50] {
		again := e.join(t, r.user)
		if again.QueueID != r.st.QueueID || again.Position != r.st.Position {
			t.Fatalf("join again: %+v, first %+v", again, r.st)
		}
		if got := e.status(t, r.st.QueueID); got.Position != r.st.Position {
			t.Fatalf("status %d, joined at %d", got.Position, r.st.Position)
		}
	}
	if s := e.stats(t); s.Joined != n || s.Admitted != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestAdmissionRate admits by the room's clock, which only the test moves:
// each move earns rate × elapsed admissions, a fraction carries over to
// the next move, and a long gap earns at most one second's worth (a
// stalled room does not burst afterwards). Counts are exact: no wall time.
func TestAdmissionRate(t *testing.T) {
	t.Parallel()
	clock := clustertest.NewClock(time.Now())
	e := newEnv(t, paused, func(c *queue.Config) { c.Now = clock.Now })
	const rate, queued = 50, 200
	for range queued {
		e.join(t, uuid.New())
	}
	e.setRoom(t, true, rate)
	if s := e.stats(t); s.Admitted != 0 {
		t.Fatalf("admitted %d before the clock moved", s.Admitted)
	}
	steps := []struct {
		advance time.Duration
		earned  int64
	}{
		{100 * time.Millisecond, 5},
		{250 * time.Millisecond, 12}, // 12.5: half an admission carries over
		{250 * time.Millisecond, 13}, // 0.5 + 12.5
		{time.Second, rate},
		{time.Second, rate},
		{5 * time.Second, rate},                    // at most one second's worth piles up
		{time.Hour, queued - 5 - 12 - 13 - 3*rate}, // only who waits
		{time.Hour, 0},
	}
	var want int64
	for i, st := range steps {
		want += st.earned
		clock.Advance(st.advance)
		var got int64
		require.Eventually(t, func() bool {
			got = e.stats(t).Admitted
			return got >= want
		}, 15*time.Second, 10*time.Millisecond, "admissions earned by the clock")
		if got != want {
			t.Fatalf("step %d (+%v): admitted %d in all, want %d", i, st.advance, got, want)
		}
	}
	// Nothing more comes without the clock: a status answered after the
	// ticks that followed the last move still reads the same count.
	if s := e.stats(t); s.Admitted != queued || s.Joined != queued {
		t.Fatalf("stats %+v, want %d joined and admitted", s, queued)
	}
}

// TestAdmittedGetsToken: an admitted place carries a token bound to its
// owner and event, expiring exactly AdmissionTTL after admission by the
// room's clock, which only the test moves.
func TestAdmittedGetsToken(t *testing.T) {
	t.Parallel()
	clock := clustertest.NewClock(time.Now().Truncate(time.Second)) // PostgreSQL keeps microseconds
	e := newEnv(t, paused, func(c *queue.Config) { c.Now = clock.Now })
	alice, bob := uuid.New(), uuid.New()
	a, b := e.join(t, alice), e.join(t, bob)
	if a.Position != 1 || b.Position != 2 || b.EstimatedWait != 0 {
		t.Fatalf("paused room: %+v %+v", a, b)
	}
	e.setRoom(t, true, 1) // one a second: alice first, bob a second later
	clock.Advance(time.Second)
	admittedAt := clock.Now()
	require.Eventually(t, func() bool { return e.status(t, a.QueueID).State == queue.StateAdmitted }, 15*time.Second, 10*time.Millisecond, "alice admitted")
	if s := e.status(t, b.QueueID); s.State != queue.StateWaiting || s.Position != 1 || s.EstimatedWait != time.Second {
		t.Fatalf("bob after alice: %+v, want waiting at 1 for 1s", s)
	}
	s := e.status(t, a.QueueID)
	if s.Position != 0 || s.AdmissionToken == "" {
		t.Fatalf("admitted: %+v", s)
	}
	if want := admittedAt.Add(e.cfg.AdmissionTTL); !s.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %v, want %v (admission + %v)", s.ExpiresAt, want, e.cfg.AdmissionTTL)
	}
	clock.Advance(time.Minute)
	if again := e.status(t, a.QueueID); again.AdmissionToken != s.AdmissionToken || !again.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatal("asking again must not extend the admission")
	}
	now := clock.Now()
	period := e.ev.WaitingRoom.Period
	if err := queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, alice, period, now); err != nil {
		t.Fatalf("verify: %v", err)
	}
	wantCode(t, queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, bob, period, now), boxoffice.EQueueRequired)
	wantCode(t, queue.VerifyToken(e.cfg.Key, s.AdmissionToken, uuid.New(), alice, period, now), boxoffice.EQueueRequired)
	wantCode(t, queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, alice, period+1, now), boxoffice.EQueueRequired)
	wantCode(t, queue.VerifyToken(e.cfg.Key, s.AdmissionToken, e.ev.ID, alice, period, s.ExpiresAt), boxoffice.EQueueRequired)
}

// TestAdmissionExpires: AdmissionTTL after admission by the room's clock
// the place is expired, and joining again queues the user at the back
// under a new queue ID.
func TestAdmissionExpires(t *testing.T) {
	t.Parallel()
	clock := clustertest.NewClock(time.Now().Truncate(time.Second)) // PostgreSQL keeps microseconds
	e := newEnv(t, paused, func(c *queue.Config) { c.Now = clock.Now })
	alice := uuid.New()
	first := e.join(t, alice)
	e.join(t, uuid.New())
	e.setRoom(t, true, 1)
	clock.Advance(time.Second) // alice's admission, and only hers
	require.Eventually(t, func() bool { return e.status(t, first.QueueID).State == queue.StateAdmitted }, 15*time.Second, 10*time.Millisecond, "alice admitted")
	e.setRoom(t, true, 0)
	clock.Advance(e.cfg.AdmissionTTL - time.Nanosecond)
	if s := e.status(t, first.QueueID); s.State != queue.StateAdmitted {
		t.Fatalf("a moment before the TTL: %+v, want admitted", s)
	}
	clock.Advance(time.Nanosecond)
	if s := e.status(t, first.QueueID); s.State != queue.StateExpired || s.AdmissionToken != "" {
		t.Fatalf("at the TTL: %+v, want expired without a token", s)
	}
	again := e.join(t, alice)
	if again.QueueID == first.QueueID || again.State != queue.StateWaiting || again.Position < 1 {
		t.Fatalf("re-join after expiry: %+v", again)
	}
	if s := e.stats(t); s.Joined != 3 {
		t.Fatalf("joined %d, want 3 places (alice's second)", s.Joined)
	}
	_, err := e.room().Status(context.Background(), e.ev.ID, first.QueueID)
	wantCode(t, err, boxoffice.ENotFound)
}

// TestRoomOffIsOpen: with the waiting room off, a join is answered open
// in its reply, at position 0 and without a token (API.md: none is needed,
// and one minted now would outlive the room being switched on).
func testRoomOffIsOpen(t *testing.T, e *env) {
	s := e.join(t, uuid.New())
	if s.State != queue.StateOpen || s.Position != 0 || s.AdmissionToken != "" || s.QueueID == uuid.Nil {
		t.Fatalf("room off: %+v", s)
	}
	if got := e.status(t, s.QueueID); got.State != queue.StateOpen || got.AdmissionToken != "" {
		t.Fatalf("status with the room off: %+v", got)
	}
	if st := e.stats(t); st.Admitted != st.Joined {
		t.Fatalf("room off: %+v, want everyone past the watermark", st)
	}
}

func testUnknownEventAndForgedQueueID(t *testing.T, e *env) {
	ctx := context.Background()
	_, err := e.room().Join(ctx, uuid.New(), uuid.New())
	wantCode(t, err, boxoffice.ENotFound)

	s := e.join(t, uuid.New())
	forged := s.QueueID
	forged[15] ^= 1
	for _, id := range []uuid.UUID{uuid.New(), forged, uuid.Nil} {
		_, err = e.room().Status(ctx, e.ev.ID, id)
		wantCode(t, err, boxoffice.ENotFound)
	}
	other := dbtest.CreateEvent(t, e.db, dbtest.SmallHall(), paused).ID
	_, err = e.room().Status(ctx, other, s.QueueID) // a real queue ID, for another event
	wantCode(t, err, boxoffice.ENotFound)
}

// TestSurvivesRestart stops the node, starts a new one on the same
// database, and finds every place where it was.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	const n = 60
	users := make([]uuid.UUID, n)
	before := make([]queue.Status, n)
	for i := range users {
		users[i] = uuid.New()
		before[i] = e.join(t, users[i])
	}
	e.setRoom(t, true, 40)
	require.Eventually(t, func() bool { return e.stats(t).Admitted >= 10 }, 15*time.Second, 10*time.Millisecond, "some admitted")
	e.setRoom(t, true, 0) // pause again (the events table says so too)
	admitted := e.stats(t).Admitted
	for i := range before {
		before[i] = e.status(t, before[i].QueueID)
	}

	e.node.Stop()
	e.node = e.start(t)

	if s := e.stats(t); s.Joined != n || s.Admitted != admitted {
		t.Fatalf("after restart: %+v, want %d joined, %d admitted", s, n, admitted)
	}
	for i, b := range before {
		got := e.status(t, b.QueueID)
		// Admission times survive as the last step's (see admissions), so
		// an admission may end later after a failover, never earlier.
		if got.Position != b.Position || got.State != b.State || got.ExpiresAt.Before(b.ExpiresAt) {
			t.Fatalf("place %d: before %+v, after %+v", i, b, got)
		}
		if again := e.join(t, users[i]); again.QueueID != b.QueueID {
			t.Fatalf("re-join after restart: %s, was %s", again.QueueID, b.QueueID)
		}
	}
	if s := e.join(t, uuid.New()); s.Position != n+1-admitted {
		t.Fatalf("newcomer at %d, want %d", s.Position, n+1-admitted)
	}
}

// TestStaleActivationIsFenced runs two nodes that both believe they own the
// room (as during a topology change): every write of the older activation
// fails, and no place is handed out twice.
func TestStaleActivationIsFenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paused, nil)
	other := e.start(t)
	ctx := context.Background()
	var got []queue.Status
	fenced := 0
	for i := range 6 {
		r := e.room()
		if i%2 == 1 {
			r = other.Room
		}
		var s queue.Status
		var err error
		// A fenced activation answers unavailable; a retry reactivates,
		// however long that takes on a loaded machine (up to a deadline).
		for deadline := time.Now().Add(20 * time.Second); ; {
			if s, err = r.Join(ctx, e.ev.ID, uuid.New()); err == nil {
				break
			}
			wantCode(t, err, boxoffice.EUnavailable)
			fenced++
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		got = append(got, s)
	}
	if fenced == 0 {
		t.Fatal("no join was refused: the two activations were never fenced")
	}
	t.Logf("%d joins refused by fencing and retried", fenced)
	pos := make([]int, len(got))
	for i, s := range got {
		pos[i] = int(s.Position)
	}
	sort.Ints(pos)
	for i, p := range pos {
		if p != i+1 {
			t.Fatalf("positions %v, want 1..%d once each", pos, len(got))
		}
	}
}
