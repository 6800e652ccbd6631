package envoysim

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// listenerOn returns the listener bound to port.
func (c *Config) listenerOn(port uint32) *listenerv3.Listener {
	for _, l := range c.Listeners {
		if l.GetAddress().GetSocketAddress().GetPortValue() == port {
			return l
		}
	}
	return nil
}

// filterChain selects a listener's filter chain for a connection: TLS with
// an SNI, or plain ("raw_buffer", no SNI). Exact server names win over
// wildcard ones (longest suffix first), which win over chains without
// server names; the default chain is the last resort.
func filterChain(l *listenerv3.Listener, tls bool, sni string) (*listenerv3.FilterChain, error) {
	proto := "raw_buffer"
	if tls {
		proto = "tls"
	}
	var best *listenerv3.FilterChain
	bestRank := -1
	for _, fc := range l.GetFilterChains() {
		m := fc.GetFilterChainMatch()
		if err := onlyServerNames(m); err != nil {
			return nil, fmt.Errorf("listener %s chain %s: %w", l.GetName(), fc.GetName(), err)
		}
		if tp := m.GetTransportProtocol(); tp != "" && tp != proto {
			continue
		}
		rank := serverNameRank(m.GetServerNames(), sni)
		if rank > bestRank {
			best, bestRank = fc, rank
		}
	}
	if best != nil {
		return best, nil
	}
	if d := l.GetDefaultFilterChain(); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("listener %s has no filter chain for transport %s, SNI %q: connection closed", l.GetName(), proto, sni)
}

// onlyServerNames rejects filter-chain match fields the emulator ignores.
func onlyServerNames(m *listenerv3.FilterChainMatch) error {
	if m == nil {
		return nil
	}
	rest := proto.Clone(m).(*listenerv3.FilterChainMatch)
	rest.ServerNames, rest.TransportProtocol = nil, ""
	if !proto.Equal(rest, &listenerv3.FilterChainMatch{}) {
		return fmt.Errorf("filter_chain_match %v is not emulated", rest)
	}
	return nil
}

// serverNameRank: -1 no match, 0 no server names, 1+len for a wildcard,
// a large value for an exact name.
func serverNameRank(names []string, sni string) int {
	if len(names) == 0 {
		return 0
	}
	best := -1
	for _, n := range names {
		switch {
		case strings.EqualFold(n, sni):
			return 1 << 20
		case strings.HasPrefix(n, "*.") && len(sni) > len(n)-1 && strings.HasSuffix(strings.ToLower(sni), strings.ToLower(n[1:])):
			best = max(best, 1+len(n))
		}
	}
	return best
}

// serverCertificate returns the leaf certificate a TLS filter chain serves
// (from its SDS secret) and the secret's name.
func (c *Config) serverCertificate(fc *listenerv3.FilterChain) (*x509.Certificate, string, error) {
	ts := fc.GetTransportSocket()
	if ts == nil {
		return nil, "", fmt.Errorf("filter chain %s has no transport socket (not TLS)", fc.GetName())
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return nil, "", fmt.Errorf("filter chain %s: %w", fc.GetName(), err)
	}
	sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
	if len(sds) == 0 {
		return nil, "", fmt.Errorf("filter chain %s: no SDS certificate (inline certificates are not emulated)", fc.GetName())
	}
	name := sds[0].GetName()
	sec := c.Secrets[name]
	if sec == nil {
		return nil, name, fmt.Errorf("filter chain %s: secret %s not received (the listener would be warming)", fc.GetName(), name)
	}
	chain := sec.GetTlsCertificate().GetCertificateChain()
	pemBytes := chain.GetInlineBytes()
	if len(pemBytes) == 0 {
		pemBytes = []byte(chain.GetInlineString())
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, name, fmt.Errorf("secret %s: no PEM certificate", name)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, name, fmt.Errorf("secret %s: %w", name, err)
	}
	return leaf, name, nil
}
