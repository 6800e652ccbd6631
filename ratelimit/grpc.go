package ratelimit

import (
	"context"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
)

// serviceDesc is rlsv3's RateLimitService with a handler that reads the
// request and writes the response in their wire form (see wire.go).
var serviceDesc = grpc.ServiceDesc{
	ServiceName: rlsv3.RateLimitService_ServiceDesc.ServiceName,
	HandlerType: (*rlsv3.RateLimitServiceServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "ShouldRateLimit", Handler: shouldRateLimitHandler}},
	Streams:     []grpc.StreamDesc{},
	Metadata:    rlsv3.RateLimitService_ServiceDesc.Metadata,
}

// Register registers the service on a gRPC server. Interceptors see the
// request as a *wireRequest (a proto.Message whose reflection is that of
// an empty RateLimitRequest); unless WithRequestReuse is set, each
// request handed to them is left to them.
func (s *Service) Register(g *grpc.Server) { g.RegisterService(&serviceDesc, s) }

func shouldRateLimitHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*Service)
	in, _ := s.requests.Get().(*wireRequest)
	if in == nil {
		in = newWireRequest()
	}
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		out, err := s.shouldRateLimitWire(ctx, in)
		s.requests.Put(in)
		return out, err
	}
	out, err := interceptor(ctx, in, &s.info, s.wireHandler)
	if s.reuseRequests {
		// The interceptors keep no request (WithRequestReuse). A call
		// whose handler panicked and was recovered ends here too: the
		// next call's decoding resets the request.
		s.requests.Put(in)
	}
	return out, err
}

// handleWire is the handler interceptors call.
func (s *Service) handleWire(ctx context.Context, req any) (any, error) {
	return s.shouldRateLimitWire(ctx, req.(*wireRequest))
}

// shouldRateLimitWire is ShouldRateLimit on the wire forms.
func (s *Service) shouldRateLimitWire(ctx context.Context, in *wireRequest) (*wireResponse, error) {
	sc := s.scratch.Get().(*scratch)
	sc.call = &in.view
	s.decide(ctx, sc)
	out := newWireResponse(s.appendResponse(make([]byte, 0, 64+24*len(sc.call.descs)+len(sc.answer.body)), sc))
	sc.call = nil
	s.scratch.Put(sc)
	return out, nil
}
