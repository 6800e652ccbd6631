package translate

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/proto"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// The cache scope carries a hash of the content: any change of the
// content changes it (so old entries are never answered), the same
// content in another order of JSON fields does not.
func TestCacheContentHashFollowsTheContent(t *testing.T) {
	parse := func(s string) *apigwv1.ProxyCacheContent {
		t.Helper()
		v := &apigwv1.ProxyCacheContent{}
		if err := protojson.Unmarshal([]byte(s), v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := model.ProxyCacheContentHash(parse(`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`))
	if same := model.ProxyCacheContentHash(parse(`{"cache_http_status_and_ttl":[{"ttl":60,"http_status":[200]}],"cache_key":{"headers":["X-Tenant"]}}`)); same != base || base == "" {
		t.Errorf("same content, other field order: %q vs %q", same, base)
	}
	for _, other := range []string{
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":61}]}`,
		`{"cache_key":{"headers":["X-Other"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`,
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"client_cache_control":{"mode":"all"}}`,
	} {
		if h := model.ProxyCacheContentHash(parse(other)); h == base {
			t.Errorf("changed content %s keeps the hash %s", other, h)
		}
	}
	if got := cacheScope("r1", &cachePlan{content: base}); got != "r1;content="+base {
		t.Errorf("scope %q", got)
	}
}

// The cache's cluster is built like ext_authz's: same endpoint and, over
// mTLS, the same transport socket; an instance without proxy_cache
// plug-ins has neither the cluster nor the filter.
func TestProxyCacheClusterFollowsExtAuthz(t *testing.T) {
	pc := &apigwv1.Plugin{Id: "pc", PluginName: "pc", PluginType: model.PluginProxyCache, PluginScope: "global",
		PluginContent: `{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`}
	opts := Options{ExtAuthzAddress: "apigw:18001", RateLimitAddress: "10.0.0.5:18002", ExtAuthzTLS: true, EnvoyTLSDir: "/pki/envoy"}
	for _, withPlugin := range []bool{true, false} {
		objs := []proto.Message{&apigwv1.Instance{Name: "default"}}
		if withPlugin {
			objs = append(objs, pc)
		}
		res, err := Build(model.NewInstance("default", objs), opts)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*clusterv3.Cluster{}
		for _, cl := range res.Clusters {
			byName[cl.GetName()] = cl
		}
		cache, authz := byName[ClusterProxyCache], byName[ClusterExtAuthz]
		if !withPlugin {
			if cache != nil {
				t.Error("cache cluster without proxy_cache plug-ins")
			}
			continue
		}
		if cache == nil || authz == nil {
			t.Fatalf("clusters %v", byName)
		}
		if !proto.Equal(cache.GetTransportSocket(), authz.GetTransportSocket()) || cache.GetTransportSocket() == nil ||
			!proto.Equal(cache.GetLoadAssignment().GetEndpoints()[0], authz.GetLoadAssignment().GetEndpoints()[0]) {
			t.Errorf("cache cluster %v\next_authz cluster %v", cache, authz)
		}
	}
}
