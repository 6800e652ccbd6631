package extauth

import (
	"math"
	"unicode/utf8"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// ServerOptions returns the options the ext_authz gRPC server is served
// with: a codec that writes a CheckResponse's dynamic metadata (a Struct)
// itself. Encoding a Struct's map through protobuf's reflection costs as
// much as the rest of an allowed check; the codec writes the same bytes
// for string, number, boolean and null values, and leaves everything else
// to protobuf.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodecV2(codec{base: encoding.GetCodecV2(grpcproto.Name)})}
}

type codec struct{ base encoding.CodecV2 }

func (codec) Name() string { return grpcproto.Name }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*authv3.CheckRequest); ok && checkRequestFields {
		var b []byte
		if len(data) == 1 {
			b = data[0].ReadOnlyData()
		} else {
			buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
			defer buf.Free()
			b = buf.ReadOnlyData()
		}
		if decodeCheckRequest(b, r) {
			return nil
		}
		proto.Reset(r)
	}
	return c.base.Unmarshal(data, v)
}

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	r, ok := v.(*authv3.CheckResponse)
	if !ok || !checkResponseFields || r.ProtoReflect().GetUnknown() != nil {
		return c.base.Marshal(v)
	}
	b, err := appendCheckResponse(nil, r)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Field numbers of envoy.service.auth.v3.CheckResponse and
// google.protobuf.Struct / Value.
const (
	respStatus          = 1
	respDenied          = 2
	respOK              = 3
	respDynamicMetadata = 4
	respError           = 5

	structFields = 1
	entryKey     = 1
	entryValue   = 2

	valueNull   = 1
	valueNumber = 2
	valueString = 3
	valueBool   = 4
)

// checkResponseFields is whether CheckResponse has the fields the codec
// writes, and no other (a later version of the API could add some).
var checkResponseFields = func() bool {
	fields := (&authv3.CheckResponse{}).ProtoReflect().Descriptor().Fields()
	if fields.Len() != 5 {
		return false
	}
	for _, n := range []protowire.Number{respStatus, respDenied, respOK, respDynamicMetadata, respError} {
		if fields.ByNumber(n) == nil {
			return false
		}
	}
	return true
}()

// appendCheckResponse appends r's encoding, the one proto.Marshal makes
// (but for the order of map entries, which protobuf leaves open).
func appendCheckResponse(b []byte, r *authv3.CheckResponse) ([]byte, error) {
	var err error
	if r.Status != nil {
		if b, err = appendMessage(b, respStatus, r.Status); err != nil {
			return nil, err
		}
	}
	switch hr := r.HttpResponse.(type) {
	case *authv3.CheckResponse_DeniedResponse:
		b, err = appendMessage(b, respDenied, hr.DeniedResponse)
	case *authv3.CheckResponse_OkResponse:
		b, err = appendMessage(b, respOK, hr.OkResponse)
	case *authv3.CheckResponse_ErrorResponse:
		b, err = appendMessage(b, respError, hr.ErrorResponse)
	}
	if err != nil {
		return nil, err
	}
	if m := r.DynamicMetadata; m != nil {
		if !plainStruct(m) {
			return appendMessage(b, respDynamicMetadata, m)
		}
		b = protowire.AppendVarint(protowire.AppendTag(b, respDynamicMetadata, protowire.BytesType), uint64(structSize(m)))
		for k, v := range m.Fields {
			b = protowire.AppendVarint(protowire.AppendTag(b, structFields, protowire.BytesType), uint64(entrySize(k, v)))
			b = protowire.AppendString(protowire.AppendTag(b, entryKey, protowire.BytesType), k)
			b = protowire.AppendVarint(protowire.AppendTag(b, entryValue, protowire.BytesType), uint64(valueSize(v)))
			if b, err = appendValue(b, v); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// appendMessage appends field num holding m (present even when m is
// nil or empty, as protobuf writes a set message field).
func appendMessage(b []byte, num protowire.Number, m proto.Message) ([]byte, error) {
	b = protowire.AppendVarint(protowire.AppendTag(b, num, protowire.BytesType), uint64(proto.Size(m)))
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
}

// plainStruct reports whether the codec writes m itself: no unknown
// fields, UTF-8 keys (protobuf refuses others).
func plainStruct(m *structpb.Struct) bool {
	if m.ProtoReflect().GetUnknown() != nil {
		return false
	}
	for k := range m.Fields {
		if !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

func structSize(m *structpb.Struct) int {
	n := 0
	for k, v := range m.Fields {
		n += 1 + protowire.SizeBytes(entrySize(k, v))
	}
	return n
}

// entrySize is the size of a map entry: protobuf writes the value even
// when nil (as an empty message).
func entrySize(k string, v *structpb.Value) int {
	return 1 + protowire.SizeBytes(len(k)) + 1 + protowire.SizeBytes(valueSize(v))
}

// valueSize is the size of a Value: its kind, set even when zero (a
// oneof), or what protobuf makes of anything else.
func valueSize(v *structpb.Value) int {
	if v == nil {
		return 0
	}
	if v.ProtoReflect().GetUnknown() != nil {
		return proto.Size(v)
	}
	switch k := v.Kind.(type) {
	case nil:
		return 0
	case *structpb.Value_NullValue:
		return 1 + protowire.SizeVarint(uint64(k.NullValue))
	case *structpb.Value_NumberValue:
		return 1 + protowire.SizeFixed64()
	case *structpb.Value_StringValue:
		return 1 + protowire.SizeBytes(len(k.StringValue))
	case *structpb.Value_BoolValue:
		return 1 + protowire.SizeVarint(protowire.EncodeBool(k.BoolValue))
	}
	return proto.Size(v)
}

func appendValue(b []byte, v *structpb.Value) ([]byte, error) {
	if v == nil {
		return b, nil
	}
	if v.ProtoReflect().GetUnknown() != nil {
		return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, v)
	}
	switch k := v.Kind.(type) {
	case nil:
		return b, nil
	case *structpb.Value_NullValue:
		return protowire.AppendVarint(protowire.AppendTag(b, valueNull, protowire.VarintType), uint64(k.NullValue)), nil
	case *structpb.Value_NumberValue:
		return protowire.AppendFixed64(protowire.AppendTag(b, valueNumber, protowire.Fixed64Type), math.Float64bits(k.NumberValue)), nil
	case *structpb.Value_StringValue:
		if !utf8.ValidString(k.StringValue) {
			return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, v) // protobuf's error
		}
		return protowire.AppendString(protowire.AppendTag(b, valueString, protowire.BytesType), k.StringValue), nil
	case *structpb.Value_BoolValue:
		return protowire.AppendVarint(protowire.AppendTag(b, valueBool, protowire.VarintType), protowire.EncodeBool(k.BoolValue)), nil
	}
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, v)
}
