package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkOnSaleTracing is the cost of tracing on the on-sale path: one
// in-process node, 64 parallel users over HTTP each holding one random
// seat and releasing it (one op is that pair), with tracing off, and on at
// 1 % and 100 % sampling. Spans go through the SDK's batch processor, as
// in production, to an exporter that drops them (the OTLP network send is
// not measured; it happens off the request path).
func BenchmarkOnSaleTracing(b *testing.B) {
	for _, c := range []struct {
		name    string
		sampler sdktrace.Sampler // nil: tracing off
	}{
		{"off", nil},
		{"sampled=1%", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))},
		{"sampled=100%", sdktrace.ParentBased(sdktrace.AlwaysSample())},
	} {
		b.Run("tracing="+c.name, func(b *testing.B) {
			var opts []nodeOption
			if c.sampler != nil {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(c.sampler), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				opts = append(opts, func(cfg *Config) { cfg.tracerProvider = tp })
			}
			n := startTestNode(b, opts...)
			ev := seedSmall(b, n.DB, 1)[0]
			tickets := ticketsOf(b, n, ev)
			tokens := make([]string, 64)
			for i := range tokens {
				tokens[i] = n.token(b, fmt.Sprintf("bench-%d@example.com", i))
			}
			var next, failed atomic.Int64
			b.SetParallelism(32) // 64 goroutines on a 2-core machine
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1) - 1)
				tok := tokens[i%len(tokens)]
				r := rand.New(rand.NewPCG(uint64(i), 2))
				for pb.Next() {
					code, data := send(http.MethodPost, n.URL+"/booking/reserve", tok,
						map[string]any{"event_id": ev, "ticket_ids": []string{tickets[r.IntN(len(tickets))]}})
					switch code {
					case http.StatusCreated:
						var h struct {
							BookingID string `json:"booking_id"`
						}
						_ = json.Unmarshal(data, &h)
						send(http.MethodDelete, n.URL+"/booking/"+h.BookingID, tok, nil)
					case http.StatusConflict:
					default:
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			// CPU time of the process (node and clients) per op: on a
			// shared machine wall time swings with the neighbours' load,
			// the work done per op much less.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if failed.Load() > 0 {
				b.Fatalf("%d reserves failed (neither 201 nor 409)", failed.Load())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
		})
	}
}
