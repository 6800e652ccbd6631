package translate

import (
	"fmt"
)

// clustersFor collects the clusters (and EDS endpoints) the served routes
// use, plus the clusters of ext_authz, the rate-limit service and the
// access-log services.
func (b *Builder) clustersFor(byGroup map[string][]*pubResult, tlsGroups map[string]bool, out *Resources) error {
	specs := map[string]*clusterSpec{}
	for g, rs := range byGroup {
		for _, r := range rs {
			for _, it := range r.items {
				if it.cluster != nil && (it.onHTTP || (it.onHTTPS && tlsGroups[g])) {
					specs[it.cluster.name] = it.cluster
					if it.mirror != nil {
						specs[it.mirror.name] = it.mirror
					}
				}
			}
		}
	}
	for name, s := range specs {
		m := b.clusters[name]
		if m == nil || !m.spec.same(s) {
			m = &clusterMemo{spec: s}
			m.cluster, m.eds, m.err = buildCluster(s, b.opts)
			b.clusters[name] = m
		}
		if m.err != nil {
			return fmt.Errorf("cluster %s: %w", name, m.err)
		}
		out.Clusters = append(out.Clusters, m.cluster)
		if m.eds != nil {
			out.Endpoints = append(out.Endpoints, m.eds)
		}
	}
	for name := range b.clusters {
		if specs[name] == nil {
			delete(b.clusters, name)
		}
	}
	if b.services == nil {
		for _, svc := range []struct {
			name, addr string
			tls        bool
		}{{ClusterExtAuthz, b.opts.ExtAuthzAddress, b.opts.ExtAuthzTLS}, {ClusterRateLimit, b.opts.RateLimitAddress, b.opts.RateLimitTLS}, {ClusterAccessLog, b.opts.AccessLogAddress, b.opts.AccessLogTLS},
			{ClusterBreakerAccessLog, b.opts.BreakerAccessLogAddress, b.opts.BreakerAccessLogTLS}} {
			if svc.name == ClusterAccessLog && svc.addr == AccessLogOff || svc.name == ClusterBreakerAccessLog && svc.addr == "" {
				continue
			}
			cl, err := serviceCluster(svc.name, svc.addr, svc.tls, b.opts)
			if err != nil {
				return err
			}
			b.services = append(b.services, cl)
		}
	}
	out.Clusters = append(out.Clusters, b.services...)
	return nil
}
