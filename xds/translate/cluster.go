package translate

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// clusterSpec is a distinct upstream: a backend address (host, port,
// scheme) or a load-balance channel reached over a scheme.
type clusterSpec struct {
	name    string
	scheme  string
	host    string
	port    uint32
	channel *apigwv1.VpcChannel
	// group keeps only the members of this member group of the channel.
	group string
	// clientCert presents the instance's backend client certificate;
	// instanceCA verifies the backend with the instance's CA (both over
	// SDS, docs/xds.md#backend-tls).
	clientCert, instanceCA bool
	// streamTimeout (ms) bounds every stream of the cluster (mirror
	// clusters).
	streamTimeout int32
}

// same reports whether two specs build the same cluster.
func (s *clusterSpec) same(o *clusterSpec) bool {
	return s.name == o.name && s.scheme == o.scheme && s.host == o.host && s.port == o.port && s.channel == o.channel && s.group == o.group &&
		s.clientCert == o.clientCert && s.instanceCA == o.instanceCA && s.streamTimeout == o.streamTimeout
}

// backendCluster resolves the upstream of an HTTP backend.
func (c *buildCtx) backendCluster(b *httpBackend) (*clusterSpec, error) {
	scheme := strings.ToLower(b.protocol)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("backend protocol %q is not supported", b.protocol)
	}
	bt := c.v.Config().GetBackendTls()
	variant := ""
	if b.clientSSL {
		if scheme != "https" {
			return nil, fmt.Errorf("enable_client_ssl needs an HTTPS backend")
		}
		if bt.GetClientCertificate() == "" {
			return nil, fmt.Errorf("enable_client_ssl: the instance has no backend client certificate (config.backend_tls)")
		}
		variant = ".mtls"
	}
	ca := scheme == "https" && bt.GetCa() != ""
	if b.usesChannel() {
		ch := c.v.Channel(b.channelID)
		if ch == nil {
			return nil, fmt.Errorf("load-balance channel %s does not exist", b.channelID)
		}
		// A channel whose HTTPS health check has enable_client_ssl: its
		// clusters present the certificate (health checks use the
		// cluster's TLS; a backend that does not ask for a client
		// certificate is not sent one).
		clientCert := b.clientSSL || scheme == "https" && ch.GetVpcHealthConfig().GetEnableClientSsl() && bt.GetClientCertificate() != ""
		if clientCert {
			variant = ".mtls"
		}
		if g := b.group; g != nil && g.ReferenceVpcChannelId == "" {
			return &clusterSpec{name: groupClusterName(ch.Id, g.MemberGroupName, scheme) + variant, scheme: scheme, channel: ch, group: g.MemberGroupName,
				clientCert: clientCert, instanceCA: ca}, nil
		}
		return &clusterSpec{name: channelClusterName(ch.Id, scheme) + variant, scheme: scheme, channel: ch, clientCert: clientCert, instanceCA: ca}, nil
	}
	host, port, err := splitHostPort(b.urlDomain, scheme)
	if err != nil {
		return nil, err
	}
	return &clusterSpec{name: backendClusterName(scheme, host, port) + variant, scheme: scheme, host: host, port: port, clientCert: b.clientSSL, instanceCA: ca}, nil
}

func splitHostPort(addr, scheme string) (string, uint32, error) {
	if err := model.CheckHostPort(addr); err != nil {
		return "", 0, fmt.Errorf("backend address: %v", err)
	}
	host, port := addr, "80"
	if scheme == "https" {
		port = "443"
	}
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	n, _ := strconv.ParseUint(port, 10, 16)
	return host, uint32(n), nil
}

// hashPolicy is the route hash policy a channel's balancing needs: source
// IP hash or URI hash (the path without its query).
func (s *clusterSpec) hashPolicy() []*routev3.RouteAction_HashPolicy {
	switch s.channel.GetBalanceStrategy() {
	case model.StrategySrcHash:
		return []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{
			ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true},
		}}}
	case model.StrategyURIHash:
		return []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{
			Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: ":path", RegexRewrite: &matcherv3.RegexMatchAndSubstitute{
				Pattern: &matcherv3.RegexMatcher{Regex: `\?.*$`}, Substitution: "",
			}},
		}}}
	}
	return nil
}

// buildCluster builds the cluster of a spec and, for EDS clusters, its
// endpoints.
func buildCluster(s *clusterSpec, opts Options) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, error) {
	cl := &clusterv3.Cluster{
		Name:            s.name,
		ConnectTimeout:  durationpb.New(opts.ConnectTimeout),
		CircuitBreakers: circuitBreakers(),
	}
	var eds *endpointv3.ClusterLoadAssignment
	if s.channel != nil {
		eds = channelCluster(cl, s)
	} else {
		cl.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: discoveryType(s.host)}
		if cl.GetType() != clusterv3.Cluster_STATIC {
			cl.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}
		}
		cl.LoadAssignment = singleEndpoint(s.name, s.host, s.port)
	}
	if s.scheme == "https" {
		ts, err := upstreamTLS(s, opts)
		if err != nil {
			return nil, nil, err
		}
		cl.TransportSocket = ts
		if s.channel != nil {
			po, err := toAny(&upstreamhttpv3.HttpProtocolOptions{
				UpstreamHttpProtocolOptions: &corev3.UpstreamHttpProtocolOptions{AutoSni: true, AutoSanValidation: opts.UpstreamCAFile != "" || s.instanceCA},
				UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
				}},
			})
			if err != nil {
				return nil, nil, err
			}
			cl.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: po}
		}
	}
	if s.streamTimeout > 0 {
		po, err := toAny(&upstreamhttpv3.HttpProtocolOptions{
			CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{MaxStreamDuration: durationpb.New(time.Duration(s.streamTimeout) * time.Millisecond)},
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
			}},
		})
		if err != nil {
			return nil, nil, err
		}
		cl.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: po}
	}
	if err := validate(cl); err != nil {
		return nil, nil, err
	}
	if eds != nil {
		if err := validate(eds); err != nil {
			return nil, nil, err
		}
	}
	return cl, eds, nil
}

