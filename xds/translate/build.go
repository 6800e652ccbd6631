package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Builder translates successive versions of one instance, reusing the
// results whose inputs are unchanged. The model keeps unchanged objects
// pointer-identical across snapshots, so "unchanged" is a comparison of
// pointers and a one-API change re-translates one API, its group's virtual
// host and the resources that list them. A Builder is not safe for
// concurrent use; its results equal Build's.
type Builder struct {
	opts        Options
	gen         uint64
	pubs        map[string]*pubMemo
	groups      map[string]*groupMemo
	clusters    map[string]*clusterMemo
	httpRC      *rcMemo
	httpGroupRC map[string]*rcMemo
	httpsRC     map[string]*rcMemo
	listeners   *listenerMemo
	services    []*clusterv3.Cluster
	// tracing is the cluster of the instance's OTLP collector (tracing.go).
	tracing     *clusterv3.Cluster
	tracingAddr string
	// def and envs are the previous build's instance object and
	// environments: the model rebuilds the built-in ones on every
	// snapshot, so equal values are mapped back to these pointers.
	def  *apigwv1.Instance
	envs map[string]*apigwv1.Environment
}

type pubMemo struct {
	gen   uint64
	key   pubKey
	extra []any
	res   *pubResult
}

type groupMemo struct {
	deps        []any
	http, https *routev3.VirtualHost
	maxBody     int
	err         error
}

type clusterMemo struct {
	spec    *clusterSpec
	cluster *clusterv3.Cluster
	eds     *endpointv3.ClusterLoadAssignment
	err     error
}

type rcMemo struct {
	deps []any
	rc   *routev3.RouteConfiguration
}

type listenerMemo struct {
	deps      []any
	listeners []*listenerv3.Listener
	secrets   []*tlsv3.Secret
	problems  []model.APIProblem
	// tlsGroups are the groups with at least one HTTPS filter chain.
	tlsGroups map[string]bool
	// scoped says that the HTTP listener uses scoped routes; single are
	// then the listeners of the Envoys served RouteHTTP instead.
	scoped bool
	single []*listenerv3.Listener
}

// NewBuilder returns a Builder with nothing memoized.
func NewBuilder(opts Options) *Builder {
	return &Builder{
		opts: opts.withDefaults(), pubs: map[string]*pubMemo{}, groups: map[string]*groupMemo{},
		clusters: map[string]*clusterMemo{}, httpsRC: map[string]*rcMemo{}, httpGroupRC: map[string]*rcMemo{},
	}
}

// Build translates an instance.
func (b *Builder) Build(in *model.Instance) (*Resources, error) {
	c := &buildCtx{in: in, opts: b.opts}
	b.canonicalize(in)
	groups := model.List[*apigwv1.ApiGroup](in, model.KindGroup)
	var hostProblems []model.APIProblem
	c.hosts, hostProblems = claimHosts(in, groups)
	out := &Resources{}
	byGroup := b.publications(c, out)
	out.Problems = append(out.Problems, hostProblems...)
	for _, id := range in.BlockedApps() {
		out.Problems = append(out.Problems, model.APIProblem{Instance: in.Name,
			Reason: fmt.Sprintf("app %s: calls with this app are refused with APIG.0601 (500) until fixed: %s", id, in.AppBlocked(id))})
	}

	seen := map[string]bool{}
	vhosts := map[string]*groupMemo{}
	for _, g := range groups {
		seen[g.Id] = true
		gm := b.group(in, g, c.hosts[g.Id], byGroup[g.Id])
		if gm.err != nil {
			return nil, fmt.Errorf("group %s: %w", g.Id, gm.err)
		}
		vhosts[g.Id] = gm
	}
	for id := range b.groups {
		if !seen[id] {
			delete(b.groups, id)
		}
	}
	lm, err := b.listenersFor(c, groups)
	if err != nil {
		return nil, err
	}
	out.Listeners, out.Secrets = lm.listeners, lm.secrets
	out.Problems = append(out.Problems, lm.problems...)
	if lm.scoped {
		if err := b.scopedHTTP(in, groups, c.hosts, vhosts, out); err != nil {
			return nil, err
		}
		single := &Resources{}
		if err := b.singleHTTP(groups, vhosts, single); err != nil {
			return nil, err
		}
		out.SingleListeners, out.SingleRoutes = lm.single, single.Routes
	} else {
		if err := b.singleHTTP(groups, vhosts, out); err != nil {
			return nil, err
		}
		clear(b.httpGroupRC)
	}

	httpsSeen := map[string]bool{}
	for _, g := range groups {
		gm := vhosts[g.Id]
		if !lm.tlsGroups[g.Id] || gm.https == nil {
			continue
		}
		httpsSeen[g.Id] = true
		deps := []any{gm.https, gm.maxBody}
		m := b.httpsRC[g.Id]
		if m == nil || !sameDeps(m.deps, deps) {
			rc := routeConfig(RouteHTTPS(g.Id), []*routev3.VirtualHost{gm.https}, gm.maxBody)
			if err := validateShallow(rc); err != nil {
				return nil, err
			}
			m = &rcMemo{deps: deps, rc: rc}
			b.httpsRC[g.Id] = m
		}
		out.Routes = append(out.Routes, m.rc)
	}
	for id := range b.httpsRC {
		if !httpsSeen[id] {
			delete(b.httpsRC, id)
		}
	}
	if err := b.clustersFor(c, byGroup, lm.tlsGroups, out); err != nil {
		return nil, err
	}
	sortResources(out)
	return out, nil
}

