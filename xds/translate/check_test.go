package translate

import (
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/internal/protowalk"
)

// deepValidate runs ValidateAll on m and, recursively, on every typed
// config packed in an Any inside it (which ValidateAll skips).
func deepValidate(m proto.Message) []error {
	var errs []error
	if err := validate(m); err != nil {
		errs = append(errs, err)
	}
	var walk func(protoreflect.Message)
	walk = func(pm protoreflect.Message) {
		if a, ok := pm.Interface().(*anypb.Any); ok {
			if a.GetTypeUrl() == "" && len(a.GetValue()) == 0 {
				// An empty Any is how a route's FilterConfig enables a
				// filter disabled in the HCM (proxycache.go).
				return
			}
			inner, err := a.UnmarshalNew()
			if err != nil {
				errs = append(errs, err)
				return
			}
			errs = append(errs, deepValidate(inner)...)
			return
		}
		protowalk.Children(pm, func(c protoreflect.Message, _ string) { walk(c) })
	}
	walk(m.ProtoReflect())
	return errs
}

// checkResources asserts that every resource validates in depth and that
// the set is consistent: every RouteConfiguration, cluster, EDS assignment
// and secret referenced exists, and nothing is unreferenced.
func checkResources(t *testing.T, r *Resources) {
	t.Helper()
	for _, m := range allMessages(r) {
		for _, err := range deepValidate(m) {
			t.Errorf("invalid resource: %v", err)
		}
	}
	rds, secrets := map[string]bool{}, map[string]bool{}
	// Clusters of apigw's services: ext_authz and RLS are always there;
	// the access-log and tracing clusters when an HCM uses them.
	clusters := map[string]bool{ClusterExtAuthz: true, ClusterRateLimit: true}
	// httpFilters are the names of the HCMs' HTTP filters, which the
	// routes' typed_per_filter_config keys must name.
	httpFilters := map[string]bool{}
	for _, l := range r.Listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				h := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					t.Fatal(err)
				}
				for _, al := range h.GetAccessLog() {
					if al.GetName() != grpcAccessLogName {
						continue
					}
					g := &grpcalsv3.HttpGrpcAccessLogConfig{}
					if err := al.GetTypedConfig().UnmarshalTo(g); err != nil {
						t.Fatal(err)
					}
					clusters[g.GetCommonConfig().GetGrpcService().GetEnvoyGrpc().GetClusterName()] = true
				}
				if h.GetTracing() != nil {
					clusters[ClusterTracing] = true
				}
				for _, hf := range h.GetHttpFilters() {
					httpFilters[hf.GetName()] = true
					if ep := (&extprocv3.ExternalProcessor{}); hf.GetTypedConfig().MessageIs(ep) {
						if err := hf.GetTypedConfig().UnmarshalTo(ep); err != nil {
							t.Fatal(err)
						}
						clusters[ep.GetGrpcService().GetEnvoyGrpc().GetClusterName()] = true
					}
					oa := &oauth2v3.OAuth2{}
					if hf.GetTypedConfig().MessageIs(oa) {
						if err := hf.GetTypedConfig().UnmarshalTo(oa); err != nil {
							t.Fatal(err)
						}
						clusters[oa.GetConfig().GetTokenEndpoint().GetCluster()] = true
						secrets[oa.GetConfig().GetCredentials().GetTokenSecret().GetName()] = true
						secrets[oa.GetConfig().GetCredentials().GetHmacSecret().GetName()] = true
					}
				}
				if h.GetScopedRoutes() != nil {
					for _, sc := range r.Scopes {
						rds[sc.RouteConfigurationName] = true
					}
					continue
				}
				rds[h.GetRds().GetRouteConfigName()] = true
			}
			if ts := fc.GetTransportSocket(); ts != nil {
				ctx := &tlsv3.DownstreamTlsContext{}
				if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
					t.Fatal(err)
				}
				for _, s := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
					secrets[s.Name] = true
				}
				if s := ctx.GetCommonTlsContext().GetValidationContextSdsSecretConfig(); s != nil {
					secrets[s.Name] = true
				}
			}
		}
	}
	routeNames := map[string]bool{}
	for _, rc := range r.Routes {
		routeNames[rc.Name] = true
		if !rds[rc.Name] {
			t.Errorf("route configuration %s is not referenced by any listener", rc.Name)
		}
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				for _, m := range rt.GetRoute().GetRequestMirrorPolicies() {
					clusters[m.GetCluster()] = true
				}
				if c := rt.GetRoute().GetCluster(); c != "" {
					clusters[c] = true
				}
				checkBodyBuffer(t, rt)
				for name := range rt.GetTypedPerFilterConfig() {
					if !httpFilters[name] {
						t.Errorf("route %s configures filter %s, which no HCM has", rt.GetName(), name)
					}
				}
			}
		}
	}
	for n := range rds {
		if !routeNames[n] {
			t.Errorf("listener references missing route configuration %s", n)
		}
	}
	eds := map[string]bool{}
	have := map[string]bool{}
	for _, c := range r.Clusters {
		have[c.Name] = true
		if ts := c.GetTransportSocket(); ts != nil {
			ctx := &tlsv3.UpstreamTlsContext{}
			if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
				t.Errorf("cluster %s: transport socket: %v", c.Name, err)
			}
			common := ctx.GetCommonTlsContext()
			refs := append([]*tlsv3.SdsSecretConfig{common.GetValidationContextSdsSecretConfig(), common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig()}, common.GetTlsCertificateSdsSecretConfigs()...)
			for _, ref := range refs {
				if ref.GetSdsConfig().GetAds() == nil {
					continue // file-based SDS on the Envoy host
				}
				secrets[ref.Name] = true
				if !slices.ContainsFunc(r.Secrets, func(s *tlsv3.Secret) bool { return s.Name == ref.Name }) {
					t.Errorf("cluster %s uses secret %s, which is not served", c.Name, ref.Name)
				}
			}
		}
		if !clusters[c.Name] {
			t.Errorf("cluster %s is not used by any route", c.Name)
		}
		if c.GetType() == clusterv3.Cluster_EDS {
			eds[c.GetEdsClusterConfig().GetServiceName()] = true
		}
	}
	for n := range clusters {
		if !have[n] {
			t.Errorf("routes use missing cluster %s", n)
		}
	}
	for _, e := range r.Endpoints {
		if !eds[e.ClusterName] {
			t.Errorf("endpoints %s belong to no EDS cluster", e.ClusterName)
		}
		delete(eds, e.ClusterName)
	}
	for n := range eds {
		t.Errorf("EDS cluster %s has no endpoints", n)
	}
	for _, s := range r.Secrets {
		if !secrets[s.Name] {
			t.Errorf("secret %s is not referenced", s.Name)
		}
		delete(secrets, s.Name)
	}
	for n := range secrets {
		t.Errorf("listener references missing secret %s", n)
	}
}

