package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/apigw/apigw/dataplane"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/xdstest"
)

// checkXDS subscribes like an Envoy of instance "default" and returns the
// route that matches path and calls ext_authz, with its context_extensions.
func checkXDS(t *testing.T, addr, path string) (*routev3.Route, map[string]string) {
	t.Helper()
	c := xdstest.DialSotw(t, addr, "envoy-1", "default")
	c.Subscribe(resourcev3.ListenerType)
	lr := c.Recv()
	c.Ack(lr)
	if len(lr.Resources) == 0 {
		t.Fatal("no listeners for instance default")
	}
	var l listenerv3.Listener
	if err := lr.Resources[0].UnmarshalTo(&l); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	c.Subscribe(resourcev3.RouteType)
	for time.Now().Before(deadline) {
		r := c.Recv()
		c.Ack(r)
		if r.TypeUrl != resourcev3.RouteType {
			continue
		}
		for _, res := range r.Resources {
			var rc routev3.RouteConfiguration
			if err := res.UnmarshalTo(&rc); err != nil {
				t.Fatal(err)
			}
			for _, vh := range rc.VirtualHosts {
				for _, rt := range vh.Routes {
					if rt.GetMatch().GetPath() != path {
						continue
					}
					var per extauthzv3.ExtAuthzPerRoute
					if cfg := rt.TypedPerFilterConfig["envoy.filters.http.ext_authz"]; cfg != nil {
						if err := cfg.UnmarshalTo(&per); err != nil {
							t.Fatalf("route %s: ext_authz per-route config: %v", rt.Name, err)
						}
					}
					if ext := per.GetCheckSettings().GetContextExtensions(); len(ext) > 0 {
						return rt, ext
					}
				}
			}
		}
	}
	t.Fatalf("no route for %s reached the ADS client", path)
	return nil, nil
}

// checkRateLimit sends the RateLimitRequest the route's actions produce
// for a request without ext_authz metadata (only descriptors made of
// generic keys survive) and expects the instance default limit to allow it.
func checkRateLimit(t *testing.T, addr string, rt *routev3.Route) {
	t.Helper()
	req := &rlsv3.RateLimitRequest{Domain: dataplane.RateLimitDomain}
	for _, rl := range rt.GetRoute().GetRateLimits() {
		d := &ratelimitcommonv3.RateLimitDescriptor{}
		for _, a := range rl.Actions {
			gk := a.GetGenericKey()
			if gk == nil {
				d = nil
				break
			}
			d.Entries = append(d.Entries, &ratelimitcommonv3.RateLimitDescriptor_Entry{Key: gk.DescriptorKey, Value: gk.DescriptorValue})
		}
		if d != nil {
			req.Descriptors = append(req.Descriptors, d)
		}
	}
	if len(req.Descriptors) == 0 {
		t.Fatal("the route has no rate-limit descriptor for the API dimension")
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := rlsv3.NewRateLimitServiceClient(conn).ShouldRateLimit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.OverallCode != rlsv3.RateLimitResponse_OK || len(resp.Statuses) != len(req.Descriptors) {
		t.Fatalf("rate limit: %v", resp)
	}
	if lim := resp.Statuses[0].GetCurrentLimit(); lim.GetRequestsPerUnit() != 200 || lim.GetUnit() != rlsv3.RateLimitResponse_RateLimit_SECOND {
		t.Errorf("the instance default (200/s) should apply: %v", lim)
	}
}

// checkExtAuthz sends the CheckRequest Envoy would send for the route,
// without a signature, and expects APIG's 401 denial (the API uses APP
// authentication).
func checkExtAuthz(t *testing.T, addr string, ctxExt map[string]string, pub *apigwv1.Publication) {
	t.Helper()
	if ctxExt[dataplane.ExtAuthzCtxAPI] != pub.ApiId || ctxExt[dataplane.ExtAuthzCtxPublication] != pub.Id {
		t.Fatalf("context_extensions %v do not name the publication %s of API %s", ctxExt, pub.Id, pub.ApiId)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "198.51.100.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}}}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Path: "/pets", Host: "example.com", Scheme: "https", Protocol: "HTTP/1.1",
			Headers: map[string]string{":method": "GET", ":path": "/pets", ":authority": "example.com", "x-request-id": "r1"},
		}},
		ContextExtensions: ctxExt,
	}}
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetDeniedResponse()
	if resp.GetStatus().GetCode() == 0 || d.GetStatus().GetCode() != 401 || !strings.Contains(d.GetBody(), `"error_code":"APIG.0303"`) {
		t.Fatalf("unsigned call to an APP API: %v", resp)
	}
}
