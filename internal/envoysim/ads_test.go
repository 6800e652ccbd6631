package envoysim

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
)

func adsSnapshot(t *testing.T, version string, rc *routev3.RouteConfiguration) *cachev3.Snapshot {
	t.Helper()
	ads := &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads, RouteConfigName: "rc1"}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: filterRouter}}}
	tlsCtx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "s1", SdsConfig: ads}}}}
	l := &listenerv3.Listener{Name: "l1", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8443}}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters:         []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}},
			TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: anyOf(t, tlsCtx)}},
		}}}
	c := &clusterv3.Cluster{Name: "c1", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads, ServiceName: "c1"}}
	snap, err := cachev3.NewSnapshot(version, map[resourcev3.Type][]types.Resource{
		resourcev3.ClusterType:  {c},
		resourcev3.EndpointType: {&endpointv3.ClusterLoadAssignment{ClusterName: "c1"}},
		resourcev3.ListenerType: {l},
		resourcev3.RouteType:    {rc},
		resourcev3.SecretType:   {&tlsv3.Secret{Name: "s1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// The client subscribes to what listeners and clusters reference, ACKs
// valid responses and NACKs invalid ones (keeping the last good config).
func TestADSSubscribesAndNACKs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cache := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	good := &routev3.RouteConfiguration{Name: "rc1", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}}}}
	if err := cache.SetSnapshot(ctx, "n1", adsSnapshot(t, "1", good)); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, serverv3.NewServer(ctx, cache, nil))
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)

	a, err := Connect(ctx, lis.Addr().String(), &corev3.Node{Id: "n1", Cluster: "default"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	all := func(c *Config) error {
		if c.Routes["rc1"] == nil || c.Endpoints["c1"] == nil || c.Secrets["s1"] == nil || c.Listeners["l1"] == nil || c.Clusters["c1"] == nil {
			return errors.New("incomplete")
		}
		return nil
	}
	if _, err := a.WaitFor(wctx, all); err != nil {
		t.Fatal(err)
	}

	bad := &routev3.RouteConfiguration{Name: "rc1", VirtualHosts: []*routev3.VirtualHost{{Name: "vh"}}} // no domains: PGV rejects
	if err := cache.SetSnapshot(ctx, "n1", adsSnapshot(t, "2", bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitFor(wctx, func(*Config) error {
		if len(a.NACKs()) == 0 {
			return errors.New("no NACK yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := a.NACKs(); !strings.Contains(n[0], "Domains") && !strings.Contains(n[0], "domains") {
		t.Errorf("NACK: %v", n)
	}
	if got := a.Config().Routes["rc1"]; len(got.GetVirtualHosts()[0].GetDomains()) != 1 {
		t.Errorf("the rejected route configuration replaced the good one: %v", got)
	}
}
