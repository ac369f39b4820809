package actors_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// TestFencedOwnerStops simulates a stale owner: another activation takes the
// event (a new epoch) behind the live grain's back. The stale grain's next
// write is refused, it replies no success and stops; the next call rebuilds
// from PostgreSQL under a newer epoch (I4), and the journal stays gap-free (I5).
func TestFencedOwnerStops(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	ctx := context.Background()
	user := uuid.New()
	e.mustReserve(t, user, 0)

	if _, err := e.db.Acquire(ctx, e.eventID, "intruder"); err != nil {
		t.Fatal(err)
	}
	_, err := e.reserve(t, user, 1)
	if codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("write by the fenced owner: %v, want unavailable", err)
	}
	var held int
	if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM bookings WHERE event_id = $1`, e.eventID).Scan(&held); err != nil || held != 1 {
		t.Fatalf("bookings = %d, %v; want only the first (the fenced write left nothing)", held, err)
	}
	var b boxoffice.Booking
	require.Eventually(t, func() bool {
		b, err = e.reserve(t, user, 1)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "a new activation serves the event")
	if v := e.statuses(t); v.Statuses[0] != boxoffice.SeatReserved || v.Statuses[1] != boxoffice.SeatReserved {
		t.Errorf("rebuilt state = %s %s, want both reserved", v.Statuses[0], v.Statuses[1])
	}
	assertGapFree(t, e)
	_ = b
}

// TestPostgresDown stops PostgreSQL under the engine: every booking call
// (reserve, confirm, release) answers unavailable (503), never anything
// else; nothing unacknowledged appears later; the engine serves again once
// PostgreSQL is back, and every acknowledged hold and sale is there (I2).
func TestPostgresDown(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()
	user := uuid.New()
	held := []boxoffice.Booking{e.mustReserve(t, user, 0)}
	sold := []boxoffice.Booking{e.mustReserve(t, user, 4)}
	if b, err := e.confirm(t, sold[0], user, devpay.TokenVisa); err != nil || b.Status != boxoffice.BookingConfirmed {
		t.Fatalf("confirm before the outage: %+v, %v", b, err)
	}
	pending := e.mustReserve(t, user, 5) // confirmed and released only while PostgreSQL is down

	if err := pgtest.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = pgtest.Start()
		}
	}()
	for i := 1; i <= 3; i++ {
		b, err := e.reserve(t, user, i)
		if err == nil {
			t.Fatalf("reserve %d acknowledged while PostgreSQL is down: %+v", i, b)
		}
		if codeOf(err) != boxoffice.EUnavailable {
			t.Errorf("reserve while down: %v (%s), want unavailable", err, codeOf(err))
		}
	}
	if b, err := e.confirm(t, pending, user, devpay.TokenVisa); codeOf(err) != boxoffice.EUnavailable {
		t.Errorf("confirm while down: %+v, %v (%s); want unavailable", b, err, codeOf(err))
	}
	if b, err := e.node.eng.Release(ctx, e.eventID, pending.ID, user); codeOf(err) != boxoffice.EUnavailable {
		t.Errorf("release while down: %+v, %v (%s); want unavailable", b, err, codeOf(err))
	}
	if err := pgtest.Start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	require.Eventually(t, func() bool {
		b, err := e.reserve(t, user, 10)
		if err == nil {
			held = append(held, b)
		}
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the engine serves again")
	b, err := e.confirm(t, held[len(held)-1], user, devpay.TokenVisa)
	if err != nil {
		t.Fatalf("confirm after the outage: %v", err)
	}
	sold = append(sold, b)
	held = held[:len(held)-1]
	for _, b := range held {
		if s, err := e.db.Booking(ctx, b.ID); err != nil || s.Status != boxoffice.BookingInProgress {
			t.Errorf("acknowledged hold %s = %+v, %v; want in-progress", b.ID, s, err)
		}
	}
	for _, b := range sold {
		if s, err := e.db.Booking(ctx, b.ID); err != nil || s.Status != boxoffice.BookingConfirmed {
			t.Errorf("acknowledged sale %s = %+v, %v; want confirmed", b.ID, s, err)
		}
		var n int
		if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM sold_seats WHERE booking_id = $1`, b.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("sold_seats rows of sale %s = %d, %v; want 1", b.ID, n, err)
		}
	}
	if s, err := e.db.Booking(ctx, pending.ID); err != nil || s.Status != boxoffice.BookingInProgress {
		t.Errorf("hold confirmed and released only while down = %+v, %v; want still in-progress", s, err)
	}
	v := e.statuses(t)
	want := map[int]boxoffice.SeatStatus{0: boxoffice.SeatReserved, 4: boxoffice.SeatBooked, 5: boxoffice.SeatReserved,
		10: boxoffice.SeatBooked, 1: boxoffice.SeatAvailable, 2: boxoffice.SeatAvailable, 3: boxoffice.SeatAvailable}
	for i, st := range want {
		if v.Statuses[i] != st {
			t.Errorf("seat %d = %s, want %s", i, v.Statuses[i], st)
		}
	}
	assertGapFree(t, e)
}

func assertGapFree(t *testing.T, e *env) {
	t.Helper()
	versions, err := e.db.JournalVersions(context.Background(), e.eventID)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range versions {
		if v != uint64(i+1) {
			t.Fatalf("journal versions have a gap at %d: ...%v (I5)", i, versions[max(0, i-3):min(len(versions), i+3)])
		}
	}
}

const crashChildEnv = "BOXOFFICE_CRASH_CHILD"

