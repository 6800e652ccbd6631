package translate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// listenersFor builds (or reuses) the listeners and the secrets of the
// HTTPS filter chains.
func (b *Builder) listenersFor(s *inputs.Snapshot) (*listenerMemo, error) {
	if b.listeners != nil && b.listeners.rec.Holds(s) {
		return b.listeners, nil
	}
	v := s.Track()
	lm, err := listeners(v, b.opts)
	if err != nil {
		return nil, err
	}
	lm.rec = v.Record()
	b.listeners = lm
	return lm, nil
}

// listeners builds the HTTP listener and, when a domain has a
// certificate, the HTTPS listener with its secrets.
func listeners(v *inputs.View, opts Options) (*listenerMemo, error) {
	lm := &listenerMemo{tlsGroups: map[string]bool{}}
	groups := v.Groups()
	oidc := v.OIDCPlugins()
	oidcFs, err := oidcFilters(oidc)
	if err != nil {
		return nil, err
	}
	filters, err := httpFilters(v.Config(), opts, oidcFs, v.ProxyCachePlugins())
	if err != nil {
		return nil, err
	}
	if lm.oidcClusters, err = oidcClusters(oidc, opts); err != nil {
		return nil, err
	}
	if lm.cacheCluster, err = proxyCacheCluster(v.ProxyCachePlugins(), opts); err != nil {
		return nil, err
	}
	kafkaReq, kafkaResp := v.KafkaLogHeaders()
	obs, err := observability(v.Name(), v.Config(), kafkaReq, kafkaResp, opts)
	if err != nil {
		return nil, err
	}
	if lm.tracing, err = tracingCluster(v.Config().GetTracing(), opts); err != nil {
		return nil, fmt.Errorf("tracing collector: %w", err)
	}
	var custom []*apigwv1.ApiGroup
	var chains []tlsChain
	// Custom inbound ports: the declared HTTP ports and those domains use
	// get a listener each; an HTTPS port gets one when a domain on it has
	// a certificate.
	httpPorts := map[uint32]bool{}
	for _, p := range v.Config().GetIngressPorts() {
		if port := uint32(p.Port); p.Protocol == model.ProtoHTTP && port != opts.HTTPPort && port != opts.HTTPSPort {
			httpPorts[port] = true
		}
	}
	portChains := map[uint32][]tlsChain{}
	for _, g := range groups {
		for _, rc := range replyCases {
			if customized(v, g.Id, rc.err.Type) {
				custom = append(custom, g)
				break
			}
		}
		gp := portsOf(v, g.Id, opts)
		for port := range gp.httpPorts {
			httpPorts[port] = true
		}
		for _, d := range g.UrlDomains {
			dom := strings.ToLower(d.Domain)
			if d.SslId == "" || !slices.Contains(v.Hosts(g.Id), dom) {
				continue
			}
			port, custom := gp.httpsPort[dom]
			if !custom && !slices.Contains(gp.mainHTTPS, dom) {
				continue // ingress_https_port -1: not served over HTTPS
			}
			cert := v.Certificate(d.SslId)
			if cert == nil {
				lm.problems = append(lm.problems, model.APIProblem{Instance: v.Name(), Reason: fmt.Sprintf("group %s domain %s: certificate %s does not exist; the domain is not served over HTTPS", g.Id, d.Domain, d.SslId)})
				continue
			}
			lm.tlsGroups[g.Id] = true
			ch := tlsChain{domain: d.Domain, group: g, cert: cert, minTLS: d.MinSslVersion,
				mtls: d.VerifiedClientCertificateEnabled && cert.TrustedRootCa != ""}
			if custom {
				ch.rds = RouteHTTPSPort(g.Id, port)
				portChains[port] = append(portChains[port], ch)
				continue
			}
			chains = append(chains, ch)
		}
	}
	// The routing mode depends on the options only: switching a listener
	// between RDS and SRDS is a listener update that Envoys before 1.38
	// cannot apply to SRDS (their SRDS subscription never starts).
	lm.scoped = opts.HTTPRouting != RoutingSingle
	l, err := httpListener(v, opts, filters, obs, custom, lm.scoped)
	if err != nil {
		return nil, err
	}
	lm.listeners = append(lm.listeners, l)
	if lm.scoped {
		sl, err := httpListener(v, opts, filters, obs, custom, false)
		if err != nil {
			return nil, err
		}
		lm.single = append(lm.single, sl)
	}
	if len(chains) > 0 {
		sort.Slice(chains, func(i, j int) bool { return chains[i].domain < chains[j].domain })
		l, err := httpsListener(v, opts, filters, obs, chains)
		if err != nil {
			return nil, err
		}
		lm.listeners = append(lm.listeners, l)
		if lm.scoped {
			lm.single = append(lm.single, l)
		}
	}
	for _, port := range slices.Sorted(maps.Keys(httpPorts)) {
		l, err := plainListener(v, opts, filters, obs, custom, ListenerHTTPPort(port), port, "http:"+itoa(port), routing{rds: RouteHTTPPort(port)})
		if err != nil {
			return nil, err
		}
		lm.httpPorts = append(lm.httpPorts, port)
		lm.listeners = append(lm.listeners, l)
		if lm.scoped {
			lm.single = append(lm.single, l)
		}
	}
	for _, port := range slices.Sorted(maps.Keys(portChains)) {
		pc := portChains[port]
		sort.Slice(pc, func(i, j int) bool { return pc[i].domain < pc[j].domain })
		l, err := tlsListener(v, opts, filters, obs, pc, ListenerHTTPSPort(port), port, "https:"+itoa(port)+".")
		if err != nil {
			return nil, err
		}
		lm.listeners = append(lm.listeners, l)
		if lm.scoped {
			lm.single = append(lm.single, l)
		}
		chains = append(chains, pc...)
	}
	done := map[string]bool{}
	for _, ch := range chains {
		for _, s := range secrets(ch) {
			if !done[s.Name] {
				done[s.Name] = true
				lm.secrets = append(lm.secrets, s)
			}
		}
	}
	lm.secrets = append(lm.secrets, oidcSecrets(oidc)...)
	for _, s := range lm.secrets {
		if err := validate(s); err != nil {
			return nil, err
		}
	}
	return lm, nil
}
