package bench

import (
	"context"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/apigw/apigw/xds/translate"
)

// envoy is a SotW ADS client that subscribes like Envoy (clusters,
// listeners, scopes, the group route configurations) and ACKs everything;
// it reports route responses that contain a marker.
type envoy struct {
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	routes []string
	marker chan string
	want   func() string
}

func connect(ctx context.Context, conn *grpc.ClientConn, id string, routes []string, want func() string) (*envoy, error) {
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	e := &envoy{stream: stream, routes: routes, marker: make(chan string, 1024), want: want}
	node := &corev3.Node{Id: id, Cluster: "default"}
	for i, t := range []string{resource.ClusterType, resource.ListenerType, resource.ScopedRouteType, resource.RouteType} {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: t}
		if i == 0 {
			req.Node = node
		}
		if t == resource.RouteType {
			req.ResourceNames = routes
		}
		if err := stream.Send(req); err != nil {
			return nil, err
		}
	}
	go e.loop()
	return e, nil
}

func (e *envoy) loop() {
	for {
		r, err := e.stream.Recv()
		if err != nil {
			close(e.marker)
			return
		}
		req := &discoveryv3.DiscoveryRequest{TypeUrl: r.TypeUrl, VersionInfo: r.VersionInfo, ResponseNonce: r.Nonce}
		if r.TypeUrl == resource.RouteType {
			req.ResourceNames = e.routes
			if m := e.want(); m != "" {
				for _, a := range r.Resources {
					if strings.Contains(string(a.Value), m) {
						e.marker <- m
						break
					}
				}
			}
		}
		if err := e.stream.Send(req); err != nil {
			return
		}
	}
}

func dialConn(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
}

func groupRoutes(groups int) []string {
	out := make([]string, groups)
	for g := range groups {
		out[g] = translate.RouteHTTPGroup(groupID(g))
	}
	return out
}
