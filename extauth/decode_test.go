package extauth

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func envoyPeer(ip string, port uint32) *authv3.AttributeContext_Peer {
	return &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}}
}

// envoyCheckRequest is a CheckRequest as Envoy's ext_authz filter sends it
// for an HTTP request, with every field the fast decoder reads.
func envoyCheckRequest() *authv3.CheckRequest {
	src := envoyPeer("203.0.113.7", 50123)
	src.Principal, src.Certificate, src.Service = "spiffe://c/client", "-----BEGIN CERTIFICATE-----", "svc"
	src.Labels = map[string]string{"l": "v"}
	src.Address.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: src, Destination: envoyPeer("10.0.0.2", 8080),
		Request: &authv3.AttributeContext_Request{Time: &timestamppb.Timestamp{Seconds: 1764892800, Nanos: 123456789},
			Http: &authv3.AttributeContext_HttpRequest{Id: "1234567890", Method: "POST",
				Headers: map[string]string{":authority": "api.example.com", ":method": "POST", ":path": "/items/42?b=2&a=1",
					"authorization": "SDK-HMAC-SHA256 Access=k, SignedHeaders=host;x-sdk-date, Signature=abc", "x-sdk-date": "20261205T000000Z", "empty": ""},
				Path: "/items/42?b=2&a=1", Host: "api.example.com", Scheme: "https", Query: "b=2&a=1", Fragment: "f",
				Size: 11, Protocol: "HTTP/1.1", Body: "hello world", RawBody: []byte("hello world")}},
		ContextExtensions: map[string]string{"api": "api-1", "env": "RELEASE", "instance": "default"},
		// Envoy always sends both metadata contexts, empty unless metadata
		// was set.
		MetadataContext:      &corev3.Metadata{},
		RouteMetadataContext: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"apigw": {Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("v")}}}},
		TlsSession:           &authv3.AttributeContext_TLSSession{Sni: "api.example.com"},
	}}
}

// A request as Envoy sends it decodes on the fast path into exactly what
// protobuf decodes.
func TestDecodeCheckRequestMatchesProtobuf(t *testing.T) {
	if !checkRequestFields {
		t.Fatal("the generated CheckRequest lacks the fields the decoder reads")
	}
	for name, req := range map[string]*authv3.CheckRequest{
		"full":  envoyCheckRequest(),
		"empty": {},
		"raw headers": func() *authv3.CheckRequest {
			r := envoyCheckRequest()
			h := r.Attributes.Request.Http
			for k, v := range h.Headers {
				h.HeaderMap = &corev3.HeaderMap{Headers: append(h.GetHeaderMap().GetHeaders(), &corev3.HeaderValue{Key: k, RawValue: []byte(v)})}
			}
			h.HeaderMap.Headers = append(h.HeaderMap.Headers, &corev3.HeaderValue{Key: "x-both", Value: "v", RawValue: []byte{0xff, 0}})
			h.Headers = nil
			return r
		}(),
		"minimal": {Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/"}}}},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var got authv3.CheckRequest
		if !decodeCheckRequest(b, &got) {
			t.Errorf("%s: the request Envoy sends left the fast path", name)
			continue
		}
		if !proto.Equal(&got, req) {
			t.Errorf("%s: decoded\n%v\nwant\n%v", name, &got, req)
		}
	}
}

// What the fast path does not know is decoded by protobuf: the codec's
// result is always protobuf's, unknown fields included.
func TestDecodeCheckRequestFallsBack(t *testing.T) {
	withMeta := envoyCheckRequest()
	withMeta.Attributes.Source.Address = &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: "/run/s"}}}
	base, _ := proto.Marshal(envoyCheckRequest())
	unknown := protowire.AppendTag(append([]byte{}, base...), 99, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte("x"))
	pipe, _ := proto.Marshal(withMeta)
	badUTF8 := protowire.AppendTag(nil, 1, protowire.BytesType)
	inner := protowire.AppendTag(nil, 10, protowire.BytesType)
	inner = protowire.AppendBytes(inner, protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff}))
	badUTF8 = protowire.AppendBytes(badUTF8, inner)
	c := codec{base: encoding.GetCodecV2(grpcproto.Name)}
	for name, b := range map[string][]byte{"unknown field": unknown, "pipe address": pipe, "invalid utf-8": badUTF8, "truncated": base[:len(base)-3]} {
		var fast authv3.CheckRequest
		if decodeCheckRequest(b, &fast) {
			t.Errorf("%s: took the fast path", name)
		}
		var got, want authv3.CheckRequest
		errGot := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &got)
		errWant := proto.Unmarshal(b, &want)
		if (errGot == nil) != (errWant == nil) || !proto.Equal(&got, &want) {
			t.Errorf("%s: codec gave %v (%v), protobuf %v (%v)", name, &got, errGot, &want, errWant)
		}
	}
}

// FuzzDecodeCheckRequest: whatever the bytes, the fast path either gives
// up or gives what protobuf gives.
func FuzzDecodeCheckRequest(f *testing.F) {
	b, _ := proto.Marshal(envoyCheckRequest())
	f.Add(b)
	raw := envoyCheckRequest()
	raw.Attributes.Request.Http.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: ":path", RawValue: []byte("/a")}, {Key: "x", Value: "y"}}}
	b, _ = proto.Marshal(raw)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast authv3.CheckRequest
		if !decodeCheckRequest(b, &fast) {
			return
		}
		var want authv3.CheckRequest
		if err := proto.Unmarshal(b, &want); err != nil {
			t.Fatalf("fast path accepted what protobuf refuses: %v", err)
		}
		if !proto.Equal(&fast, &want) {
			t.Fatalf("fast path gave\n%v\nprotobuf\n%v", &fast, &want)
		}
	})
}

// BenchmarkDecodeCheckRequest compares the fast path with protobuf on the
// request Envoy sends.
func BenchmarkDecodeCheckRequest(b *testing.B) {
	data, _ := proto.Marshal(envoyCheckRequest())
	b.Run("protobuf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r authv3.CheckRequest
			if err := proto.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r authv3.CheckRequest
			if !decodeCheckRequest(data, &r) {
				b.Fatal("fast path refused")
			}
		}
	})
}
