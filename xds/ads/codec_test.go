package ads

import (
	"bytes"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestCodecSendsSharedBytes: the xDS codec hands gRPC a response's
// shared bytes themselves (no copy per stream); a codec that does not
// know the wire type still encodes the same message.
func TestCodecSendsSharedBytes(t *testing.T) {
	resp := &discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: "t", Nonce: "7", Resources: []*anypb.Any{{TypeUrl: "t", Value: []byte("payload")}}}
	w, err := newWire(resp, "7", "v1")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := newCodec().Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || &bs[0].ReadOnlyData()[0] != &w.data[0] {
		t.Fatal("the codec copied the shared response")
	}
	bs.Free() // what gRPC does after writing: the shared bytes survive
	if !bytes.Equal(w.data, mustMarshal(t, resp)) {
		t.Fatal("shared bytes changed")
	}
	plain, err := encoding.GetCodecV2(proto.Name).Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.Materialize(), w.data) {
		t.Fatal("the default codec encodes a wire differently")
	}
	if got, ok := any(w).(interface{ Response() protov2.Message }); !ok || got.Response() != resp {
		t.Fatal("interceptors cannot get the response of a wire")
	}
	var back discoveryv3.DiscoveryResponse
	if err := newCodec().Unmarshal(plain, &back); err != nil || back.Nonce != "7" || len(back.Resources) != 1 {
		t.Fatalf("round trip: %v %v", err, &back)
	}
}

func mustMarshal(t *testing.T, m *discoveryv3.DiscoveryResponse) []byte {
	t.Helper()
	bs, err := encoding.GetCodecV2(proto.Name).Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return bs.Materialize()
}
