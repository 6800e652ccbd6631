package translate

import (
	"fmt"
)

// clustersFor collects the clusters (and EDS endpoints) the served routes
// use, plus the clusters of ext_authz and the rate-limit service.
func (b *Builder) clustersFor(c *buildCtx, byGroup map[string][]*pubResult, tlsGroups map[string]bool, out *Resources) error {
	specs := map[string]*clusterSpec{}
	for g, rs := range byGroup {
		for _, r := range rs {
			for _, it := range r.items {
				if it.cluster != nil && (it.onHTTP || (it.onHTTPS && tlsGroups[g])) {
					specs[it.cluster.name] = it.cluster
				}
			}
		}
	}
	for name, s := range specs {
		m := b.clusters[name]
		if m == nil || !m.spec.same(s) {
			m = &clusterMemo{spec: s}
			m.cluster, m.eds, m.err = buildCluster(s, c.opts)
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
		svcs := [][2]string{{ClusterExtAuthz, c.opts.ExtAuthzAddress}, {ClusterRateLimit, c.opts.RateLimitAddress}}
		if c.opts.AccessLogAddress != AccessLogOff {
			svcs = append(svcs, [2]string{ClusterAccessLog, c.opts.AccessLogAddress})
		}
		for _, svc := range svcs {
			cl, err := serviceCluster(svc[0], svc[1], c.opts)
			if err != nil {
				return err
			}
			b.services = append(b.services, cl)
		}
	}
	out.Clusters = append(out.Clusters, b.services...)
	tc := c.in.Config.GetTracing()
	if key := tc.GetCollector(); !tc.GetEnabled() || key == "" {
		b.tracing = nil
	} else if b.tracing == nil || b.tracing.GetLoadAssignment().GetClusterName() != ClusterTracing || b.tracingAddr != key {
		cl, err := tracingCluster(tc, c.opts)
		if err != nil {
			return fmt.Errorf("tracing collector: %w", err)
		}
		b.tracing, b.tracingAddr = cl, key
	}
	if b.tracing != nil {
		out.Clusters = append(out.Clusters, b.tracing)
	}
	return nil
}
