package persistence_test

import (
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestWaitingRoomPeriod: only a write that switches the room on starts a
// new on-period; a client cannot set it, and a creation retried after it
// moved still matches its body.
func TestWaitingRoomPeriod(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	e, _ := mustEvent(t, db, 1, 1, 2)
	steps := []struct {
		name string
		wr   boxoffice.WaitingRoom
		want int64
	}{
		{"off stays off", boxoffice.WaitingRoom{RatePerSecond: 5}, 0},
		{"switched on", boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 5}, 1},
		{"rate changed while on", boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 9}, 1},
		{"a client's period is ignored", boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 9, Period: 99}, 1},
		{"switched off", boxoffice.WaitingRoom{}, 1},
		{"switched on again", boxoffice.WaitingRoom{Enabled: true, RatePerSecond: 1}, 2},
	}
	for _, s := range steps {
		got, err := db.UpdateEvent(ctx, e.ID, persistence.EventPatch{WaitingRoom: &s.wr})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		read, err := db.Event(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.WaitingRoom.Period != s.want || read.WaitingRoom.Period != s.want {
			t.Fatalf("%s: period %d (read back %d), want %d", s.name, got.WaitingRoom.Period, read.WaitingRoom.Period, s.want)
		}
	}
	if _, _, created, err := db.CreateEvent(ctx, e); err != nil || created {
		t.Fatalf("creation retried after the room's period moved: created %v, %v", created, err)
	}
}

// TestQueuePeriodNeverGoesBack: the room row keeps the newest period and
// its base, whichever of AppendQueue and AdmitQueue lands last.
func TestQueuePeriodNeverGoesBack(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	e, _ := mustEvent(t, db, 1, 1, 2)
	room, err := db.OpenQueue(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := room.AdmittedAt
	entries := []boxoffice.QueueEntry{{UserID: e.VenueID, Seq: 1}, {UserID: e.PerformerID, Seq: 2}}
	if err := db.AppendQueue(ctx, e.ID, boxoffice.QueueRoom{Epoch: room.Epoch, NextSeq: 3, AdmittedUpto: 2, AdmittedAt: at}, entries); err != nil {
		t.Fatal(err)
	}
	if err := db.AdmitQueue(ctx, e.ID, boxoffice.QueueRoom{Epoch: room.Epoch, AdmittedUpto: 2, AdmittedAt: at, Period: 3, PeriodBase: 2}); err != nil {
		t.Fatal(err)
	}
	// A write of the older period, in flight across the switch, lands late.
	if err := db.AdmitQueue(ctx, e.ID, boxoffice.QueueRoom{Epoch: room.Epoch, AdmittedUpto: 2, AdmittedAt: at, Period: 2, PeriodBase: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := db.OpenQueue(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Period != 3 || got.PeriodBase != 2 || got.AdmittedUpto != 2 || got.NextSeq != 3 {
		t.Fatalf("room %+v, want period 3 from 2, watermark 2, next 3", got)
	}
}
