package ads

import (
	"context"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type (
	sotwStream  = grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]
	deltaStream = grpc.BidiStreamingServer[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]
)

func errREST() error {
	return status.Error(codes.Unimplemented, "apigw serves xDS over gRPC streams only")
}

// ads is the aggregated discovery service.
type ads struct{ s *Server }

func (a ads) StreamAggregatedResources(st sotwStream) error { return a.s.serve(st, false, "") }
func (a ads) DeltaAggregatedResources(st deltaStream) error { return a.s.serve(st, true, "") }

// The per-type services serve one type each.
type (
	cds  struct{ s *Server }
	eds  struct{ s *Server }
	lds  struct{ s *Server }
	rds  struct{ s *Server }
	srds struct{ s *Server }
	sds  struct{ s *Server }
)

func (x cds) StreamClusters(st sotwStream) error { return x.s.serve(st, false, resource.ClusterType) }
func (x cds) DeltaClusters(st deltaStream) error { return x.s.serve(st, true, resource.ClusterType) }
func (cds) FetchClusters(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}

func (x eds) StreamEndpoints(st sotwStream) error { return x.s.serve(st, false, resource.EndpointType) }
func (x eds) DeltaEndpoints(st deltaStream) error { return x.s.serve(st, true, resource.EndpointType) }
func (eds) FetchEndpoints(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}

func (x lds) StreamListeners(st sotwStream) error { return x.s.serve(st, false, resource.ListenerType) }
func (x lds) DeltaListeners(st deltaStream) error { return x.s.serve(st, true, resource.ListenerType) }
func (lds) FetchListeners(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}

func (x rds) StreamRoutes(st sotwStream) error { return x.s.serve(st, false, resource.RouteType) }
func (x rds) DeltaRoutes(st deltaStream) error { return x.s.serve(st, true, resource.RouteType) }
func (rds) FetchRoutes(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}

func (x srds) StreamScopedRoutes(st sotwStream) error {
	return x.s.serve(st, false, resource.ScopedRouteType)
}
func (x srds) DeltaScopedRoutes(st deltaStream) error {
	return x.s.serve(st, true, resource.ScopedRouteType)
}
func (srds) FetchScopedRoutes(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}

func (x sds) StreamSecrets(st sotwStream) error { return x.s.serve(st, false, resource.SecretType) }
func (x sds) DeltaSecrets(st deltaStream) error { return x.s.serve(st, true, resource.SecretType) }
func (sds) FetchSecrets(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errREST()
}
