package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// listenersFor builds the listeners and the secrets of the HTTPS filter
// chains. They depend on the instance, the groups, the certificates and
// the response sets only.
func (b *Builder) listenersFor(c *buildCtx, groups []*apigwv1.ApiGroup) (*listenerMemo, error) {
	in := c.in
	deps := []any{b.def}
	for _, g := range groups {
		deps = append(deps, g)
	}
	for _, o := range in.Objects(model.KindCertificate) {
		deps = append(deps, o)
	}
	for _, o := range in.Objects(model.KindResponse) {
		deps = append(deps, o)
	}
	if b.listeners != nil && sameDeps(b.listeners.deps, deps) {
		return b.listeners, nil
	}
	lm := &listenerMemo{deps: deps, tlsGroups: map[string]bool{}}
	filters, err := httpFilters(in.Config, c.opts)
	if err != nil {
		return nil, err
	}
	obs, err := observability(in, c.opts)
	if err != nil {
		return nil, err
	}
	var custom []*apigwv1.ApiGroup
	var chains []tlsChain
	for _, g := range groups {
		for _, rc := range replyCases {
			if customized(in, g.Id, rc.err.Type) {
				custom = append(custom, g)
				break
			}
		}
		for _, d := range g.UrlDomains {
			if d.SslId == "" || !slices.Contains(c.hosts[g.Id], strings.ToLower(d.Domain)) {
				continue
			}
			cert := in.Certificate(d.SslId)
			if cert == nil {
				lm.problems = append(lm.problems, model.APIProblem{Instance: in.Name, Reason: fmt.Sprintf("group %s domain %s: certificate %s does not exist; the domain is not served over HTTPS", g.Id, d.Domain, d.SslId)})
				continue
			}
			lm.tlsGroups[g.Id] = true
			chains = append(chains, tlsChain{domain: d.Domain, group: g, cert: cert, minTLS: d.MinSslVersion,
				mtls: d.VerifiedClientCertificateEnabled && cert.TrustedRootCa != ""})
		}
	}
	// The routing mode depends on the options only: switching a listener
	// between RDS and SRDS is a listener update that Envoys before 1.38
	// cannot apply to SRDS (their SRDS subscription never starts).
	lm.scoped = c.opts.HTTPRouting != RoutingSingle
	l, err := httpListener(in, c.opts, filters, obs, custom, c.hosts, lm.scoped)
	if err != nil {
		return nil, err
	}
	lm.listeners = append(lm.listeners, l)
	if lm.scoped {
		sl, err := httpListener(in, c.opts, filters, obs, custom, c.hosts, false)
		if err != nil {
			return nil, err
		}
		lm.single = append(lm.single, sl)
	}
	if len(chains) > 0 {
		sort.Slice(chains, func(i, j int) bool { return chains[i].domain < chains[j].domain })
		l, err := httpsListener(in, c.opts, filters, obs, chains)
		if err != nil {
			return nil, err
		}
		lm.listeners = append(lm.listeners, l)
		if lm.scoped {
			lm.single = append(lm.single, l)
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
	}
	for _, s := range lm.secrets {
		if err := validate(s); err != nil {
			return nil, err
		}
	}
	b.listeners = lm
	return lm, nil
}
