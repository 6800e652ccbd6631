package translate

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Envoy reaches ext_authz and the rate-limit service over mTLS when asked:
// its certificate and apigw's CA come from the file-based SDS resources of
// the Envoy TLS directory, and apigw's certificate must name the host.
func TestServiceClustersOverMTLS(t *testing.T) {
	inst := model.NewInstance("default", []proto.Message{&apigwv1.Instance{Name: "default"}})
	res, err := Build(inst, Options{ExtAuthzAddress: "apigw:18001", RateLimitAddress: "10.0.0.5:18002",
		ExtAuthzTLS: true, RateLimitTLS: true, EnvoyTLSDir: "/pki/envoy"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ClusterExtAuthz: {"apigw", "apigw"}, ClusterRateLimit: {"10.0.0.5", ""}}
	for _, cl := range res.Clusters {
		w, ok := want[cl.GetName()]
		if !ok {
			continue
		}
		delete(want, cl.GetName())
		ctx := upstreamContext(t, cl)
		if ctx.GetSni() != w[1] {
			t.Errorf("%s: SNI %q, want %q", cl.GetName(), ctx.GetSni(), w[1])
		}
		if alpn := ctx.GetCommonTlsContext().GetAlpnProtocols(); len(alpn) != 1 || alpn[0] != "h2" {
			t.Errorf("%s: ALPN %v, want h2 (gRPC)", cl.GetName(), alpn)
		}
		certs := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
		if len(certs) != 1 || certs[0].GetName() != "apigw-client" || certs[0].GetSdsConfig().GetPathConfigSource().GetPath() != "/pki/envoy/sds-tls.yaml" ||
			certs[0].GetSdsConfig().GetPathConfigSource().GetWatchedDirectory().GetPath() != "/pki/envoy" {
			t.Errorf("%s: client certificate %v", cl.GetName(), certs)
		}
		cv := ctx.GetCommonTlsContext().GetCombinedValidationContext()
		if cv.GetValidationContextSdsSecretConfig().GetName() != "apigw-ca" || cv.GetValidationContextSdsSecretConfig().GetSdsConfig().GetPathConfigSource().GetPath() != "/pki/envoy/sds-ca.yaml" {
			t.Errorf("%s: CA %v", cl.GetName(), cv)
		}
		sans := cv.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
		if len(sans) != 1 || sans[0].GetMatcher().GetExact() != w[0] {
			t.Errorf("%s: SAN matchers %v, want %s", cl.GetName(), sans, w[0])
		}
	}
	if len(want) > 0 {
		t.Errorf("clusters missing: %v", want)
	}

	res, err = Build(inst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range res.Clusters {
		if (cl.GetName() == ClusterExtAuthz || cl.GetName() == ClusterRateLimit) && cl.GetTransportSocket() != nil {
			t.Errorf("%s: TLS without being asked", cl.GetName())
		}
	}
}

func upstreamContext(t *testing.T, cl *clusterv3.Cluster) *tlsv3.UpstreamTlsContext {
	t.Helper()
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := cl.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatalf("%s: transport socket: %v", cl.GetName(), err)
	}
	return ctx
}
