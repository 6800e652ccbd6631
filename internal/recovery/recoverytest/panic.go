// Package recoverytest registers a gRPC service whose handlers panic, to
// test that a server recovers from panics.
package recoverytest

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Service name and methods of the panicking service.
const (
	UnaryMethod  = "/apigw.test.Panic/Unary"
	StreamMethod = "/apigw.test.Panic/Stream"
)

// Register adds the panicking service to s.
func Register(s *grpc.Server) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "apigw.test.Panic",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Unary", Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := &emptypb.Empty{}
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(context.Context, any) (any, error) {
				var m map[string]int
				//lint:ignore SA5000 the panic is the point
				m["boom"]++ // a nil map write: a real runtime panic
				return &emptypb.Empty{}, nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: UnaryMethod}, h)
		}}},
		Streams: []grpc.StreamDesc{{StreamName: "Stream", ServerStreams: true, ClientStreams: true, Handler: func(any, grpc.ServerStream) error {
			panic("stream handler failed")
		}}},
	}, struct{}{})
}

// CallUnary calls the panicking unary method.
func CallUnary(ctx context.Context, conn grpc.ClientConnInterface) error {
	return conn.Invoke(ctx, UnaryMethod, &emptypb.Empty{}, &emptypb.Empty{})
}

// CallStream opens the panicking stream and returns the error it ends with.
func CallStream(ctx context.Context, conn grpc.ClientConnInterface) error {
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Stream", ServerStreams: true, ClientStreams: true}, StreamMethod)
	if err != nil {
		return err
	}
	if err := cs.SendMsg(&emptypb.Empty{}); err != nil {
		return cs.RecvMsg(&emptypb.Empty{})
	}
	return cs.RecvMsg(&emptypb.Empty{})
}
