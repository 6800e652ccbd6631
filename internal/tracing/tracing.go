// Package tracing exports spans of apigw's own gRPC servers (ext_authz,
// the rate-limit service, the admin API) to an OpenTelemetry collector
// over OTLP/gRPC. A call that arrives with a W3C trace context (Envoy adds
// one to its ext_authz and rate-limit calls when the instance has tracing
// enabled) gets a server span in the same trace, so that apigw's time
// shows up under the request's span. Nothing is global: the provider is
// passed to the servers that use it.
package tracing

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
)

// Options configure the exporter.
type Options struct {
	// Collector is host:port of an OTLP/gRPC collector (plaintext).
	Collector string
	// SamplingPercentage is the share of calls without a sampled parent
	// that start a trace (0-100); calls with a sampled parent follow it.
	SamplingPercentage float64
	// ServiceName names apigw in the traces (default "apigw").
	ServiceName string
}

// Tracer holds the provider of apigw's spans.
type Tracer struct {
	tp *sdktrace.TracerProvider
}

// New starts an exporter to the collector. The connection is made lazily:
// an unreachable collector drops spans, it never fails a call.
func New(ctx context.Context, o Options) (*Tracer, error) {
	if o.SamplingPercentage < 0 || o.SamplingPercentage > 100 {
		return nil, fmt.Errorf("tracing sampling percentage must be 0-100 (got %v)", o.SamplingPercentage)
	}
	if o.ServiceName == "" {
		o.ServiceName = "apigw"
	}
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(o.Collector), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("tracing exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", o.ServiceName))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SamplingPercentage/100))),
	)
	return &Tracer{tp: tp}, nil
}

// ServerOption is the gRPC server option that extracts the trace context
// of incoming calls and records their server spans.
func (t *Tracer) ServerOption() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.tp),
		otelgrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	))
}

// Shutdown flushes the spans not yet exported.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.tp.Shutdown(ctx) }