func discoveryType(host string) clusterv3.Cluster_DiscoveryType {
	if _, err := netip.ParseAddr(host); err == nil {
		return clusterv3.Cluster_STATIC
	}
	return clusterv3.Cluster_STRICT_DNS
}

func singleEndpoint(name, host string, port uint32) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(host, port, 0, 0)},
	}}}
}

func lbEndpoint(host string, port, weight, hcPort uint32) *endpointv3.LbEndpoint {
	ep := &endpointv3.Endpoint{Address: socketAddress(host, port)}
	if hcPort != 0 {
		ep.HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: hcPort}
	}
	lb := &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: ep}}
	if weight > 0 {
		lb.LoadBalancingWeight = wrapU32(weight)
	}
	return lb
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// circuitBreakers lifts Envoy's per-cluster defaults (1024 requests, 3
// retries), which are far below a gateway's concurrency.
func circuitBreakers() *clusterv3.CircuitBreakers {
	const n = 1 << 16
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections: wrapU32(n), MaxPendingRequests: wrapU32(n), MaxRequests: wrapU32(n), MaxRetries: wrapU32(1024),
	}}}
}

// upstreamTLS is the transport socket of HTTPS backends: SNI for host
// names (channels use auto SNI from the Host header) and, with
// Options.UpstreamCAFile, certificate verification.
func upstreamTLS(s *clusterSpec, opts Options) (*corev3.TransportSocket, error) {
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}}
	if s.channel == nil && discoveryType(s.host) != clusterv3.Cluster_STATIC {
		ctx.Sni = s.host
	}
	if s.clientCert {
		ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: BackendClientSecret, SdsConfig: adsSource()}}
	}
	var sans []*tlsv3.SubjectAltNameMatcher
	if s.channel == nil {
		sans = []*tlsv3.SubjectAltNameMatcher{{
			SanType: sanType(s.host),
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s.host}},
		}}
	}
	switch {
	case s.instanceCA:
		// The CA comes over SDS; the host name check stays on the cluster.
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sans},
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: BackendCASecret, SdsConfig: adsSource()},
			},
		}
	case opts.UpstreamCAFile != "":
		vc := &tlsv3.CertificateValidationContext{
			TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: opts.UpstreamCAFile}},
			MatchTypedSubjectAltNames: sans,
		}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	}
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}

func sanType(host string) tlsv3.SubjectAltNameMatcher_SanType {
	if _, err := netip.ParseAddr(host); err == nil {
		return tlsv3.SubjectAltNameMatcher_IP_ADDRESS
	}
	return tlsv3.SubjectAltNameMatcher_DNS
}

// serviceCluster is the HTTP/2 cluster of one of apigw's gRPC services.
func serviceCluster(name, addr string, mtls bool, opts Options) (*clusterv3.Cluster, error) {
	host, port, err := splitHostPort(addr, "http")
	if err != nil {
		return nil, fmt.Errorf("%s address: %w", name, err)
	}
	po, err := toAny(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
		}},
	})
	if err != nil {
		return nil, err
	}
	cl := &clusterv3.Cluster{
		Name:                          name,
		ConnectTimeout:                durationpb.New(opts.ConnectTimeout),
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: discoveryType(host)},
		LoadAssignment:                singleEndpoint(name, host, port),
		CircuitBreakers:               circuitBreakers(),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptionsKey: po},
	}
	if mtls {
		if cl.TransportSocket, err = serviceTLS(host, opts); err != nil {
			return nil, err
		}
	}
	return cl, validate(cl)
}

func wrapU32(n uint32) *wrapperspb.UInt32Value { return wrapperspb.UInt32(n) }

// SDS names of the instance's backend TLS secrets (docs/xds.md#backend-tls).
const (
	BackendClientSecret = "backend.client"
	BackendCASecret     = "backend.ca"
)

// backendSecrets are the SDS secrets of the instance's backend TLS that
// the built clusters use: its client certificate and its CA.
func (b *Builder) backendSecrets(bt *apigwv1.BackendTls) []*tlsv3.Secret {
	inline := func(s string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
	}
	var client, ca bool
	for _, m := range b.clusters {
		client = client || m.spec.clientCert
		ca = ca || m.spec.instanceCA
	}
	var out []*tlsv3.Secret
	if client && bt.GetClientCertificate() != "" {
		out = append(out, &tlsv3.Secret{Name: BackendClientSecret, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: inline(bt.ClientCertificate), PrivateKey: inline(bt.ClientPrivateKey),
		}}})
	}
	if ca && bt.GetCa() != "" {
		out = append(out, &tlsv3.Secret{Name: BackendCASecret, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: inline(bt.Ca),
		}}})
	}
	return out
}
