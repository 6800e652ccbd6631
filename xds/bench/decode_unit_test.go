package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// The field numbers leanDecode reads are those of Envoy's messages.
func TestLeanFieldNumbers(t *testing.T) {
	for _, c := range []struct {
		m     proto.Message
		field string
		num   protowire.Number
	}{
		{&clusterv3.Cluster{}, "name", fClusterName},
		{&clusterv3.Cluster{}, "type", fClusterType},
		{&clusterv3.Cluster{}, "eds_cluster_config", fClusterEdsConfig},
		{&clusterv3.Cluster_EdsClusterConfig{}, "service_name", fEdsConfigServiceName},
		{&listenerv3.Listener{}, "name", fListenerName},
		{&listenerv3.Listener{}, "filter_chains", fListenerFilterChains},
		{&listenerv3.FilterChain{}, "filters", fFilterChainFilters},
		{&listenerv3.FilterChain{}, "transport_socket", fFilterChainTransport},
		{&listenerv3.Filter{}, "typed_config", fFilterTypedConfig},
		{&corev3.TransportSocket{}, "typed_config", fTransportTypedConfig},
		{&anypb.Any{}, "type_url", fAnyTypeURL},
		{&anypb.Any{}, "value", fAnyValue},
		{&hcmv3.HttpConnectionManager{}, "rds", fHCMRds},
		{&hcmv3.HttpConnectionManager{}, "scoped_routes", fHCMScopedRoutes},
		{&hcmv3.Rds{}, "route_config_name", fRdsRouteConfigName},
		{&tlsv3.DownstreamTlsContext{}, "common_tls_context", fDownstreamTLSCommon},
		{&tlsv3.CommonTlsContext{}, "tls_certificate_sds_secret_configs", fCommonTLSSdsCerts},
		{&tlsv3.SdsSecretConfig{}, "name", fSdsSecretConfigName},
		{&routev3.ScopedRouteConfiguration{}, "name", fScopeName},
		{&routev3.ScopedRouteConfiguration{}, "route_configuration_name", fScopeRouteConfigName},
	} {
		d := c.m.ProtoReflect().Descriptor()
		fd := d.Fields().ByName(protoreflect.Name(c.field))
		if fd == nil || fd.Number() != c.num {
			t.Errorf("%s.%s: field %v, the lean decoder reads %d", d.FullName(), c.field, fd, c.num)
		}
	}
	if clusterv3.Cluster_EDS != clusterTypeEDS {
		t.Errorf("Cluster.EDS is %d, the lean decoder reads %d", clusterv3.Cluster_EDS, clusterTypeEDS)
	}
	if u := "type.googleapis.com/" + string((&hcmv3.HttpConnectionManager{}).ProtoReflect().Descriptor().FullName()); u != hcmTypeURL {
		t.Errorf("HCM type URL %s, the lean decoder reads %s", u, hcmTypeURL)
	}
	if u := "type.googleapis.com/" + string((&tlsv3.DownstreamTlsContext{}).ProtoReflect().Descriptor().FullName()); u != downstreamTLSTypeURL {
		t.Errorf("TLS context type URL %s, the lean decoder reads %s", u, downstreamTLSTypeURL)
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// handmade are resources of every shape the client follows: an EDS
// cluster with and without a service name, a static one, a listener with
// an RDS HCM on a TLS chain with two certificates, a scoped-routes
// listener, a scope.
func handmade(t *testing.T) map[string][]proto.Message {
	stat := func(rs *hcmv3.HttpConnectionManager) *hcmv3.HttpConnectionManager {
		rs.StatPrefix = "ingress"
		return rs
	}
	rds := stat(&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "https.g001"}}})
	scoped := stat(&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{Name: "scopes",
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
			Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{Name: ":authority"}}}}},
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{
			ScopedRdsConfigSource: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}},
	}}})
	tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "cert.a"}, {Name: "cert.b"}}}}
	return map[string][]proto.Message{
		resource.ClusterType: {
			&clusterv3.Cluster{Name: "eds.one", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
				EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: "service.one"}},
			&clusterv3.Cluster{Name: "eds.two", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}},
			&clusterv3.Cluster{Name: "static", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}},
		},
		resource.ListenerType: {
			&listenerv3.Listener{Name: "https", FilterChains: []*listenerv3.FilterChain{{
				Filters:         []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, rds)}}},
				TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, tls)}},
			}}},
			&listenerv3.Listener{Name: "http", FilterChains: []*listenerv3.FilterChain{{
				Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, scoped)}}},
			}}},
		},
		resource.ScopedRouteType: {&routev3.ScopedRouteConfiguration{Name: "scope.g001", RouteConfigurationName: "http.g001",
			Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{
				{Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: "g001.example.com"}}}}}},
	}
}

