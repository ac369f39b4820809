package actors

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/cluster"
)

// Check-ins in the event report (issue 19, h19checkin): the grain owns its
// event's admissions, so the report asks it for them per section, gate
// and time bucket (seatmap.Map.AdmissionReport).

// CheckInReport implements boxoffice.CheckInReporter.
func (e *Engine) CheckInReport(ctx context.Context, eventID uuid.UUID, bucket boxoffice.ReportBucket) (boxoffice.CheckInReport, error) {
	r, err := cluster.Call[*grainpb.AdmissionReport](ctx, e.grains, eventID.String(),
		&grainpb.GetAdmissionReport{BucketNs: int64(bucket.Width())})
	if err != nil {
		return boxoffice.CheckInReport{}, err
	}
	if r.Error != nil {
		return boxoffice.CheckInReport{}, r.Error.Err()
	}
	counts := func(in []*grainpb.AdmissionCount) []boxoffice.CheckInCount {
		out := make([]boxoffice.CheckInCount, len(in))
		for k, c := range in {
			out[k] = boxoffice.CheckInCount{Name: c.Name, CheckIns: int(c.Admitted)}
		}
		return out
	}
	out := boxoffice.CheckInReport{Total: int(r.Admitted), Sections: counts(r.Sections), Gates: counts(r.Gates),
		Buckets: make([]boxoffice.CheckInBucket, len(r.Buckets))}
	for k, b := range r.Buckets {
		out.Buckets[k] = boxoffice.CheckInBucket{Start: time.Unix(0, b.Start).UTC(), CheckIns: int(b.Admitted)}
	}
	return out, nil
}

// getAdmissionReport answers GetAdmissionReport from the seat map: the
// admissions it holds, which a failed commit would take back by failing
// the grain (as GetStats' admitted count).
func (g *grain) getAdmissionReport(ctx actor.Context, msg *grainpb.GetAdmissionReport) {
	if g.refuse(ctx) {
		return
	}
	r := g.m.AdmissionReport(time.Duration(msg.BucketNs))
	counts := func(in []seatmap.AdmissionCount) []*grainpb.AdmissionCount {
		out := make([]*grainpb.AdmissionCount, len(in))
		for k, c := range in {
			out[k] = &grainpb.AdmissionCount{Name: c.Name, Admitted: int64(c.Admitted)}
		}
		return out
	}
	reply := &grainpb.AdmissionReport{Admitted: int64(r.Admitted), Sections: counts(r.Sections), Gates: counts(r.Gates),
		Buckets: make([]*grainpb.AdmissionBucket, len(r.Buckets))}
	for k, b := range r.Buckets {
		reply.Buckets[k] = &grainpb.AdmissionBucket{Start: b.Start.UnixNano(), Admitted: int64(b.Admitted)}
	}
	ctx.Respond(reply)
}

var _ boxoffice.CheckInReporter = (*Engine)(nil)
