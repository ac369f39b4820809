package persistence

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names this package's spans' instrumentation scope.
const tracerName = "github.com/boxoffice/boxoffice/persistence"

// pgTracer is pgx's tracer interface turned into OpenTelemetry spans: one
// client span per query, batch and COPY, for work done in a sampled
// trace only (the journal's commit span, a traced request), so untraced
// background queries cost one context lookup.
type pgTracer struct{ tracer trace.Tracer }

var (
	_ pgx.QueryTracer    = pgTracer{}
	_ pgx.BatchTracer    = pgTracer{}
	_ pgx.CopyFromTracer = pgTracer{}
)

// start opens a span only under a traced parent.
func (t pgTracer) start(ctx context.Context, name, sql string) context.Context {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx
	}
	attrs := []attribute.KeyValue{attribute.String("db.system", "postgresql")}
	if sql != "" {
		attrs = append(attrs, attribute.String("db.statement", truncateSQL(sql)))
	}
	ctx, _ = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx
}

// end ends the span start opened (a no-op span otherwise).
func end(ctx context.Context, err error) {
	span := trace.SpanFromContext(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// truncateSQL keeps spans small: the statement's text identifies it.
func truncateSQL(sql string) string {
	if len(sql) > 300 {
		return sql[:300] + "..."
	}
	return sql
}

// TraceQueryStart implements pgx.QueryTracer.
func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return t.start(ctx, "postgres query", d.SQL)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t pgTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if trace.SpanFromContext(ctx).IsRecording() {
		trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("db.rows_affected", d.CommandTag.RowsAffected()))
	}
	end(ctx, d.Err)
}

// TraceBatchStart implements pgx.BatchTracer.
func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	ctx = t.start(ctx, "postgres batch", "")
	if span := trace.SpanFromContext(ctx); span.IsRecording() && d.Batch != nil {
		span.SetAttributes(attribute.Int("db.batch_size", d.Batch.Len()))
	}
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (t pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (t pgTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	end(ctx, d.Err)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (t pgTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	return t.start(ctx, "postgres copy "+d.TableName.Sanitize(), "")
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (t pgTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	end(ctx, d.Err)
}

// traceBatch starts the span of one group commit: in the trace of the
// first traced request whose records ride it, linked from (to) every
// other one, with the commits, records and bytes it carries. Its context
// is the parent of the batch's PostgreSQL spans. Without a tracer, or with
// no traced commit in the batch, ctx is context.Background().
func (w *JournalWriter) traceBatch(batch []pending) (context.Context, func()) {
	var ctxs []context.Context
	for i := range batch {
		ctxs = append(ctxs, batch[i].c.Traces...)
	}
	if w.cfg.TracerProvider == nil || len(ctxs) == 0 {
		return context.Background(), func() {}
	}
	records, bytes := 0, 0
	for i := range batch {
		records += len(batch[i].c.Entries)
		for _, e := range batch[i].c.Entries {
			bytes += len(e.Record)
		}
	}
	ls := make([]trace.Link, 0, len(ctxs)-1)
	for _, c := range ctxs[1:] {
		ls = append(ls, trace.Link{SpanContext: trace.SpanContextFromContext(c)})
	}
	ctx, span := w.cfg.TracerProvider.Tracer(tracerName).Start(ctxs[0], "journal group commit",
		trace.WithLinks(ls...), trace.WithTimestamp(oldest(batch)),
		trace.WithAttributes(attribute.Int("boxoffice.commits", len(batch)), attribute.Int("boxoffice.records", records),
			attribute.Int("boxoffice.bytes", bytes), attribute.Int("boxoffice.traced_requests", len(ctxs))))
	return ctx, func() { span.End() }
}

// oldest is when the batch's first commit was submitted, so the commit
// span shows the wait for company as well as the transaction.
func oldest(batch []pending) time.Time {
	t := batch[0].at
	for _, p := range batch[1:] {
		if p.at.Before(t) {
			t = p.at
		}
	}
	return t
}
