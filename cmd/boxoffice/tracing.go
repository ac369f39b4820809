package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is the node's OpenTelemetry trace export, configured by the
// standard OTEL_* variables (not BOXOFFICE_*: collectors, operators and
// Kubernetes operators already speak them). It is off unless an OTLP
// endpoint is set, so a node without a collector pays nothing.
type Tracing struct {
	// Endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
	// OTEL_EXPORTER_OTLP_ENDPOINT: where spans go over OTLP/HTTP
	// (http://host:4318). Empty turns tracing off.
	Endpoint string
	// Sampler and SamplerArg are OTEL_TRACES_SAMPLER and its
	// OTEL_TRACES_SAMPLER_ARG: the share of new traces kept (a request
	// that arrives with a sampled traceparent stays sampled under the
	// parentbased_* samplers, the default).
	Sampler    string
	SamplerArg string
	// sampler is the parsed Sampler.
	sampler sdktrace.Sampler
}

// parseTracing reads the OTEL_* variables the node acts on and checks
// them: a sampler that does not parse stops the node naming it (the SDK
// alone would fall back to sampling everything).
func parseTracing(getenv func(string) string) (Tracing, error) {
	t := Tracing{
		Endpoint:   getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		Sampler:    getenv("OTEL_TRACES_SAMPLER"),
		SamplerArg: getenv("OTEL_TRACES_SAMPLER_ARG"),
	}
	if t.Endpoint == "" {
		t.Endpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if getenv("OTEL_SDK_DISABLED") == "true" {
		t.Endpoint = ""
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := getenv(name); p != "" && p != "http/protobuf" {
			return t, fmt.Errorf("%s %q: this node exports OTLP over HTTP only (http/protobuf, port 4318)", name, p)
		}
	}
	s, err := samplerOf(t.Sampler, t.SamplerArg)
	if err != nil {
		return t, err
	}
	t.sampler = s
	return t, nil
}

// samplerOf is the SDK's sampler named as OTEL_TRACES_SAMPLER names it.
func samplerOf(name, arg string) (sdktrace.Sampler, error) {
	ratio := 1.0
	if arg != "" {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q: want a ratio from 0 to 1", arg)
		}
		ratio = r
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q: want always_on, always_off, traceidratio or parentbased_ one of those", name)
}

// String is the tracing part of the start-up line.
func (t Tracing) String() string {
	if t.Endpoint == "" {
		return "tracing=off"
	}
	s := t.Sampler
	if s == "" {
		s = "parentbased_always_on"
	}
	return fmt.Sprintf("tracing=%s sampler=%s:%s", t.Endpoint, s, t.SamplerArg)
}

// startTracing returns the node's tracer provider and how to flush and
// stop it; nil and a no-op when tracing is off. The OTLP exporter reads
// the rest of its OTEL_EXPORTER_OTLP_* settings (headers, timeout,
// certificates) itself; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// name the service (default boxoffice) and the node is
// service.instance.id.
func startTracing(ctx context.Context, t Tracing, nodeName string) (trace.TracerProvider, func(), error) {
	if t.Endpoint == "" {
		return nil, func() {}, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q: %w", t.Endpoint, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "boxoffice"), attribute.String("service.instance.id", nodeName)),
		resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(t.sampler))
	return tp, func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(c) // flushes what is buffered; a collector that is down loses it
	}, nil
}

// jaegerModule is the Jaeger all-in-one `make run` suggests for seeing
// traces locally: one binary with an OTLP receiver (4318) and the UI
// (16686), run with `go run` so that it never enters go.mod (it is large).
const jaegerModule = "github.com/jaegertracing/jaeger/cmd/jaeger@v1.75.0"

// tracesHint is what a development node prints about traces: where they
// go, or how to see them.
func tracesHint(t Tracing) string {
	if t.Endpoint != "" {
		return fmt.Sprintf("  traces               exported to %s (a local Jaeger shows them at http://localhost:16686)\n", t.Endpoint)
	}
	return "  traces               off; to see them, run Jaeger (UI http://localhost:16686):\n" +
		"                         go run " + jaegerModule + "\n" +
		"                       then restart with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 make run\n"
}
