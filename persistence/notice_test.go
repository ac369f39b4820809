package persistence_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/google/uuid"
)

// pendingNotices returns the unsent outbox rows whose topic is a notice.
func pendingNotices(tb testing.TB, db *persistence.DB) []persistence.OutboxRow {
	tb.Helper()
	rows, err := db.PendingOutbox(ctxT(tb), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []persistence.OutboxRow
	for _, r := range rows {
		if boxoffice.IsNoticeType(r.Topic) {
			out = append(out, r)
		}
	}
	return out
}

func decodeNotice(tb testing.TB, r persistence.OutboxRow) boxoffice.Notice {
	tb.Helper()
	var n boxoffice.Notice
	if err := json.Unmarshal(r.Payload, &n); err != nil {
		tb.Fatalf("notice %d: %v (%s)", r.ID, err, r.Payload)
	}
	return n
}

// AddNotices is what a refund's or a cancellation's transaction calls: its
// rows exist only if that transaction commits, and a bad notice writes
// nothing.
func TestAddNoticesInTransaction(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	event := uuid.New()
	now := time.Now().UTC().Truncate(time.Second)
	b := hold(event, uuid.New(), uuid.New(), uuid.New())
	refunded := boxoffice.BookingNotice(boxoffice.NoticeBookingRefunded, b, now)
	cancelled := boxoffice.EventNotice(boxoffice.NoticeEventCancelled, event, now)

	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := persistence.AddNotices(ctx, tx, refunded); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if got := pendingNotices(t, db); len(got) != 0 {
		t.Fatalf("rolled back notices are in the outbox: %+v", got)
	}

	bad := []boxoffice.Notice{
		{Type: "booking.exploded", EventID: event},
		{Type: boxoffice.NoticeBookingRefunded, EventID: event},
		{Type: boxoffice.NoticeEventCancelled},
	}
	for _, n := range bad {
		wantCode(t, persistence.AddNotices(ctx, db.Pool(), cancelled, n), boxoffice.EInvalid)
	}
	if got := pendingNotices(t, db); len(got) != 0 {
		t.Fatalf("a refused batch wrote %+v", got)
	}

	tx, err = db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := persistence.AddNotices(ctx, tx, refunded, cancelled); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := pendingNotices(t, db)
	if len(got) != 2 || got[0].Topic != boxoffice.NoticeBookingRefunded || got[1].Topic != boxoffice.NoticeEventCancelled {
		t.Fatalf("outbox %+v, want refunded then cancelled", got)
	}
	n := decodeNotice(t, got[0])
	if n.BookingID != b.ID || n.UserID != b.UserID || n.Total != b.Total || n.Currency != "EUR" ||
		len(n.TicketIDs) != 2 || !n.OccurredAt.Equal(now) {
		t.Fatalf("refund notice %+v, want booking %+v at %v", n, b, now)
	}
}

// A sale's notices commit with the sale; a commit that fails (a seat sold
// twice) leaves none behind.
func TestJournalCommitWritesNotices(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	w := newWriter(t, db, time.Millisecond)
	event := uuid.New()
	epoch := acquire(t, db, event, "node-a")
	seat := uuid.New()
	b := hold(event, uuid.New(), seat)
	b.Status = boxoffice.BookingConfirmed
	at := time.Now().UTC()
	c := boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(1, 1), Bookings: []boxoffice.Booking{b},
		Sales: []boxoffice.Sale{{BookingID: b.ID, TicketIDs: b.TicketIDs}},
		Notices: []boxoffice.Notice{boxoffice.BookingNotice(boxoffice.NoticeBookingConfirmed, b, at),
			boxoffice.EventNotice(boxoffice.NoticeEventSoldOut, event, at)}}
	if err := submit(w, c); err != nil {
		t.Fatal(err)
	}
	got := pendingNotices(t, db)
	if len(got) != 2 || got[0].Topic != boxoffice.NoticeBookingConfirmed || got[1].Topic != boxoffice.NoticeEventSoldOut {
		t.Fatalf("outbox %+v, want confirmed then sold out", got)
	}
	if n := decodeNotice(t, got[0]); n.BookingID != b.ID || n.EventID != event {
		t.Fatalf("confirmed notice %+v", n)
	}

	// The same seat again: the sale fails, and so do its notices.
	b2 := hold(event, uuid.New(), seat)
	c2 := boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(2, 1), Bookings: []boxoffice.Booking{b2},
		Sales:   []boxoffice.Sale{{BookingID: b2.ID, TicketIDs: b2.TicketIDs}},
		Notices: []boxoffice.Notice{boxoffice.BookingNotice(boxoffice.NoticeBookingConfirmed, b2, at)}}
	wantIs(t, submit(w, c2), boxoffice.ErrSeatSold)
	if got := pendingNotices(t, db); len(got) != 2 {
		t.Fatalf("a failed sale left notices: %+v", got)
	}

	// A commit with an invalid notice is refused whole.
	c3 := boxoffice.Commit{EventID: event, Epoch: epoch, Entries: records(2, 1),
		Notices: []boxoffice.Notice{{Type: "nonsense", EventID: event}}}
	if err := submit(w, c3); err == nil {
		t.Fatal("a commit with an unknown notice type was accepted")
	}
}

// PruneNotices takes only what was sent or done before its cut-offs.
func TestPruneNotices(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	event := uuid.New()
	now := time.Now()
	n := boxoffice.EventNotice(boxoffice.NoticeEventSoldOut, event, now)
	if err := persistence.AddNotices(ctx, db.Pool(), n, n, n); err != nil {
		t.Fatal(err)
	}
	rows := pendingNotices(t, db)
	if err := db.MarkOutboxSent(ctx, []int64{rows[0].ID, rows[1].ID}); err != nil {
		t.Fatal(err)
	}
	// rows[0] was sent two days ago, rows[1] just now, rows[2] never.
	if _, err := db.Pool().Exec(ctx, `UPDATE outbox SET sent_at = now() - interval '2 days' WHERE id = $1`, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{rows[0].ID, rows[1].ID} {
		if err := db.MarkNoticeDone(ctx, "mail", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE notice_done SET done_at = now() - interval '30 days' WHERE notice_id = $1`, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.PruneNotices(ctx, now.Add(-24*time.Hour), now.Add(-8*24*time.Hour), 100)
	if err != nil || got != 2 {
		t.Fatalf("pruned %d (%v), want the old outbox row and the old mark", got, err)
	}
	var left int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("%d outbox rows left (%v), want 2", left, err)
	}
	for i, want := range []bool{false, true, false} {
		if done, err := db.NoticeDone(ctx, "mail", rows[i].ID); err != nil || done != want {
			t.Errorf("notice %d done=%v (%v), want %v", i, done, err, want)
		}
	}
	if _, err := db.PruneNotices(ctx, now, now, 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
}
