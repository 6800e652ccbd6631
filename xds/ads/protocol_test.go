package ads_test

import (
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// TestSharedResponses: Envoys in the same state get the same encoded
// response (same nonce: encoded once), SotW and delta; a later change
// gives each of them the same next response.
func TestSharedResponses(t *testing.T) {
	h := start(t)
	in := newInstance(t, model.DefaultInstance, 3)
	h.cache.Set(model.DefaultInstance, 1, build(t, in))
	var sotw []*xdstest.SotwClient
	for _, id := range []string{"a", "b", "c"} {
		c := xdstest.DialSotw(t, h.addr, id, model.DefaultInstance)
		c.Subscribe(resource.ClusterType)
		c.Subscribe(resource.RouteType, translate.RouteHTTP)
		sotw = append(sotw, c)
	}
	var delta []*xdstest.DeltaClient
	for _, id := range []string{"d1", "d2"} {
		c := xdstest.DialDelta(t, h.addr, id, model.DefaultInstance)
		c.Subscribe(resource.ClusterType)
		delta = append(delta, c)
	}
	recvAll := func() map[string][]string {
		nonces := map[string][]string{}
		for _, c := range sotw {
			for range 2 {
				r := c.Recv()
				nonces[r.TypeUrl] = append(nonces[r.TypeUrl], r.Nonce)
				c.Ack(r)
			}
		}
		for _, c := range delta {
			r := c.Recv()
			nonces["delta"] = append(nonces["delta"], r.Nonce)
			c.Ack(r)
		}
		return nonces
	}
	same := func(what string, nonces map[string][]string) {
		t.Helper()
		for typ, ns := range nonces {
			if len(slices.Compact(slices.Clone(ns))) != 1 {
				t.Errorf("%s: %s responses have nonces %v: not shared", what, typ, ns)
			}
		}
	}
	first := recvAll()
	same("initial", first)
	if first[resource.ClusterType][0] == first["delta"][0] {
		t.Error("SotW and delta share a nonce")
	}
	in = change(t, in, 10, 1) // a new backend: clusters and routes change
	h.cache.Set(model.DefaultInstance, 2, build(t, in))
	next := recvAll()
	same("after a change", next)
	if next[resource.ClusterType][0] == first[resource.ClusterType][0] {
		t.Error("the next response reused a nonce")
	}
}

// TestSotwScopesFullState: Envoy drops the routing scopes a SotW SRDS
// response leaves out, so any change resends them all; an instance with
// no scope still answers (Envoy finishes initializing on it).
func TestSotwScopesFullState(t *testing.T) {
	h := start(t)
	scope := func(host, rc string) *routev3.ScopedRouteConfiguration {
		return &routev3.ScopedRouteConfiguration{Name: host, RouteConfigurationName: rc}
	}
	h.cache.Set("inst", 1, &translate.Resources{})
	c := xdstest.DialSotw(t, h.addr, "e", "inst")
	c.Subscribe(resource.ScopedRouteType)
	r := c.Recv()
	if len(r.Resources) != 0 || r.VersionInfo == "" {
		t.Fatalf("first SRDS response %v at %q, want an empty one", names(t, r.Resources), r.VersionInfo)
	}
	c.Ack(r)
	h.cache.Set("inst", 2, &translate.Resources{Scopes: []*routev3.ScopedRouteConfiguration{scope("a", "rc"), scope("b", "rc"), scope("c", "rc")}})
	r = c.Recv()
	if got := names(t, r.Resources); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("scopes %v", got)
	}
	c.Ack(r)
	h.cache.Set("inst", 3, &translate.Resources{Scopes: []*routev3.ScopedRouteConfiguration{scope("a", "rc"), scope("b", "rc2")}})
	r = c.Recv()
	if got := names(t, r.Resources); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("scopes %v, want every remaining scope", got)
	}
}

// TestRejectedNotResentOnReconnect: an Envoy that rejected a version and
// reconnects while still running its previous configuration is not sent
// the rejected version again; one that starts afresh is.
func TestRejectedNotResentOnReconnect(t *testing.T) {
	h := start(t)
	in := newInstance(t, model.DefaultInstance, 3)
	h.cache.Set(model.DefaultInstance, 1, build(t, in))
	c := xdstest.DialSotw(t, h.addr, "envoy-r", model.DefaultInstance)
	c.Subscribe(resource.ClusterType)
	good := c.Recv()
	c.Ack(good)
	h.event(t, resource.ClusterType)
	in = change(t, in, 10, 1)
	h.cache.Set(model.DefaultInstance, 2, build(t, in))
	bad := c.Recv()
	c.Nack(bad, "rejected")
	h.event(t, resource.ClusterType)

	// Reconnect, running the good version.
	again := xdstest.DialSotwAs(t, h.addr, xdstest.Node("envoy-r", model.DefaultInstance, xdstest.EnvoyVersion))
	again.SendRaw(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType, VersionInfo: good.VersionInfo})
	again.Quiet(500 * time.Millisecond)
	// The next change is sent.
	in = change(t, in, 11, 1)
	h.cache.Set(model.DefaultInstance, 3, build(t, in))
	if r := again.Recv(); r.VersionInfo == bad.VersionInfo || !slices.Contains(names(t, r.Resources), "backend.http.10.0.0.12.8080") {
		t.Fatalf("after reconnecting, got %s %v", r.VersionInfo, names(t, r.Resources))
	}
	// A restarted Envoy (no version) gets what there is.
	h.cache.Set(model.DefaultInstance, 4, build(t, in))
	fresh := xdstest.DialSotwAs(t, h.addr, &corev3.Node{Id: "envoy-r", Cluster: model.DefaultInstance})
	fresh.Subscribe(resource.ClusterType)
	if r := fresh.Recv(); len(r.Resources) == 0 {
		t.Fatal("a restarted Envoy got nothing")
	}
}

// TestDeltaResubscribe: a resource unsubscribed and subscribed again is
// sent again; a removed one is reported removed.
func TestDeltaResubscribe(t *testing.T) {
	h := start(t)
	in := newInstance(t, model.DefaultInstance, 3)
	h.cache.Set(model.DefaultInstance, 1, build(t, in))
	c := xdstest.DialDelta(t, h.addr, "d", model.DefaultInstance)
	c.Subscribe(resource.RouteType, translate.RouteHTTP)
	r := c.Recv()
	if got := deltaNames(t, r); !slices.Equal(got, []string{translate.RouteHTTP}) {
		t.Fatalf("routes %v", got)
	}
	c.Ack(r)
	c.Unsubscribe(resource.RouteType, translate.RouteHTTP)
	c.Quiet(300 * time.Millisecond)
	c.Subscribe(resource.RouteType, translate.RouteHTTP)
	if got := deltaNames(t, c.Recv()); !slices.Equal(got, []string{translate.RouteHTTP}) {
		t.Fatalf("resubscribed routes %v", got)
	}
	c.Subscribe(resource.ClusterType)
	r = c.Recv()
	c.Ack(r)
	h.cache.Set(model.DefaultInstance, 2, build(t, newInstance(t, model.DefaultInstance, 2)))
	h.cache.Set(model.DefaultInstance, 3, build(t, newInstance(t, model.DefaultInstance, 2)))
	for {
		r = c.Recv()
		c.Ack(r)
		if r.TypeUrl == resource.ClusterType && len(r.RemovedResources) > 0 {
			break
		}
	}
	if !slices.Equal(r.RemovedResources, []string{"backend.http.10.0.0.3.8080"}) {
		t.Fatalf("removed %v", r.RemovedResources)
	}
}
