package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

const hcmFilterName = "envoy.filters.network.http_connection_manager"

// tlsChain is an HTTPS filter chain: one bound domain with its
// certificate.
type tlsChain struct {
	domain string
	group  *apigwv1.ApiGroup
	cert   *apigwv1.Certificate
	minTLS string
	mtls   bool
	// rds is the chain's RouteConfiguration (default RouteHTTPS(group)).
	rds string
}

// httpListener serves every group over plain HTTP through one HCM: with
// the RouteConfiguration RouteHTTP, or in scoped mode with a group's
// RouteConfiguration chosen by host.
func httpListener(v *inputs.View, opts Options, filters []*hcmv3.HttpFilter, obs *hcmObservability, custom []*apigwv1.ApiGroup, scoped bool) (*listenerv3.Listener, error) {
	return plainListener(v, opts, filters, obs, custom, ListenerHTTP, opts.HTTPPort, "http", routing{rds: RouteHTTP, scoped: scoped})
}

// plainListener is an HTTP listener on a port with one HCM.
func plainListener(v *inputs.View, opts Options, filters []*hcmv3.HttpFilter, obs *hcmObservability, custom []*apigwv1.ApiGroup, name string, port uint32, statPrefix string, rt routing) (*listenerv3.Listener, error) {
	replies, err := localReplies(v, nil, custom)
	if err != nil {
		return nil, err
	}
	h, err := connectionManager(statPrefix, rt, v.Config(), filters, replies, obs)
	if err != nil {
		return nil, err
	}
	fc, err := filterChain("", h, nil)
	if err != nil {
		return nil, err
	}
	l := &listenerv3.Listener{Name: name, Address: socketAddress(opts.ListenAddress, port), FilterChains: []*listenerv3.FilterChain{fc}}
	return l, validate(l)
}

// httpsListener has one filter chain per bound domain with a certificate,
// selected by SNI; each chain's HCM routes with its group's
// RouteConfiguration and answers with its group's gateway responses.
func httpsListener(v *inputs.View, opts Options, filters []*hcmv3.HttpFilter, obs *hcmObservability, chains []tlsChain) (*listenerv3.Listener, error) {
	return tlsListener(v, opts, filters, obs, chains, ListenerHTTPS, opts.HTTPSPort, "https.")
}

// tlsListener is an HTTPS listener on a port with a filter chain per
// domain.
func tlsListener(v *inputs.View, opts Options, filters []*hcmv3.HttpFilter, obs *hcmObservability, chains []tlsChain, name string, port uint32, statPrefix string) (*listenerv3.Listener, error) {
	tlsInspector, err := toAny(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		return nil, err
	}
	l := &listenerv3.Listener{
		Name:            name,
		Address:         socketAddress(opts.ListenAddress, port),
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector", ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: tlsInspector}}},
	}
	for _, ch := range chains {
		replies, err := localReplies(v, ch.group, nil)
		if err != nil {
			return nil, err
		}
		rds := ch.rds
		if rds == "" {
			rds = RouteHTTPS(ch.group.Id)
		}
		h, err := connectionManager(statPrefix+ch.group.Id, routing{rds: rds}, v.Config(), filters, replies, obs)
		if err != nil {
			return nil, err
		}
		ts, err := downstreamTLS(ch)
		if err != nil {
			return nil, err
		}
		fc, err := filterChain(ch.domain, h, ts)
		if err != nil {
			return nil, err
		}
		l.FilterChains = append(l.FilterChains, fc)
	}
	return l, validate(l)
}

func filterChain(domain string, h *hcmv3.HttpConnectionManager, ts *corev3.TransportSocket) (*listenerv3.FilterChain, error) {
	a, err := toAny(h)
	if err != nil {
		return nil, err
	}
	fc := &listenerv3.FilterChain{
		Filters:         []*listenerv3.Filter{{Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}},
		TransportSocket: ts,
	}
	if domain != "" {
		fc.Name = filterChainName(domain)
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{domain}}
	}
	return fc, nil
}

// downstreamTLS serves a domain's certificate over SDS with its minimum
// TLS version, HTTP/2 by ALPN and, when enabled, client certificates
// verified against the certificate's trusted root CA.
func downstreamTLS(ch tlsChain) (*corev3.TransportSocket, error) {
	minVersion := tlsv3.TlsParameters_TLSv1_2
	if ch.minTLS == model.TLS11 {
		minVersion = tlsv3.TlsParameters_TLSv1_1
	}
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams:                      &tlsv3.TlsParameters{TlsMinimumProtocolVersion: minVersion},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: certSecretName(ch.cert.Id), SdsConfig: adsSource()}},
		AlpnProtocols:                  []string{"h2", "http/1.1"},
	}}
	if ch.mtls {
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
			ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: caSecretName(ch.cert.Id), SdsConfig: adsSource()},
		}
		ctx.RequireClientCertificate = wrapperspb.Bool(true)
	}
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}

// secrets returns the SDS secrets of a chain's certificate.
func secrets(ch tlsChain) []*tlsv3.Secret {
	inline := func(s string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
	}
	out := []*tlsv3.Secret{{Name: certSecretName(ch.cert.Id), Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: inline(ch.cert.CertContent), PrivateKey: inline(ch.cert.PrivateKey),
	}}}}
	if ch.mtls {
		out = append(out, &tlsv3.Secret{Name: caSecretName(ch.cert.Id), Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: inline(ch.cert.TrustedRootCa),
		}}})
	}
	return out
}
