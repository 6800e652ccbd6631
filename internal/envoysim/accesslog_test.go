package envoysim

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// alsRecorder keeps the messages of every stream.
type alsRecorder struct {
	alsv3.UnimplementedAccessLogServiceServer
	mu      sync.Mutex
	streams [][]*alsv3.StreamAccessLogsMessage
}

func (r *alsRecorder) StreamAccessLogs(st alsv3.AccessLogService_StreamAccessLogsServer) error {
	r.mu.Lock()
	i := len(r.streams)
	r.streams = append(r.streams, nil)
	r.mu.Unlock()
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return st.SendAndClose(&alsv3.StreamAccessLogsResponse{})
		}
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.streams[i] = append(r.streams[i], m)
		r.mu.Unlock()
	}
}

func (r *alsRecorder) messages() [][]*alsv3.StreamAccessLogsMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]*alsv3.StreamAccessLogsMessage(nil), r.streams...)
}

// The http_grpc logger batches entries and sends the identifier (node,
// log_name) on a stream's first message only; entries carry the dynamic
// metadata, custom tags from the route metadata, flags and timings.
func TestGRPCAccessLogShape(t *testing.T) {
	f := newSimFixture(t)
	rec := &alsRecorder{}
	addr := serveGRPC(t, func(s *grpc.Server) { alsv3.RegisterAccessLogServiceServer(s, rec) })
	cfg := f.envoy.src.Config()
	cfg.Clusters["als"] = staticCluster("als", addr)
	cfg.Routes["rc"].VirtualHosts[0].Routes[1].Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		"apigw": must(structpb.NewStruct(map[string]any{"api_id": "p1", "n": 2.0}))}}
	tag := func(name, key string) *tracingv3.CustomTag {
		return &tracingv3.CustomTag{Tag: name, Type: &tracingv3.CustomTag_Metadata_{Metadata: &tracingv3.CustomTag_Metadata{
			Kind:        &metadatav3.MetadataKind{Kind: &metadatav3.MetadataKind_Route_{Route: &metadatav3.MetadataKind_Route{}}},
			MetadataKey: &metadatav3.MetadataKey{Key: "apigw", Path: []*metadatav3.MetadataKey_PathSegment{{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: key}}}}}}}
	}
	logger := &grpcalsv3.HttpGrpcAccessLogConfig{CommonConfig: &grpcalsv3.CommonGrpcAccessLogConfig{
		LogName: "test.log", TransportApiVersion: corev3.ApiVersion_V3, BufferFlushInterval: durationpb.New(time.Hour),
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "als"}}},
		CustomTags:  []*tracingv3.CustomTag{tag("api", "api_id"), tag("n", "n"), tag("missing", "nope")},
	}, AdditionalRequestHeadersToLog: []string{"x-app"}}
	l := cfg.Listeners["l"]
	h := &hcmv3.HttpConnectionManager{}
	if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	h.AccessLog = []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.http_grpc", ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: anyOf(t, logger)}}}
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, h)}
	f.envoy.opts.Node = &corev3.Node{Id: "n1", Cluster: "default"}

	f.serve(t, &Request{Method: "GET", Path: "/p", Header: map[string][]string{"X-App": {"a1"}}})
	<-f.upGot
	f.serve(t, &Request{Method: "GET", Path: "/nope"})
	f.envoy.FlushAccessLogs()
	if r := f.serve(t, &Request{Method: "GET", Path: "/limited"}); r.Status != 429 {
		t.Fatalf("/limited: %v", r)
	}
	f.envoy.FlushAccessLogs()
	f.envoy.Close()

	streams := rec.messages()
	if len(streams) != 1 || len(streams[0]) != 2 {
		t.Fatalf("streams %d, messages %v", len(streams), streams)
	}
	first, second := streams[0][0], streams[0][1]
	if id := first.GetIdentifier(); id.GetLogName() != "test.log" || id.GetNode().GetId() != "n1" {
		t.Errorf("first identifier %v", id)
	}
	if second.GetIdentifier() != nil {
		t.Errorf("second message carries an identifier: %v", second.GetIdentifier())
	}
	entries := first.GetHttpLogs().GetLogEntry()
	if len(entries) != 2 || len(second.GetHttpLogs().GetLogEntry()) != 1 {
		t.Fatalf("batches of %d and %d entries", len(entries), len(second.GetHttpLogs().GetLogEntry()))
	}
	ok, nr := entries[0].GetCommonProperties(), entries[1].GetCommonProperties()
	if ok.GetCustomTags()["api"] != "p1" || ok.GetCustomTags()["n"] != "2" || len(ok.GetCustomTags()) != 2 {
		t.Errorf("custom tags %v", ok.GetCustomTags())
	}
	if ok.GetMetadata().GetFilterMetadata()[extAuthzNamespace].GetFields()["app_id"].GetStringValue() != "a1" {
		t.Errorf("dynamic metadata %v", ok.GetMetadata())
	}
	if ok.GetTimeToFirstUpstreamTxByte() == nil || ok.GetTimeToLastUpstreamRxByte().AsDuration() < ok.GetTimeToFirstUpstreamTxByte().AsDuration() ||
		ok.GetDuration().AsDuration() < ok.GetTimeToLastUpstreamRxByte().AsDuration() || ok.GetUpstreamCluster() != "up" || ok.GetRouteName() != "p" {
		t.Errorf("timings %v", ok)
	}
	if entries[0].GetRequest().GetRequestHeaders()["x-app"] != "a1" || entries[0].GetResponse().GetResponseCode().GetValue() != 200 {
		t.Errorf("request %v response %v", entries[0].GetRequest(), entries[0].GetResponse())
	}
	if !nr.GetResponseFlags().GetNoRouteFound() || nr.GetTimeToFirstUpstreamTxByte() != nil || len(nr.GetCustomTags()) != 0 || entries[1].GetResponse().GetResponseCodeDetails() != "route_not_found" {
		t.Errorf("no-route entry %v", entries[1])
	}
}