// canonicalize keeps the instance object and the environments
// pointer-stable across builds when their values are unchanged.
func (b *Builder) canonicalize(in *model.Instance) {
	if b.def == nil || !proto.Equal(b.def, in.Def) {
		b.def = in.Def
	}
	envs := map[string]*apigwv1.Environment{}
	for _, e := range model.List[*apigwv1.Environment](in, model.KindEnvironment) {
		if prev := b.envs[e.Id]; prev != nil && proto.Equal(prev, e) {
			e = prev
		}
		envs[e.Id] = e
	}
	b.envs = envs
}

// publications translates (or reuses) every served publication and groups
// the usable results by group; the others become problems.
func (b *Builder) publications(c *buildCtx, out *Resources) map[string][]*pubResult {
	byGroup := map[string][]*pubResult{}
	v := newDepsView(c.in, b.def, b.envs)
	b.gen++
	for _, pub := range c.in.ServedAll() {
		key := model.ReleaseID(pub.ApiId, pub.EnvId)
		k, extra := v.pubDeps(pub)
		m := b.pubs[key]
		if m == nil || m.key != k || !sameDeps(m.extra, extra) {
			m = &pubMemo{key: k, extra: extra, res: c.translatePublication(pub)}
			b.pubs[key] = m
		}
		m.gen = b.gen
		if m.res.problem != "" {
			out.Problems = append(out.Problems, model.APIProblem{Instance: c.in.Name, APIID: pub.ApiId, EnvID: pub.EnvId, Reason: m.res.problem})
			continue
		}
		if m.res.blocked != "" {
			out.Problems = append(out.Problems, model.APIProblem{Instance: c.in.Name, APIID: pub.ApiId, EnvID: pub.EnvId,
				Reason: "answered with APIG.0601 (500) until fixed: " + m.res.blocked})
		}
		byGroup[m.res.groupID] = append(byGroup[m.res.groupID], m.res)
	}
	for k, m := range b.pubs {
		if m.gen != b.gen {
			delete(b.pubs, k)
		}
	}
	return byGroup
}

// group builds (or reuses) a group's virtual hosts.
func (b *Builder) group(in *model.Instance, g *apigwv1.ApiGroup, domains []string, results []*pubResult) *groupMemo {
	deps := []any{g, b.def, in.ResponseSet(g.Id, ""), strings.Join(domains, ",")}
	for _, r := range results {
		deps = append(deps, r)
	}
	if m := b.groups[g.Id]; m != nil && sameDeps(m.deps, deps) {
		return m
	}
	m := &groupMemo{deps: deps}
	b.groups[g.Id] = m
	var items []routeItem
	for _, r := range results {
		items = append(items, r.items...)
		m.maxBody = max(m.maxBody, r.maxBody)
	}
	sortItems(items)
	if m.http, m.err = virtualHost(in, g, domains, items, false); m.err != nil {
		return m
	}
	if m.https, m.err = virtualHost(in, g, domains, items, true); m.err != nil {
		return m
	}
	for _, vh := range []*routev3.VirtualHost{m.http, m.https} {
		if vh == nil {
			continue
		}
		if err := validate(&routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}); err != nil {
			m.err = err
			return m
		}
	}
	return m
}

func sameDeps(a, b []any) bool { return slices.Equal(a, b) }

// validateShallow validates a RouteConfiguration without re-validating its
// virtual hosts' routes, which were validated when they were built.
func validateShallow(rc *routev3.RouteConfiguration) error {
	cp := &routev3.RouteConfiguration{Name: rc.Name, IgnorePortInHostMatching: rc.IgnorePortInHostMatching, MaxDirectResponseBodySizeBytes: rc.MaxDirectResponseBodySizeBytes}
	for _, vh := range rc.VirtualHosts {
		cp.VirtualHosts = append(cp.VirtualHosts, &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains})
	}
	return validate(cp)
}

func sortResources(r *Resources) {
	sort.Slice(r.Listeners, func(i, j int) bool { return r.Listeners[i].Name < r.Listeners[j].Name })
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].Name < r.Routes[j].Name })
	sort.Slice(r.Scopes, func(i, j int) bool { return r.Scopes[i].Name < r.Scopes[j].Name })
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].Name < r.Clusters[j].Name })
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].ClusterName < r.Endpoints[j].ClusterName })
	sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].Name < r.Secrets[j].Name })
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if a.APIID != b.APIID {
			return a.APIID < b.APIID
		}
		if a.EnvID != b.EnvID {
			return a.EnvID < b.EnvID
		}
		return a.Reason < b.Reason
	})
}
