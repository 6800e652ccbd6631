package translate

import (
	"fmt"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filealv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	streamalv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ClusterAccessLog is the cluster of apigw's access-log service.
const ClusterAccessLog = "apigw.accesslog"

// ClusterBreakerAccessLog is the cluster of the breaker-only access-log
// sink (Options.BreakerAccessLogAddress).
const ClusterBreakerAccessLog = "apigw.breakers"

// AccessLogOff as Options.AccessLogAddress configures no gRPC access log.
const AccessLogOff = "off"

// The gRPC access logger batches entries per Envoy worker and sends them
// when the batch reaches accessLogBufferBytes or every accessLogFlush
// (Envoy's own defaults, written out so that the goldens say them).
const (
	accessLogFlush       = time.Second
	accessLogBufferBytes = 16384
	grpcAccessLogName    = "envoy.access_loggers.http_grpc"
)

// hcmObservability is what every HCM gets for access logs and tracing;
// it depends on the instance settings and the options only.
type hcmObservability struct {
	accessLog []*accesslogv3.AccessLog
	tracing   *hcmv3.HttpConnectionManager_Tracing
}

func (o *hcmObservability) apply(h *hcmv3.HttpConnectionManager) {
	if o == nil {
		return
	}
	h.AccessLog = o.accessLog
	h.Tracing = o.tracing
}

// observability builds the access loggers and tracing of an instance's
// HCMs.
func observability(inst string, cfg *apigwv1.InstanceConfig, kafkaReq, kafkaResp []string, opts Options) (*hcmObservability, error) {
	o := &hcmObservability{}
	if opts.AccessLogAddress != AccessLogOff {
		al, err := grpcAccessLog(ClusterAccessLog, kafkaReq, kafkaResp)
		if err != nil {
			return nil, err
		}
		o.accessLog = append(o.accessLog, al)
	}
	// The breaker sink reads no headers: the kafka_log plug-ins'
	// headers go to the access-log service only.
	if opts.BreakerAccessLogAddress != "" {
		al, err := grpcAccessLog(ClusterBreakerAccessLog, nil, nil)
		if err != nil {
			return nil, err
		}
		o.accessLog = append(o.accessLog, al)
	}
	tr, err := tracing(inst, cfg.GetTracing())
	if err != nil {
		return nil, err
	}
	o.tracing = tr
	if a := cfg.GetAccessLog(); a.GetEnabled() {
		al, err := lineAccessLog(a)
		if err != nil {
			return nil, err
		}
		o.accessLog = append(o.accessLog, al)
	}
	return o, nil
}

// lineAccessLog writes one JSON line per request with the instance's
// fields (model/dataplane.AccessLogFields) and custom request values
// (custom_data_log01..10) to Envoy's standard output, standard error or a
// file.
func lineAccessLog(a *apigwv1.AccessLogConfig) (*accesslogv3.AccessLog, error) {
	formats := map[string]string{}
	var defaults []string
	for _, f := range dataplane.AccessLogFields() {
		formats[f.Name] = f.Format
		if f.Default {
			defaults = append(defaults, f.Name)
		}
	}
	names := a.GetFields()
	if len(names) == 0 {
		names = defaults
	}
	fields := map[string]*structpb.Value{}
	for _, n := range names {
		f, ok := formats[n]
		if !ok {
			return nil, fmt.Errorf("access_log.fields: unknown field %q", n)
		}
		fields[n] = structpb.NewStringValue(f)
	}
	for i, cf := range a.GetCustomFields() {
		f := "%REQ(" + cf.GetName() + ")%"
		if cf.GetLocation() == model.LogFieldQuery {
			f = "%QUERY_PARAM(" + cf.GetName() + ")%"
		}
		fields[fmt.Sprintf("custom_data_log%02d", i+1)] = structpb.NewStringValue(f)
	}
	format := &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}}}
	var name string
	var cfg proto.Message
	switch p := a.GetPath(); p {
	case "", "/dev/stdout":
		name, cfg = "envoy.access_loggers.stdout", &streamalv3.StdoutAccessLog{AccessLogFormat: &streamalv3.StdoutAccessLog_LogFormat{LogFormat: format}}
	case "/dev/stderr":
		name, cfg = "envoy.access_loggers.stderr", &streamalv3.StderrAccessLog{AccessLogFormat: &streamalv3.StderrAccessLog_LogFormat{LogFormat: format}}
	default:
		name, cfg = "envoy.access_loggers.file", &filealv3.FileAccessLog{Path: p, AccessLogFormat: &filealv3.FileAccessLog_LogFormat{LogFormat: format}}
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	t, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &accesslogv3.AccessLog{Name: name, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: t}}, nil
}

// grpcAccessLog streams every request's entry to the access-log service
// (or the breaker sink) behind cluster.
// The route metadata naming the API (routeMetadata) is copied into custom
// tags; ext_authz's and the rate-limit service's dynamic metadata (app,
// user, APIG error) travel in common_properties.metadata, which Envoy
// always fills. The request and response headers the kafka_log plug-ins
// write are added to the entries (Envoy logs named headers only).
func grpcAccessLog(cluster string, reqHeaders, respHeaders []string) (*accesslogv3.AccessLog, error) {
	var tags []*tracingv3.CustomTag
	for _, t := range dataplane.AccessLogRouteTags() {
		tags = append(tags, &tracingv3.CustomTag{Tag: t[0], Type: &tracingv3.CustomTag_Metadata_{Metadata: &tracingv3.CustomTag_Metadata{
			Kind: &metadatav3.MetadataKind{Kind: &metadatav3.MetadataKind_Route_{Route: &metadatav3.MetadataKind_Route{}}},
			MetadataKey: &metadatav3.MetadataKey{Key: dataplane.AccessLogRouteNamespace, Path: []*metadatav3.MetadataKey_PathSegment{
				{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: t[1]}},
			}},
		}}})
	}
	cfg := &grpcalsv3.HttpGrpcAccessLogConfig{CommonConfig: &grpcalsv3.CommonGrpcAccessLogConfig{
		LogName: dataplane.AccessLogName,
		// No timeout: the stream lives as long as the connection.
		GrpcService:         &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}}},
		TransportApiVersion: corev3.ApiVersion_V3,
		BufferFlushInterval: durationpb.New(accessLogFlush),
		BufferSizeBytes:     wrapperspb.UInt32(accessLogBufferBytes),
		CustomTags:          tags,
	}, AdditionalRequestHeadersToLog: reqHeaders, AdditionalResponseHeadersToLog: respHeaders}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &accesslogv3.AccessLog{Name: grpcAccessLogName, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: a}}, nil
}

// fallbackMetadata names the instance, group and error of a group's
// fallback route (no API) for the access logs.
func fallbackMetadata(inst, groupID, errorCode string) *corev3.Metadata {
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{dataplane.AccessLogRouteNamespace: {Fields: map[string]*structpb.Value{
		dataplane.AccessLogRouteInstance:  structpb.NewStringValue(inst),
		dataplane.AccessLogRouteGroup:     structpb.NewStringValue(groupID),
		dataplane.AccessLogRouteErrorCode: structpb.NewStringValue(errorCode),
	}}}}
}