// translated are apigw's own resources for a small instance, in both
// routing modes.
func translated(t *testing.T) map[string][]proto.Message {
	in, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(3, 4))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]proto.Message{}
	for _, mode := range []string{translate.RoutingScoped, translate.RoutingSingle} {
		res, err := translate.Build(in, translate.Options{HTTPRouting: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Listeners {
			out[resource.ListenerType] = append(out[resource.ListenerType], l)
		}
		for _, c := range res.Clusters {
			out[resource.ClusterType] = append(out[resource.ClusterType], c)
		}
		for _, s := range res.Scopes {
			out[resource.ScopedRouteType] = append(out[resource.ScopedRouteType], s)
		}
		// Route configurations: a full client decodes and validates
		// them; a lean one streams them past.
		for _, rc := range append(res.Routes, res.SingleRoutes...) {
			b, err := proto.Marshal(rc)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := fullDecode(resource.RouteType, b); err != nil || d.name != rc.Name {
				t.Fatalf("%s: full decoding: %+v, %v", rc.Name, d, err)
			}
		}
	}
	return out
}

// The lean decoder finds the names the full decoder finds, on handmade
// resources of every shape and on apigw's translation.
func TestLeanDecodeMatchesFull(t *testing.T) {
	for source, byType := range map[string]map[string][]proto.Message{"handmade": handmade(t), "translated": translated(t)} {
		n := 0
		for typeURL, ms := range byType {
			for _, m := range ms {
				b, err := proto.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				full, err := fullDecode(typeURL, b)
				if err != nil {
					t.Fatalf("%s %s: full decoding: %v", source, typeURL, err)
				}
				lean, err := leanDecode(typeURL, b)
				if err != nil {
					t.Fatalf("%s %s: lean decoding: %v", source, typeURL, err)
				}
				if fmt.Sprint(lean) != fmt.Sprint(full) {
					t.Errorf("%s %s:\nlean %+v\nfull %+v", source, typeURL, lean, full)
				}
				n++
			}
		}
		if n < 5 {
			t.Fatalf("%s: %d resources", source, n)
		}
	}
	hm := handmade(t)
	var got []decoded
	for _, typeURL := range []string{resource.ClusterType, resource.ListenerType, resource.ScopedRouteType} {
		for _, m := range hm[typeURL] {
			b, _ := proto.Marshal(m)
			d, _ := leanDecode(typeURL, b)
			got = append(got, d)
		}
	}
	want := []decoded{{name: "eds.one", eds: "service.one"}, {name: "eds.two", eds: "eds.two"}, {name: "static"},
		{name: "https", rds: []string{"https.g001"}, sds: []string{"cert.a", "cert.b"}}, {name: "http", scoped: true},
		{name: "scope.g001", routeConfig: "http.g001"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lean decoding:\n got %+v\nwant %+v", got, want)
	}
}

// A full client rejects what Envoy's constraints reject, inside Any
// fields too; a lean one rejects only what it cannot parse.
func TestFullDecodeValidates(t *testing.T) {
	noPrefix := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "r"}}} // stat_prefix is required
	l := &listenerv3.Listener{Name: "http", FilterChains: []*listenerv3.FilterChain{{
		Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, noPrefix)}}},
	}}}
	b, _ := proto.Marshal(l)
	if _, err := fullDecode(resource.ListenerType, b); err == nil || !strings.Contains(err.Error(), "StatPrefix") {
		t.Errorf("full decoding of an HCM without stat_prefix: %v, want a validation error", err)
	}
	if d, err := leanDecode(resource.ListenerType, b); err != nil || !slices.Equal(d.rds, []string{"r"}) {
		t.Errorf("lean decoding: %+v, %v", d, err)
	}
	rc, _ := proto.Marshal(&routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{{Name: "vh"}}}) // no domains
	if _, err := fullDecode(resource.RouteType, rc); err == nil {
		t.Error("a virtual host without domains passed validation")
	}
	if _, err := leanDecode(resource.ClusterType, []byte{0x0a, 0x05, 'a'}); err == nil {
		t.Error("a truncated cluster decoded")
	}
}

// scan finds the marker wherever the reader's buffer splits it, and
// leaves the reader after the message.
func TestScanAcrossBuffers(t *testing.T) {
	marker := []byte("/backend/g050-a0007/r1001")
	for _, size := range []int{16, 17, 40, 4096} {
		for at := 0; at < 120; at++ {
			body := bytes.Repeat([]byte("x/"), 60)
			msg := append(append(slices.Clone(body[:at]), marker...), body[at:]...)
			for _, with := range []bool{true, false} {
				m := msg
				if !with {
					m = append(slices.Clone(body[:at]), body[at:]...)
				}
				br := bufio.NewReaderSize(bytes.NewReader(append(slices.Clone(m), "NEXT"...)), size)
				l := &limited{br: br, n: int64(len(m))}
				found, err := l.scan(marker)
				if err != nil || found != with {
					t.Fatalf("buffer %d, marker at %d (present %v): found %v, %v", size, at, with, found, err)
				}
				if rest, _ := br.Peek(4); string(rest) != "NEXT" {
					t.Fatalf("buffer %d, marker at %d: reader left at %q", size, at, rest)
				}
			}
		}
	}
}
