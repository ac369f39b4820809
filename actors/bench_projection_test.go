package actors_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence"
)

// BenchmarkReserveProjected is the A/B of the bookings projection, in one
// run on the same PostgreSQL: 256 requesters hold single seats of a
// 50,000-seat event with every booking row in the journal's commit
// ("sync") and with the bookings of holds written behind the journal
// ("behind", a 100 ms window). "hold" keeps every hold; "hold+release"
// releases each hold at once (an abandoned hold), which the projection
// coalesces away. It reports holds/s, PostgreSQL rows inserted per hold
// (journal, bookings, sold_seats, booking_projection, counted after the
// projection has written everything) and written on the path the reply
// waits for (the journal's), journal bytes per hold, and the projection's
// lag from the durable commit to the row's commit (p50/p99/max), and
// PostgreSQL's CPU per hold.
func BenchmarkReserveProjected(b *testing.B) {
	for _, release := range []bool{false, true} {
		for _, window := range []time.Duration{0, 100 * time.Millisecond} {
			mode, load := "sync", "hold"
			if window > 0 {
				mode = "behind"
			}
			if release {
				load = "hold+release"
			}
			b.Run(fmt.Sprintf("%s/%s/seats=1/conc=256", load, mode), func(b *testing.B) {
				db := openBenchDB(b)
				e := &env{db: db, eventID: createEvent(b, db, stadium()), seats: 50_000}
				e.node = startNode(b, db, actors.Config{BookingsWindow: window}, func(d *actors.Deps) { d.Projection = db })
				ctx := context.Background()
				if _, err := e.node.eng.Seats(ctx, e.eventID); err != nil {
					b.Fatal(err)
				}
				rows, cpu := projectedRows(b, db), pgCPU(b, db)
				space := boxoffice.NewTicketSpace(e.eventID)
				holds := runReserve(b, 256, 1, 50_000, func(ids []int) bool {
					user := uuid.New()
					bk, err := e.node.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: e.eventID,
						UserID: user, BookingID: uuid.New(), TicketIDs: toIDs(space, ids)})
					if err != nil {
						if boxoffice.ErrorCode(err) != boxoffice.ESeatUnavailable {
							b.Fatal(err)
						}
						return false
					}
					if release {
						if _, err := e.node.eng.Release(ctx, e.eventID, bk.ID, user); err != nil {
							b.Fatal(err)
						}
					}
					return true
				})
				e.node.eng.SyncProjection(ctx)
				if holds == 0 {
					return
				}
				reportPGCPU(b, db, cpu, holds)
				st := e.node.jw.Stats()
				var jrows, jbytes int64
				if err := db.Pool().QueryRow(ctx, `SELECT count(*), coalesce(sum(octet_length(records)), 0)::bigint FROM journal`).Scan(&jrows, &jbytes); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(projectedRows(b, db)-rows)/float64(holds), "pg-rows/hold")
				b.ReportMetric(float64(jrows)/float64(holds), "ack-rows/hold")
				b.ReportMetric(float64(jbytes)/float64(st.Records), "journal-bytes/record")
				if ps := e.node.eng.ProjectionStats(); ps.Writes > 0 {
					b.ReportMetric(float64(ps.LagP50.Microseconds())/1000, "lag-p50-ms")
					b.ReportMetric(float64(ps.LagP99.Microseconds())/1000, "lag-p99-ms")
					b.ReportMetric(float64(ps.LagMax.Microseconds())/1000, "lag-max-ms")
					b.ReportMetric(float64(ps.Coalesced)/float64(holds), "coalesced/hold")
				}
			})
		}
	}
}

// projectedRows counts the rows a hold may write, the projection's
// watermark rows included.
func projectedRows(b *testing.B, db *persistence.DB) int64 {
	b.Helper()
	var n int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM journal)
		+ (SELECT count(*) FROM bookings) + (SELECT count(*) FROM sold_seats)
		+ (SELECT count(*) FROM booking_projection)`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
