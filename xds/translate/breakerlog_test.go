package translate

import (
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/apigw/apigw/dataplane"
)

// grpcLogClusters returns, per HCM of the listeners, the clusters of its
// gRPC access loggers in order.
func grpcLogClusters(t *testing.T, ls []*listenerv3.Listener) [][]string {
	t.Helper()
	var out [][]string
	for _, l := range ls {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				h := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					t.Fatal(err)
				}
				var cs []string
				for _, al := range h.GetAccessLog() {
					g := &grpcalsv3.HttpGrpcAccessLogConfig{}
					if al.GetTypedConfig().MessageIs(g) {
						if err := al.GetTypedConfig().UnmarshalTo(g); err != nil {
							t.Fatal(err)
						}
						if g.GetCommonConfig().GetLogName() != dataplane.AccessLogName {
							t.Errorf("log name %q, want %q (what the access-log services read)", g.GetCommonConfig().GetLogName(), dataplane.AccessLogName)
						}
						cs = append(cs, g.GetCommonConfig().GetGrpcService().GetEnvoyGrpc().GetClusterName())
					}
				}
				out = append(out, cs)
			}
		}
	}
	return out
}

// With BreakerAccessLogAddress every HCM (HTTP and HTTPS, custom ports)
// gets a second gRPC access logger to apigw.breakers, with its own
// cluster, over mTLS when asked as the other service clusters; without
// it (the single-process layout) there is no second logger and no
// cluster. The second logger is independent of the first (also with
// AccessLogOff).
func TestBreakerAccessLogger(t *testing.T) {
	in := loadInstance(t, "testdata/in/tls.yaml")
	for _, c := range []struct {
		name string
		opts Options
		want []string
		tls  bool
	}{
		{"single process", Options{}, []string{ClusterAccessLog}, false},
		{"sidecar", Options{BreakerAccessLogAddress: "127.0.0.1:18008"}, []string{ClusterAccessLog, ClusterBreakerAccessLog}, false},
		{"sidecar over mTLS", Options{BreakerAccessLogAddress: "10.0.0.5:18008", BreakerAccessLogTLS: true, EnvoyTLSDir: "/pki/envoy"}, []string{ClusterAccessLog, ClusterBreakerAccessLog}, true},
		{"breakers only", Options{AccessLogAddress: AccessLogOff, BreakerAccessLogAddress: "127.0.0.1:18008"}, []string{ClusterBreakerAccessLog}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.HTTPRouting = RoutingSingle
			res, err := Build(in, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkResources(t, res)
			hcms := grpcLogClusters(t, res.Listeners)
			if len(hcms) < 2 {
				t.Fatalf("%d HCMs: the case needs HTTP and HTTPS", len(hcms))
			}
			for i, cs := range hcms {
				if len(cs) != len(c.want) || cs[0] != c.want[0] || cs[len(cs)-1] != c.want[len(c.want)-1] {
					t.Errorf("HCM %d: gRPC access loggers to %v, want %v", i, cs, c.want)
				}
			}
			var found bool
			for _, cl := range res.Clusters {
				if cl.GetName() != ClusterBreakerAccessLog {
					continue
				}
				found = true
				if (cl.GetTransportSocket() != nil) != c.tls {
					t.Errorf("cluster %s: TLS %v, want %v", cl.GetName(), cl.GetTransportSocket() != nil, c.tls)
				}
				if c.tls {
					sans := upstreamContext(t, cl).GetCommonTlsContext().GetCombinedValidationContext().GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
					if len(sans) != 1 || sans[0].GetMatcher().GetExact() != "10.0.0.5" {
						t.Errorf("SAN matchers %v, want 10.0.0.5", sans)
					}
				}
				ep := cl.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
				if want := c.opts.BreakerAccessLogAddress; ep.GetAddress()+":18008" != want || ep.GetPortValue() != 18008 {
					t.Errorf("cluster %s points at %s:%d, want %s", cl.GetName(), ep.GetAddress(), ep.GetPortValue(), want)
				}
			}
			if found != (c.opts.BreakerAccessLogAddress != "") {
				t.Errorf("cluster %s present %v, want %v", ClusterBreakerAccessLog, found, !found)
			}
		})
	}
}
