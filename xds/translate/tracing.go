package translate

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ClusterTracing is the cluster of an instance's OTLP collector.
const ClusterTracing = "apigw.tracing"

// tracing configures OpenTelemetry tracing on the HCMs of an instance with
// tracing enabled: the sampling percentage is the share of requests
// without a trace context that start one (a request that arrives with a
// sampled W3C traceparent is traced, and Envoy passes the context on to
// ext_authz, the rate-limit service and the backend); spans go to the
// collector over OTLP/gRPC through ClusterTracing.
func tracing(in string, t *apigwv1.TracingConfig) (*hcmv3.HttpConnectionManager_Tracing, error) {
	if !t.GetEnabled() {
		return nil, nil
	}
	name := t.GetServiceName()
	if name == "" {
		name = "apigw-" + in
	}
	otel, err := toAny(&tracev3.OpenTelemetryConfig{
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: ClusterTracing}}},
		ServiceName: name,
	})
	if err != nil {
		return nil, err
	}
	tr := &hcmv3.HttpConnectionManager_Tracing{
		RandomSampling: &typev3.Percent{Value: t.GetSamplingPercentage()},
		Provider:       &tracev3.Tracing_Http{Name: "envoy.tracers.opentelemetry", ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: otel}},
	}
	return tr, validate(tr)
}

// tracingCluster is the collector's cluster of an instance with tracing
// enabled (nil otherwise).
func tracingCluster(t *apigwv1.TracingConfig, opts Options) (*clusterv3.Cluster, error) {
	if !t.GetEnabled() || t.GetCollector() == "" {
		return nil, nil
	}
	return serviceCluster(ClusterTracing, t.GetCollector(), false, opts)
}