// checkBodyBuffer asserts that a route whose ext_authz check buffers the
// body lets Envoy buffer that much: without request_body_buffer_limit the
// connection's buffer limit (1 MiB by default) answers 413 first.
func checkBodyBuffer(t *testing.T, rt *routev3.Route) {
	t.Helper()
	a := rt.GetTypedPerFilterConfig()[filterExtAuthz]
	if a == nil {
		return
	}
	per := &extauthzv3.ExtAuthzPerRoute{}
	if err := a.UnmarshalTo(per); err != nil {
		t.Fatal(err)
	}
	n := uint64(per.GetCheckSettings().GetWithRequestBody().GetMaxRequestBytes())
	if n == 0 {
		return
	}
	if got := rt.GetRequestBodyBufferLimit().GetValue(); got < n {
		t.Errorf("route %s: ext_authz buffers up to %d bytes but request_body_buffer_limit is %d", rt.Name, n, got)
	}
}

func allMessages(r *Resources) []proto.Message {
	var out []proto.Message
	for _, l := range r.Listeners {
		out = append(out, l)
	}
	for _, rc := range r.Routes {
		out = append(out, rc)
	}
	for _, sc := range r.Scopes {
		out = append(out, sc)
	}
	for _, c := range r.Clusters {
		out = append(out, c)
	}
	for _, e := range r.Endpoints {
		out = append(out, e)
	}
	for _, s := range r.Secrets {
		out = append(out, s)
	}
	return out
}

var (
	_ = (*listenerv3.Listener)(nil)
	_ = (*routev3.Route)(nil)
)
