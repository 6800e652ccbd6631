package envoysim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

// UpstreamTLS returns the client TLS configuration Envoy uses for a
// cluster's transport socket (an UpstreamTlsContext): the client
// certificate and the trusted CA, inline, from files, or from file-based
// SDS resources (path_config_source, read as Envoy reads them), SNI, ALPN,
// and the server certificate checked against the CA and the subject
// alternative name matchers (not against SNI, as Envoy does). Static
// secrets (a name without sds_config) and SDS over gRPC are not emulated.
func UpstreamTLS(ts *corev3.TransportSocket) (*tls.Config, error) {
	return upstreamTLS(ts, nil)
}

// upstreamTLS is UpstreamTLS with the secrets received over ADS: an SDS
// reference with an ads config source names one of them (Envoy keeps a
// cluster warming until its secrets arrive; here a missing one is an
// error).
func upstreamTLS(ts *corev3.TransportSocket, ads map[string]*tlsv3.Secret) (*tls.Config, error) {
	if ts.GetName() != "envoy.transport_sockets.tls" {
		return nil, fmt.Errorf("transport socket %q is not emulated", ts.GetName())
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return nil, fmt.Errorf("transport socket: %w", err)
	}
	common := ctx.GetCommonTlsContext()
	cfg := &tls.Config{ServerName: ctx.GetSni(), NextProtos: slices.Clone(common.GetAlpnProtocols()), MinVersion: tls.VersionTLS12}
	var certs []*tlsv3.TlsCertificate
	certs = append(certs, common.GetTlsCertificates()...)
	for _, ref := range common.GetTlsCertificateSdsSecretConfigs() {
		s, err := sdsSecret(ref, ads)
		if err != nil {
			return nil, err
		}
		if s.GetTlsCertificate() == nil {
			return nil, fmt.Errorf("secret %s holds no TLS certificate", ref.GetName())
		}
		certs = append(certs, s.GetTlsCertificate())
	}
	for _, c := range certs {
		chain, err := dataSource(c.GetCertificateChain())
		if err != nil {
			return nil, fmt.Errorf("certificate_chain: %w", err)
		}
		key, err := dataSource(c.GetPrivateKey())
		if err != nil {
			return nil, fmt.Errorf("private_key: %w", err)
		}
		pair, err := tls.X509KeyPair(chain, key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = append(cfg.Certificates, pair)
	}
	vc, err := validationContext(common, ads)
	if err != nil {
		return nil, err
	}
	if vc == nil || vc.GetTrustedCa() == nil {
		// Envoy does not verify the server without a trusted CA.
		cfg.InsecureSkipVerify = true //nolint:gosec // Envoy's behaviour
		return cfg, nil
	}
	ca, err := dataSource(vc.GetTrustedCa())
	if err != nil {
		return nil, fmt.Errorf("trusted_ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, errors.New("trusted_ca holds no certificate")
	}
	sans := vc.GetMatchTypedSubjectAltNames()
	cfg.InsecureSkipVerify = true //nolint:gosec // verified below, Envoy's way: chain and SAN matchers
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no server certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		leaf := cs.PeerCertificates[0]
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			return err
		}
		if len(sans) == 0 {
			return nil
		}
		for _, m := range sans {
			if sanMatches(leaf, m) {
				return nil
			}
		}
		return fmt.Errorf("server certificate matches none of the SAN matchers %v", sans)
	}
	return cfg, nil
}

func validationContext(common *tlsv3.CommonTlsContext, ads map[string]*tlsv3.Secret) (*tlsv3.CertificateValidationContext, error) {
	switch {
	case common.GetValidationContext() != nil:
		return common.GetValidationContext(), nil
	case common.GetValidationContextSdsSecretConfig() != nil:
		s, err := sdsSecret(common.GetValidationContextSdsSecretConfig(), ads)
		if err != nil {
			return nil, err
		}
		return s.GetValidationContext(), nil
	case common.GetCombinedValidationContext() != nil:
		comb := common.GetCombinedValidationContext()
		s, err := sdsSecret(comb.GetValidationContextSdsSecretConfig(), ads)
		if err != nil {
			return nil, err
		}
		// The dynamic context's fields win; the default one supplies the rest.
		vc := &tlsv3.CertificateValidationContext{}
		if d := comb.GetDefaultValidationContext(); d != nil {
			vc.MatchTypedSubjectAltNames = d.GetMatchTypedSubjectAltNames()
			vc.TrustedCa = d.GetTrustedCa()
		}
		if d := s.GetValidationContext(); d != nil {
			if d.GetTrustedCa() != nil {
				vc.TrustedCa = d.GetTrustedCa()
			}
			if len(d.GetMatchTypedSubjectAltNames()) > 0 {
				vc.MatchTypedSubjectAltNames = d.GetMatchTypedSubjectAltNames()
			}
		}
		return vc, nil
	}
	return nil, nil
}

// sdsSecret reads a secret received over ADS, or from a file-based SDS
// resource, as Envoy's path_config_source does.
func sdsSecret(ref *tlsv3.SdsSecretConfig, ads map[string]*tlsv3.Secret) (*tlsv3.Secret, error) {
	if ref.GetSdsConfig().GetAds() != nil {
		s := ads[ref.GetName()]
		if s == nil {
			return nil, fmt.Errorf("secret %s was not received over ADS", ref.GetName())
		}
		return s, nil
	}
	path := ref.GetSdsConfig().GetPathConfigSource().GetPath()
	if path == "" {
		return nil, fmt.Errorf("secret %s: only file-based SDS (path_config_source) is emulated", ref.GetName())
	}
	y, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", ref.GetName(), err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	resp := &discoveryv3.DiscoveryResponse{}
	if err := protojson.Unmarshal(j, resp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(resp.GetResources()) != 1 {
		return nil, fmt.Errorf("%s: Envoy wants exactly one secret in a file-based SDS resource, found %d", path, len(resp.GetResources()))
	}
	s := &tlsv3.Secret{}
	if err := resp.GetResources()[0].UnmarshalTo(s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := ValidateDeep(s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.GetName() != ref.GetName() {
		return nil, fmt.Errorf("%s holds secret %q, want %q", path, s.GetName(), ref.GetName())
	}
	return s, nil
}

func dataSource(ds *corev3.DataSource) ([]byte, error) {
	switch {
	case ds.GetFilename() != "":
		return os.ReadFile(filepath.Clean(ds.GetFilename()))
	case ds.GetInlineBytes() != nil:
		return ds.GetInlineBytes(), nil
	case ds.GetInlineString() != "":
		return []byte(ds.GetInlineString()), nil
	}
	return nil, errors.New("empty data source")
}

func sanMatches(leaf *x509.Certificate, m *tlsv3.SubjectAltNameMatcher) bool {
	var values []string
	switch m.GetSanType() {
	case tlsv3.SubjectAltNameMatcher_DNS:
		values = leaf.DNSNames
	case tlsv3.SubjectAltNameMatcher_URI:
		for _, u := range leaf.URIs {
			values = append(values, u.String())
		}
	case tlsv3.SubjectAltNameMatcher_IP_ADDRESS:
		for _, ip := range leaf.IPAddresses {
			values = append(values, ip.String())
		}
	default:
		return false
	}
	for _, v := range values {
		if ok, err := matchString(m.GetMatcher(), v); err == nil && ok {
			return true
		}
	}
	return false
}
