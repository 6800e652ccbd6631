package ads

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wire is a discovery response encoded once and shared by every stream
// that sends it: with the codec of GRPCOptions, gRPC writes its bytes
// without copying them. Any other codec sees the proto message it wraps.
type wire struct {
	msg  protov2.Message
	data []byte
	// nonce, version and names describe the response for the stream.
	nonce, version string
}

// ProtoReflect makes a wire a proto message for codecs and interceptors
// that do not know it.
func (w *wire) ProtoReflect() protoreflect.Message { return w.msg.ProtoReflect() }

// Response returns the response as sent: a *DiscoveryResponse or a
// *DeltaDiscoveryResponse, for interceptors that inspect what a stream
// sends (SendMsg receives a wire). Streams share it: never modify it.
func (w *wire) Response() protov2.Message { return w.msg }

func newWire(m protov2.Message, nonce, version string) (*wire, error) {
	data, err := protov2.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &wire{msg: m, data: data, nonce: nonce, version: version}, nil
}

// codec is gRPC's proto codec, except that it sends a wire's bytes as
// they are.
type codec struct{ base encoding.CodecV2 }

func newCodec() codec { return codec{base: encoding.GetCodecV2(proto.Name)} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if w, ok := v.(*wire); ok {
		// A SliceBuffer is never pooled nor freed: the shared bytes stay
		// intact whatever the transport does with the slice.
		return mem.BufferSlice{mem.SliceBuffer(w.data)}, nil
	}
	return c.base.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error { return c.base.Unmarshal(data, v) }

func (c codec) Name() string { return c.base.Name() }
