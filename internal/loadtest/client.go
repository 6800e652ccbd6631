package loadtest

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Lean clients: the load client sends requests as any client does, but
// reads of each answer only the field the benchmark checks. A Go client
// decoding whole answers spends more CPU per call than a server answering
// a no-op (a Struct of dynamic metadata alone costs microseconds), and it
// shares the machine's CPUs with the servers measured; Envoy, the real
// client, decodes in C++ on its own CPUs. Every backend of a benchmark
// gets the same client.

// Raw is an answer's wire form.
type Raw struct{ B []byte }

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return encoding.GetCodecV2(proto.Name).Marshal(v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*Raw)
	if !ok {
		return errors.New("loadtest: lean answers are read into *Raw")
	}
	r.B = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return proto.Name }

// Invoke makes a unary call and returns the answer's wire form.
func Invoke(ctx context.Context, conn *grpc.ClientConn, method string, req any) (Raw, error) {
	var r Raw
	err := conn.Invoke(ctx, method, req, &r, grpc.ForceCodecV2(rawCodec{}))
	return r, err
}

// Varint returns the value of the first field num of a message as a
// varint (0 if absent, as proto3 leaves zeros out).
func Varint(b []byte, num protowire.Number) (uint64, error) {
	v, err := field(b, num, protowire.VarintType)
	if err != nil || v == nil {
		return 0, err
	}
	x, n := protowire.ConsumeVarint(v)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	return x, nil
}

// Message returns the bytes of field num (a message) of a message, nil
// if absent.
func Message(b []byte, num protowire.Number) ([]byte, error) {
	return field(b, num, protowire.BytesType)
}

// field returns the first field num of type typ: for a varint, its
// encoding; for bytes, its content.
func field(b []byte, num protowire.Number, typ protowire.Type) ([]byte, error) {
	for len(b) > 0 {
		n0, t, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if n0 == num && t == typ {
			if typ == protowire.BytesType {
				v, n := protowire.ConsumeBytes(b)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				return v, nil
			}
			return b, nil
		}
		if n = protowire.ConsumeFieldValue(n0, t, b); n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil, nil
}
