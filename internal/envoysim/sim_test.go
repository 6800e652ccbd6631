package envoysim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	ratelimitconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	rbaccfgv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/internal/testutil"
)

// fakeAuthz decides by path: /denied is refused, a request with x-vip is
// sent to the vip policy route, others are allowed with metadata.
type fakeAuthz struct {
	authv3.UnimplementedAuthorizationServer
	mu   sync.Mutex
	last *authv3.CheckRequest
}

func (f *fakeAuthz) Check(_ context.Context, r *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	f.mu.Lock()
	f.last = r
	f.mu.Unlock()
	h := r.GetAttributes().GetRequest().GetHttp()
	if strings.HasPrefix(h.GetPath(), "/denied") {
		return &authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.Unauthenticated)}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode_Unauthorized}, Body: `{"error_code":"X1"}`,
			Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "content-type", Value: "application/json"}}}}}}, nil
	}
	ok := &authv3.OkHttpResponse{HeadersToRemove: []string{"x-apigw-policy"}}
	md, _ := structpb.NewStruct(map[string]any{"backend_path": "/backend/p"})
	var vip bool
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		switch hv.GetKey() {
		case "x-vip":
			vip = true
		case "x-app":
			md.Fields["app_id"] = structpb.NewStringValue(string(hv.GetRawValue()))
		}
	}
	if vip {
		ok = &authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-apigw-policy", Value: "vip"}}}}
	}
	ok.QueryParametersToSet = []*corev3.QueryParameter{{Key: "added", Value: "1"}}
	return &authv3.CheckResponse{Status: &rpcstatus.Status{}, DynamicMetadata: md, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok}}, nil
}

// fakeRLS refuses descriptors that carry the value "limited".
type fakeRLS struct {
	rlsv3.UnimplementedRateLimitServiceServer
	mu   sync.Mutex
	last *rlsv3.RateLimitRequest
}

func (f *fakeRLS) ShouldRateLimit(_ context.Context, r *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	f.mu.Lock()
	f.last = r
	f.mu.Unlock()
	for _, d := range r.GetDescriptors() {
		for _, e := range d.GetEntries() {
			if e.GetValue() == "limited" {
				return &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OVER_LIMIT, RawBody: []byte(`{"error_code":"APIG.0308"}`),
					ResponseHeadersToAdd: []*corev3.HeaderValue{{Key: "content-type", Value: "application/json"}}}, nil
			}
		}
	}
	return &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK}, nil
}

func serveGRPC(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	s := grpc.NewServer()
	register(s)
	return testutil.ServeGRPC(t, s)
}

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func staticCluster(name, addr string) *clusterv3.Cluster {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(p)}}}}}}}}}}}}
}

func pathMatch(p string, hdrs ...*routev3.HeaderMatcher) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: p}, Headers: hdrs}
}

func toCluster(c string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}}}
}

type simFixture struct {
	envoy   *Envoy
	authz   *fakeAuthz
	rls     *fakeRLS
	up, vip *httptest.Server
	upGot   chan *http.Request
}

