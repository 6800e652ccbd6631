package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/dataplane"
)

// serviceTLS is the transport socket of the apigw.extauth and
// apigw.ratelimit clusters when Envoy reaches those services over mTLS:
// Envoy presents its client certificate and verifies apigw's server
// certificate against apigw's CA and the service's host name (or IP),
// both read from the file-based SDS resources in Options.EnvoyTLSDir on
// the Envoy host (see dataplane), so that renewed files are picked
// up without a restart.
func serviceTLS(host string, opts Options) (*corev3.TransportSocket, error) {
	dir := opts.EnvoyTLSDir
	if dir == "" {
		dir = dataplane.EnvoyTLSDir
	}
	certPath, caPath := dataplane.SDSPaths(dir)
	source := func(path string) *corev3.ConfigSource {
		return &corev3.ConfigSource{
			ResourceApiVersion: corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
				Path: path, WatchedDirectory: &corev3.WatchedDirectory{Path: dir},
			}},
		}
	}
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		AlpnProtocols:                  []string{"h2"}, // gRPC servers require ALPN
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: dataplane.ClientSecret, SdsConfig: source(certPath)}},
		ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext: &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
				SanType: sanType(host),
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: host}},
			}}},
			ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: dataplane.CASecret, SdsConfig: source(caPath)},
		}},
	}}
	if sanType(host) == tlsv3.SubjectAltNameMatcher_DNS {
		ctx.Sni = host
	}
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}