// TestCrashSafety runs a node in a child process that makes holds and sales
// as fast as it can and prints each acknowledged one; the test kill -9s the
// child at a random moment, starts a node on the same database and checks
// that every acknowledged hold and sale is there and no seat is in two
// holds or two sales (I1, I2).
func TestCrashSafety(t *testing.T) {
	url := pgtest.NewDB(t)
	db := dbtest.OpenDB(t, url)
	for round := range 2 {
		eventID := createEvent(t, db, venue200())
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+url, "BOXOFFICE_CRASH_EVENT="+eventID.String())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		holds, sales := map[uuid.UUID][]int{}, map[uuid.UUID]bool{}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// The kill comes at a random moment after the child's first
		// acknowledgement (its start-up takes a second or two).
		var killAt <-chan time.Time
		giveUp := time.After(30 * time.Second)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if len(holds) == 0 && killAt == nil {
					killAt = time.After(time.Duration(200+rand.IntN(1300)) * time.Millisecond)
				}
				parseAck(l, holds, sales)
			case <-giveUp:
				_ = cmd.Process.Signal(syscall.SIGKILL)
			case <-killAt:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				killAt = nil
			}
		}
		_ = cmd.Wait()
		if len(holds) == 0 {
			t.Fatalf("round %d: the child acknowledged nothing before the kill; its stderr:\n%s", round, stderr.String())
		}
		t.Logf("round %d: %d holds and %d sales acknowledged before kill -9", round, len(holds), len(sales))
		checkAcked(t, db, eventID, holds, sales)
	}
}

func parseAck(line string, holds map[uuid.UUID][]int, sales map[uuid.UUID]bool) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	id, err := uuid.Parse(f[1])
	if err != nil {
		return
	}
	switch f[0] {
	case "HELD":
		for _, s := range f[2:] {
			n, _ := strconv.Atoi(s)
			holds[id] = append(holds[id], n)
		}
	case "SOLD":
		sales[id] = true
	}
}

func checkAcked(t *testing.T, db *persistence.DB, eventID uuid.UUID, holds map[uuid.UUID][]int, sales map[uuid.UUID]bool) {
	t.Helper()
	n := startNode(t, db, actors.Config{HoldTTL: 10 * time.Minute})
	defer n.stop()
	v, err := n.eng.Seats(context.Background(), eventID)
	if err != nil {
		t.Fatalf("seats after restart: %v", err)
	}
	owner := map[int]uuid.UUID{}
	for b, seats := range holds {
		s, err := db.Booking(context.Background(), b)
		if err != nil {
			t.Errorf("acknowledged hold %s lost: %v (I2)", b, err)
			continue
		}
		if sales[b] && s.Status != boxoffice.BookingConfirmed {
			t.Errorf("acknowledged sale %s is %s (I2)", b, s.Status)
		}
		for _, i := range seats {
			if v.Statuses[i] == boxoffice.SeatAvailable && s.Status != boxoffice.BookingCancelled {
				t.Errorf("seat %d of acknowledged booking %s (%s) is available after restart", i, b, s.Status)
			}
			if prev, ok := owner[i]; ok && s.Status != boxoffice.BookingCancelled {
				t.Errorf("seat %d acknowledged to both %s and %s (I1)", i, prev, b)
			}
			if s.Status != boxoffice.BookingCancelled {
				owner[i] = b
			}
		}
	}
	rows, err := db.Pool().Query(context.Background(), `SELECT t::text, count(*) FROM bookings, unnest(ticket_ids) t
		WHERE event_id = $1 AND status IN ('in-progress', 'confirmed') GROUP BY t HAVING count(*) > 1`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seat string
		var n int
		_ = rows.Scan(&seat, &n)
		t.Errorf("ticket %s is in %d live bookings (I1)", seat, n)
	}
}

// TestCrashChild is the child process of TestCrashSafety; it does nothing
// unless started by it.
func TestCrashChild(t *testing.T) {
	url := os.Getenv(crashChildEnv)
	if url == "" {
		return
	}
	eventID := uuid.MustParse(os.Getenv("BOXOFFICE_CRASH_EVENT"))
	db := dbtest.OpenDB(t, url)
	n := startNode(t, db, actors.Config{HoldTTL: 10 * time.Minute})
	space := boxoffice.NewTicketSpace(eventID)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			user := uuid.New()
			for {
				k := 1 + r.IntN(3)
				idx := make([]int, 0, k)
				ids := make([]uuid.UUID, 0, k)
				seen := map[int]bool{}
				for len(idx) < k {
					i := r.IntN(200)
					if !seen[i] {
						seen[i] = true
						idx = append(idx, i)
						ids = append(ids, space.ID(i))
					}
				}
				b, err := n.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
					EventID: eventID, UserID: user, BookingID: uuid.New(), TicketIDs: ids})
				if err != nil {
					if boxoffice.ErrorCode(err) == boxoffice.ESeatUnavailable {
						continue
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				fmt.Printf("HELD %s %s\n", b.ID, strings.Trim(fmt.Sprint(idx), "[]"))
				mu.Unlock()
				switch r.IntN(3) {
				case 0:
					if _, err := n.eng.Confirm(context.Background(), boxoffice.ConfirmRequest{
						EventID: eventID, BookingID: b.ID, UserID: user, Token: devpay.TokenVisa}); err == nil {
						mu.Lock()
						fmt.Printf("SOLD %s\n", b.ID)
						mu.Unlock()
					}
				case 1:
					if _, err := n.eng.Release(context.Background(), eventID, b.ID, user); err == nil {
						mu.Lock()
						fmt.Printf("CANCELLED %s\n", b.ID)
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
}