func newSimFixture(t *testing.T) *simFixture {
	t.Helper()
	f := &simFixture{authz: &fakeAuthz{}, rls: &fakeRLS{}, upGot: make(chan *http.Request, 10)}
	f.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.upGot <- r
		w.Header().Set("X-From", "up")
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(f.up.Close)
	f.vip = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "vip:"+r.URL.Path) }))
	t.Cleanup(f.vip.Close)
	authzAddr := serveGRPC(t, func(s *grpc.Server) { authv3.RegisterAuthorizationServer(s, f.authz) })
	rlsAddr := serveGRPC(t, func(s *grpc.Server) { rlsv3.RegisterRateLimitServiceServer(s, f.rls) })

	ctxExt := anyOf(t, &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: &extauthzv3.CheckSettings{ContextExtensions: map[string]string{"api": "p"}}}})
	noAuthz := anyOf(t, &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}})
	limits := []*routev3.RateLimit{
		{Actions: []*routev3.RateLimit_Action{{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: "api", DescriptorValue: "p"}}}}},
		{Actions: []*routev3.RateLimit_Action{
			{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: "dim", DescriptorValue: "app"}}},
			{ActionSpecifier: &routev3.RateLimit_Action_Metadata{Metadata: &routev3.RateLimit_Action_MetaData{DescriptorKey: "app_id",
				MetadataKey: &metadatav3.MetadataKey{Key: extAuthzNamespace, Path: []*metadatav3.MetadataKey_PathSegment{{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: "app_id"}}}}}}},
		}},
	}
	policyHeader := &routev3.HeaderMatcher{Name: "x-apigw-policy", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("vip")}}
	rc := &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"api.test"}, Routes: []*routev3.Route{
		{Name: "p.vip", Match: pathMatch("/p", policyHeader), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: ctxExt},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "vip"}, PrefixRewrite: "/vip"}}},
		{Name: "p", Match: pathMatch("/p"), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: ctxExt},
			RequestHeadersToAdd: []*corev3.HeaderValueOption{
				{Header: &corev3.HeaderValue{Key: "x-app-id", Value: "%DYNAMIC_METADATA(envoy.filters.http.ext_authz:app_id)%"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
				{Header: &corev3.HeaderValue{Key: "x-src", Value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
			},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "up"},
				PathRewrite: "%DYNAMIC_METADATA(envoy.filters.http.ext_authz:backend_path)%", HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "backend.internal"}, RateLimits: limits}}},
		{Name: "limited", Match: pathMatch("/limited"), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: noAuthz},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "up"}, RateLimits: []*routev3.RateLimit{{Actions: []*routev3.RateLimit_Action{
				{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorValue: "limited"}}}}}}}}},
		{Name: "denied", Match: pathMatch("/denied"), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: ctxExt}, Action: toCluster("up")},
		{Name: "acl", Match: pathMatch("/acl"), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: noAuthz, filterRBAC: anyOf(t, &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbaccfgv3.RBAC{
			Action: rbaccfgv3.RBAC_DENY, Policies: map[string]*rbaccfgv3.Policy{"blocked": {Permissions: []*rbaccfgv3.Permission{{Rule: &rbaccfgv3.Permission_Any{Any: true}}},
				Principals: []*rbaccfgv3.Principal{{Identifier: &rbaccfgv3.Principal_RemoteIp{RemoteIp: &corev3.CidrRange{AddressPrefix: "10.0.0.0", PrefixLen: wrapperspb.UInt32(8)}}}}}}}}})},
			Action: toCluster("up")},
		{Name: "mock", Match: pathMatch("/mock"), TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: noAuthz},
			Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 202, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "mocked"}}}}},
	}}}}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http", UseRemoteAddress: wrapperspb.Bool(true), AlwaysSetRequestIdInResponse: true, ServerName: "gw",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "rc"}},
		LocalReplyConfig: &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{{
			Filter:     &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"NR"}}}},
			StatusCode: wrapperspb.UInt32(404),
			BodyFormatOverride: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: must(structpb.NewStruct(map[string]any{
				"code": "NOT_FOUND", "request_id": "%REQ(X-REQUEST-ID)%"}))}},
		}}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: filterRBAC, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &rbacv3.RBAC{})}},
			{Name: filterExtAuthz, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &extauthzv3.ExtAuthz{TransportApiVersion: corev3.ApiVersion_V3, EncodeRawHeaders: true, ClearRouteCache: true,
				ClearRouteCacheHeaders: []string{"x-apigw-policy"},
				Services:               &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "authz"}}}}})}},
			{Name: filterRateLimit, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &ratelimitv3.RateLimit{Domain: "d", Timeout: durationpb.New(time.Second),
				RateLimitService: &ratelimitconfigv3.RateLimitServiceConfig{TransportApiVersion: corev3.ApiVersion_V3, GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "rls"}}}}})}},
			{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &routerv3.Router{SuppressEnvoyHeaders: true})}},
		}}
	cfg := newConfig()
	cfg.Listeners["l"] = &listenerv3.Listener{Name: "l", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}}}
	cfg.Routes["rc"] = rc
	for name, addr := range map[string]string{"up": f.up.Listener.Addr().String(), "vip": f.vip.Listener.Addr().String(), "authz": authzAddr, "rls": rlsAddr} {
		cfg.Clusters[name] = staticCluster(name, addr)
	}
	for _, r := range []proto.Message{cfg.Listeners["l"], rc, hcm} {
		if err := ValidateDeep(r); err != nil {
			t.Fatal(err)
		}
	}
	f.envoy = New(StaticConfig(cfg), Options{})
	t.Cleanup(f.envoy.Close)
	return f
}

