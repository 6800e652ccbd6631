package extauth

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The codec writes what proto.Marshal writes: the same message once
// decoded, the same size, the same bytes where protobuf's order is fixed
// (one metadata entry), and an error where protobuf has one.
func TestCodecWritesCheckResponsesAsProtobuf(t *testing.T) {
	nested, _ := structpb.NewStruct(map[string]any{"a": "b", "n": 1.5, "l": []any{"x", true}})
	meta := func(kv map[string]*structpb.Value) *structpb.Struct { return &structpb.Struct{Fields: kv} }
	withUnknown := structpb.NewStringValue("u")
	withUnknown.ProtoReflect().SetUnknown(protoUnknown())
	ok := &authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-app-id", Value: "app1"}, Append: wrapperspb.Bool(false)}},
		HeadersToRemove: []string{"authorization"}, QueryParametersToSet: []*corev3.QueryParameter{{Key: "q", Value: "1"}}}
	cases := map[string]*authv3.CheckResponse{
		"empty":       {},
		"ok":          {Status: &rpcstatus.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok}},
		"empty ok":    {Status: &rpcstatus.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{}}},
		"nil ok":      {HttpResponse: &authv3.CheckResponse_OkResponse{}},
		"denied":      {Status: &rpcstatus.Status{Code: 7, Message: "APIG.0303"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: 401}, Body: `{"e":1}`}}},
		"error":       {HttpResponse: &authv3.CheckResponse_ErrorResponse{ErrorResponse: &authv3.DeniedHttpResponse{Body: "x"}}},
		"one entry":   {Status: &rpcstatus.Status{}, DynamicMetadata: meta(map[string]*structpb.Value{"app_id": structpb.NewStringValue("app1")})},
		"empty meta":  {DynamicMetadata: &structpb.Struct{}},
		"zero values": {DynamicMetadata: meta(map[string]*structpb.Value{"s": structpb.NewStringValue(""), "n": structpb.NewNumberValue(0), "b": structpb.NewBoolValue(false), "z": structpb.NewNullValue(), "k": {}})},
		"kinds": {Status: &rpcstatus.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok}, DynamicMetadata: meta(map[string]*structpb.Value{
			"app_id": structpb.NewStringValue("app1"), "status": structpb.NewNumberValue(405), "t": structpb.NewBoolValue(true),
			"nested": structpb.NewStructValue(nested), "list": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("é")}}),
			"unknown": withUnknown, "": structpb.NewStringValue("empty key")})},
		"nil value":      {DynamicMetadata: meta(map[string]*structpb.Value{"v": nil})},
		"bad utf8 value": {DynamicMetadata: meta(map[string]*structpb.Value{"v": structpb.NewStringValue("\xff")})},
		"bad utf8 key":   {DynamicMetadata: meta(map[string]*structpb.Value{"\xff": structpb.NewStringValue("v")})},
		"bad utf8 body":  {HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "k", Value: "\xfe"}}}}}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			want, wantErr := proto.Marshal(r)
			got, err := appendCheckResponse(nil, r)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, protobuf's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if len(got) != len(want) {
				t.Fatalf("%d bytes, protobuf writes %d", len(got), len(want))
			}
			var back authv3.CheckResponse
			if err := proto.Unmarshal(got, &back); err != nil || !proto.Equal(&back, r) {
				t.Fatalf("decoded %v (%v), want %v", &back, err, r)
			}
			if len(r.GetDynamicMetadata().GetFields()) <= 1 && !bytes.Equal(got, want) {
				t.Fatalf("bytes %x, protobuf writes %x", got, want)
			}
		})
	}
}

// protoUnknown is an unknown field: number 99, varint 1.
func protoUnknown() []byte { return []byte{0x98, 0x06, 0x01} }

// BenchmarkCodec compares the codec with proto.Marshal on the answer of
// an allowed APP check (one mapped header, four metadata values).
func BenchmarkCodec(b *testing.B) {
	r := &authv3.CheckResponse{Status: &rpcstatus.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
		Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "X-App-Id", Value: "app1"}, Append: wrapperspb.Bool(false)}}}},
		DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"api_id": structpb.NewStringValue("api-sig"), "env_id": structpb.NewStringValue("RELEASE"),
			"app_id": structpb.NewStringValue("app1"), "client_ip": structpb.NewStringValue("10.1.2.3")}}}
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendCheckResponse(nil, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("protobuf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
