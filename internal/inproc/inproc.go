// Package inproc calls a gRPC service implementation in the same process
// through the generated client: a grpc.ClientConnInterface whose unary
// calls go straight to the service's handlers (no network, no codec; the
// messages are copied so that neither side shares them). Interceptors of
// the server are not run: the caller has already been authenticated by
// the call that uses it.
package inproc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Conn is a connection to one service implementation.
type Conn struct {
	impl    any
	methods map[string]grpc.MethodHandler
}

var _ grpc.ClientConnInterface = (*Conn)(nil)

// New returns a connection to impl, which implements desc's service.
func New(desc *grpc.ServiceDesc, impl any) *Conn {
	c := &Conn{impl: impl, methods: map[string]grpc.MethodHandler{}}
	for _, m := range desc.Methods {
		c.methods["/"+desc.ServiceName+"/"+m.MethodName] = m.Handler
	}
	return c
}

// Invoke calls a unary method.
func (c *Conn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	h, ok := c.methods[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "inproc: method %s is not served", method)
	}
	in, ok := args.(proto.Message)
	if !ok {
		return fmt.Errorf("inproc: request %T is not a proto message", args)
	}
	out, err := h(c.impl, ctx, func(v any) error {
		m, ok := v.(proto.Message)
		if !ok {
			return fmt.Errorf("inproc: request %T is not a proto message", v)
		}
		proto.Merge(m, in)
		return nil
	}, nil)
	if err != nil {
		return err
	}
	r, ok := reply.(proto.Message)
	if !ok {
		return fmt.Errorf("inproc: response %T is not a proto message", reply)
	}
	proto.Reset(r)
	proto.Merge(r, out.(proto.Message))
	return nil
}

// NewStream is not supported: the services called in process are unary.
func (c *Conn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "inproc: streams are not supported")
}