func (f *simFixture) serve(t *testing.T, r *Request) *Response {
	t.Helper()
	if r.Host == "" {
		r.Host = "api.test"
	}
	resp, err := f.envoy.Serve(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestServeAllowedRequest(t *testing.T) {
	f := newSimFixture(t)
	resp := f.serve(t, &Request{Method: "GET", Path: "/p?x=1", Header: http.Header{"X-App": {"app7"}}, Source: "203.0.113.5:1234"})
	if resp.Status != 200 || string(resp.Body) != "upstream" || resp.Route != "p" || resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("Server") != "gw" {
		t.Fatalf("%v %v", resp, resp.Header)
	}
	got := <-f.upGot
	if got.URL.Path != "/backend/p" || got.URL.RawQuery != "added=1&x=1" || got.Host != "backend.internal" ||
		got.Header.Get("X-App-Id") != "app7" || got.Header.Get("X-Src") != "203.0.113.5" || got.Header.Get("X-Forwarded-For") != "203.0.113.5" ||
		got.Header.Get("X-Request-Id") != resp.Header.Get("X-Request-Id") {
		t.Errorf("upstream got %s %s host %s headers %v", got.Method, got.URL, got.Host, got.Header)
	}
	// The CheckRequest Envoy sends: context extensions, raw headers, peer.
	a := f.authz.last.GetAttributes()
	if a.GetContextExtensions()["api"] != "p" || a.GetSource().GetAddress().GetSocketAddress().GetAddress() != "203.0.113.5" || a.GetRequest().GetHttp().GetPath() != "/p?x=1" {
		t.Errorf("check request %v", a)
	}
	// Both descriptors: the app one has the app id from ext_authz.
	if d := f.rls.last.GetDescriptors(); len(d) != 2 || d[1].GetEntries()[1].GetValue() != "app7" {
		t.Errorf("descriptors %v", d)
	}

	// Without an app the metadata action drops its descriptor.
	f.serve(t, &Request{Method: "GET", Path: "/p"})
	<-f.upGot
	if d := f.rls.last.GetDescriptors(); len(d) != 1 {
		t.Errorf("descriptors without app_id: %v", d)
	}
}

func TestServePolicyHeaderReroutes(t *testing.T) {
	f := newSimFixture(t)
	resp := f.serve(t, &Request{Method: "GET", Path: "/p", Header: http.Header{"X-Vip": {"1"}}})
	if resp.Status != 200 || resp.Route != "p.vip" || string(resp.Body) != "vip:/vip" {
		t.Fatalf("%v", resp)
	}
	// A client's own x-apigw-policy is removed by ext_authz: the default route serves.
	resp = f.serve(t, &Request{Method: "GET", Path: "/p", Header: http.Header{"X-Apigw-Policy": {"vip"}}})
	if resp.Route != "p" {
		t.Fatalf("%v", resp)
	}
	<-f.upGot
}

func TestServeLocalReplies(t *testing.T) {
	f := newSimFixture(t)
	resp := f.serve(t, &Request{Method: "GET", Path: "/denied"})
	if resp.Status != 401 || string(resp.Body) != `{"error_code":"X1"}` || resp.Header.Get("Content-Type") != "application/json" || resp.Flags[0] != "UAEX" {
		t.Errorf("denied: %v", resp)
	}
	resp = f.serve(t, &Request{Method: "GET", Path: "/limited"})
	if resp.Status != 429 || string(resp.Body) != `{"error_code":"APIG.0308"}` || resp.Header.Get("X-Envoy-Ratelimited") != "true" {
		t.Errorf("limited: %v %v", resp, resp.Header)
	}
	resp = f.serve(t, &Request{Method: "GET", Path: "/acl", Source: "10.1.1.1:5"})
	if resp.Status != 403 || !strings.HasPrefix(resp.Details, "rbac_access_denied_matched_policy[blocked]") {
		t.Errorf("acl: %v", resp)
	}
	resp = f.serve(t, &Request{Method: "GET", Path: "/acl", Source: "192.0.2.1:5"})
	if resp.Status != 200 {
		t.Errorf("acl, allowed address: %v", resp)
	}
	<-f.upGot
	resp = f.serve(t, &Request{Method: "GET", Path: "/mock"})
	if resp.Status != 202 || string(resp.Body) != "mocked" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("mock: %v", resp)
	}
	resp = f.serve(t, &Request{Method: "GET", Path: "/nowhere"})
	var body map[string]string
	if err := json.Unmarshal(resp.Body, &body); err != nil || resp.Status != 404 || body["code"] != "NOT_FOUND" || body["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Errorf("no route: %v (%v)", resp, err)
	}
	if _, err := f.envoy.Serve(context.Background(), &Request{Path: "/p", Host: "api.test", Port: 9999}); err == nil {
		t.Error("a port without a listener should fail like a refused connection")
	}
}
