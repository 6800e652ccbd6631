package deploy_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/translate"
)

// loadBootstrap decodes a bootstrap file strictly (unknown fields fail).
func loadBootstrap(t *testing.T, path string) *bootstrapv3.Bootstrap {
	t.Helper()
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseBootstrap(t, path, y)
}

func parseBootstrap(t *testing.T, path string, y []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(j, b); err != nil {
		t.Fatalf("%s: not an Envoy Bootstrap: %v", path, err)
	}
	return b
}

// adsEndpoint returns the host and port of a bootstrap's ADS server.
func adsEndpoint(t *testing.T, b *bootstrapv3.Bootstrap) (string, uint32) {
	t.Helper()
	svcs := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()
	if len(svcs) != 1 || svcs[0].GetEnvoyGrpc() == nil {
		t.Fatalf("ads_config must have one envoy_grpc service: %v", svcs)
	}
	name := svcs[0].GetEnvoyGrpc().GetClusterName()
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != name {
			continue
		}
		eps := c.GetLoadAssignment().GetEndpoints()
		if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
			t.Fatalf("cluster %s: want one endpoint", name)
		}
		sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
		return sa.GetAddress(), sa.GetPortValue()
	}
	t.Fatalf("ADS cluster %s is not a static cluster", name)
	return "", 0
}

func bootstrapFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("envoy/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("bootstraps: %v, want central and sidecar", files)
	}
	return files
}

// Every bootstrap is a valid Envoy Bootstrap that speaks ADS to apigw's
// xDS port over HTTP/2 as an Envoy of instance "default", keeps its admin
// on loopback, and leaves listeners and the ext_authz and rate-limit
// clusters to apigw's CDS/LDS.
func TestEnvoyBootstraps(t *testing.T) {
	cfg := defaults(t)
	for _, f := range bootstrapFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b := loadBootstrap(t, f)
			if err := envoysim.ValidateDeep(b); err != nil {
				t.Fatalf("invalid bootstrap: %v", err)
			}
			if b.GetNode().GetCluster() != model.DefaultInstance || b.GetNode().GetId() == "" {
				t.Errorf("node %v: cluster must be the instance %q", b.GetNode(), model.DefaultInstance)
			}
			ads := b.GetDynamicResources().GetAdsConfig()
			if ads.GetApiType() != corev3.ApiConfigSource_GRPC && ads.GetApiType() != corev3.ApiConfigSource_DELTA_GRPC || ads.GetTransportApiVersion() != corev3.ApiVersion_V3 {
				t.Errorf("ads_config %v: want GRPC or DELTA_GRPC, V3", ads)
			}
			for name, src := range map[string]*corev3.ConfigSource{"cds_config": b.GetDynamicResources().GetCdsConfig(), "lds_config": b.GetDynamicResources().GetLdsConfig()} {
				if src.GetAds() == nil || src.GetResourceApiVersion() != corev3.ApiVersion_V3 {
					t.Errorf("%s %v: want ADS, V3", name, src)
				}
			}
			if _, p := adsEndpoint(t, b); p != port(t, cfg.XDSAddr) {
				t.Errorf("ADS port %d, apigw serves xDS on %s", p, cfg.XDSAddr)
			}
			for _, c := range b.GetStaticResources().GetClusters() {
				switch c.GetName() {
				case translate.ClusterExtAuthz, translate.ClusterRateLimit:
					t.Errorf("static cluster %s clashes with the one apigw sends over CDS", c.GetName())
				}
			}
			adsCluster := b.GetStaticResources().GetClusters()[0]
			po := &httpv3.HttpProtocolOptions{}
			if err := adsCluster.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].UnmarshalTo(po); err != nil {
				t.Fatalf("ADS cluster: %v", err)
			}
			h2 := po.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
			if h2 == nil {
				t.Errorf("the ADS cluster must use HTTP/2 (gRPC)")
			}
			if ka := h2.GetConnectionKeepalive(); ka != nil && ka.GetInterval().AsDuration() < 30*time.Second {
				t.Errorf("keepalive every %v: apigw refuses pings more often than every 30s", ka.GetInterval().AsDuration())
			}
			if len(b.GetStaticResources().GetListeners()) > 0 {
				t.Errorf("static listeners: apigw sends the listeners over LDS")
			}
			admin := b.GetAdmin().GetAddress().GetSocketAddress().GetAddress()
			if ip := net.ParseIP(admin); ip == nil || !ip.IsLoopback() {
				t.Errorf("admin on %q: keep it on loopback", admin)
			}
		})
	}
}
