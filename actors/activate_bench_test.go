package actors_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/actors"
)

// BenchmarkActivateStadium measures the activation issue 21 bounds at
// 100 ms: the 50,000-seat stadium rebuilt from its snapshot (10,000 holds)
// plus 10,000 commits after it, each its own journal row of one record.
// That is the most rows a tail can have before the next snapshot
// (SnapshotEvery, 10,000 records): the writer merges the commits of a
// busy event into fewer rows, so a quiet event's tail is the worst case.
// BenchmarkActivation is the same tail written as 10 rows. The rows go in
// with one COPY (the journal's own format, one 4-byte length per record),
// as 10,000 writer transactions would take minutes on a loaded machine.
func BenchmarkActivateStadium(b *testing.B) {
	db, eventID, epoch, m, hold, _ := stadiumSnapshotted(b, 3, 4)
	ctx := context.Background()
	rows := make([][]any, 0, 10_000)
	for range 10_000 { // one commit, one row, one record each
		data, _ := hold().MarshalBinary()
		rec := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(data)), uint32(len(data)))
		v := int64(m.Version())
		rows = append(rows, []any{eventID, v, v, epoch, append(rec, data...)})
	}
	if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"journal"},
		[]string{"event_id", "first_version", "last_version", "epoch", "records"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	want, _ := m.MarshalBinary()
	b.ResetTimer()
	for range b.N {
		got, err := actors.Restore(ctx, db, eventID, 50_000)
		if err != nil {
			b.Fatal(err)
		}
		if got.Version() != m.Version() {
			b.Fatalf("restored v%d, want v%d", got.Version(), m.Version())
		}
	}
	b.StopTimer()
	got, _ := actors.Restore(ctx, db, eventID, 50_000)
	if have, _ := got.MarshalBinary(); string(have) != string(want) {
		b.Fatal("restored state differs from the live state")
	}
	b.ReportMetric(10_000, "journal-rows")
}
