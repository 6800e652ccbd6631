package translate

import (
	"fmt"
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
	// scoped says that the HTTP listener uses scoped routes.
	scoped bool
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
	out := &Resources{}
	byGroup := b.publications(c, out)
	groups := model.List[*apigwv1.ApiGroup](in, model.KindGroup)

	seen := map[string]bool{}
	vhosts := map[string]*groupMemo{}
	for _, g := range groups {
		seen[g.Id] = true
		gm := b.group(in, g, byGroup[g.Id])
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
		if err := b.scopedHTTP(in, groups, vhosts, out); err != nil {
			return nil, err
		}
	} else if err := b.singleHTTP(groups, vhosts, out); err != nil {
		return nil, err
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

// singleHTTP puts every group's HTTP virtual host in RouteHTTP.
func (b *Builder) singleHTTP(groups []*apigwv1.ApiGroup, vhosts map[string]*groupMemo, out *Resources) error {
	var httpVhosts []*routev3.VirtualHost
	deps := []any{}
	maxBody := 0
	for _, g := range groups {
		if gm := vhosts[g.Id]; gm.http != nil {
			httpVhosts = append(httpVhosts, gm.http)
			deps = append(deps, gm.http)
			maxBody = max(maxBody, gm.maxBody)
		}
	}
	deps = append(deps, maxBody)
	if b.httpRC == nil || !sameDeps(b.httpRC.deps, deps) {
		rc := routeConfig(RouteHTTP, httpVhosts, maxBody)
		if err := validateShallow(rc); err != nil {
			return err
		}
		b.httpRC = &rcMemo{deps: deps, rc: rc}
	}
	out.Routes = append(out.Routes, b.httpRC.rc)
	clear(b.httpGroupRC)
	return nil
}

// scopedHTTP gives each group its HTTP RouteConfiguration and a scope per
// exact host that selects it.
func (b *Builder) scopedHTTP(in *model.Instance, groups []*apigwv1.ApiGroup, vhosts map[string]*groupMemo, out *Resources) error {
	b.httpRC = nil
	seen := map[string]bool{}
	for _, g := range groups {
		gm := vhosts[g.Id]
		if gm.http == nil {
			continue
		}
		seen[g.Id] = true
		deps := []any{gm.http, gm.maxBody}
		m := b.httpGroupRC[g.Id]
		if m == nil || !sameDeps(m.deps, deps) {
			rc := routeConfig(RouteHTTPGroup(g.Id), []*routev3.VirtualHost{gm.http}, gm.maxBody)
			if err := validateShallow(rc); err != nil {
				return err
			}
			m = &rcMemo{deps: deps, rc: rc}
			b.httpGroupRC[g.Id] = m
		}
		out.Routes = append(out.Routes, m.rc)
		for _, d := range groupDomains(in, g) {
			if strings.HasPrefix(d, "*.") {
				out.Problems = append(out.Problems, model.APIProblem{Instance: in.Name, Reason: fmt.Sprintf("group %s domain %s: wildcard domains are not served over HTTP with scoped routing", g.Id, d)})
				continue
			}
			sc := &routev3.ScopedRouteConfiguration{
				Name: ScopeName(d), RouteConfigurationName: RouteHTTPGroup(g.Id),
				Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
					Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: d},
				}}},
			}
			if err := validate(sc); err != nil {
				return err
			}
			out.Scopes = append(out.Scopes, sc)
		}
	}
	for id := range b.httpGroupRC {
		if !seen[id] {
			delete(b.httpGroupRC, id)
		}
	}
	return nil
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
		byGroup[m.res.groupID] = append(byGroup[m.res.groupID], m.res)
	}
	for k, m := range b.pubs {
		if m.gen != b.gen {
			delete(b.pubs, k)
		}
	}
	return byGroup
}

// pubKey holds the objects a publication's translation reads; extra
// holds the rarer ones (ACLs, policy backends' channels and authorizers).
type pubKey struct {
	pub                *apigwv1.Publication
	def                *apigwv1.Instance
	env                *apigwv1.Environment
	hasGroup           bool
	throttle           *apigwv1.Throttle
	set, defaultSet    *apigwv1.GatewayResponse
	authorizer, backAz *apigwv1.Authorizer
	channel            *apigwv1.VpcChannel
}

// depsView answers the lookups of pubDeps cheaply for a whole build.
type depsView struct {
	in   *model.Instance
	def  *apigwv1.Instance
	envs map[string]*apigwv1.Environment
	sets map[string][]*apigwv1.GatewayResponse
}

func newDepsView(in *model.Instance, def *apigwv1.Instance, envs map[string]*apigwv1.Environment) *depsView {
	v := &depsView{in: in, def: def, envs: envs, sets: map[string][]*apigwv1.GatewayResponse{}}
	for _, r := range model.List[*apigwv1.GatewayResponse](in, model.KindResponse) {
		v.sets[r.GroupId] = append(v.sets[r.GroupId], r)
	}
	return v
}

// responseSet mirrors model.Instance.ResponseSet.
func (v *depsView) responseSet(groupID, ref string) *apigwv1.GatewayResponse {
	if ref == "" {
		ref = model.DefaultResponse
	}
	for _, r := range v.sets[groupID] {
		if r.Id == ref || r.Name == ref {
			return r
		}
	}
	return nil
}

// pubDeps are the objects a publication's translation reads.
func (v *depsView) pubDeps(pub *apigwv1.Publication) (pubKey, []any) {
	in, api := v.in, pub.GetApi()
	k := pubKey{
		pub: pub, def: v.def, env: v.envs[pub.EnvId], hasGroup: in.Group(api.GetGroupId()) != nil,
		throttle: in.ThrottleFor(pub.ApiId, pub.EnvId),
		set:      v.responseSet(api.GetGroupId(), api.GetResponseId()), defaultSet: v.responseSet(api.GetGroupId(), ""),
		authorizer: in.Authorizer(api.GetAuthorizerId()), backAz: in.Authorizer(api.GetBackendApi().GetAuthorizerId()),
		channel: in.Channel(api.GetBackendApi().GetVpcChannelInfo().GetVpcChannelId()),
	}
	var extra []any
	for _, a := range in.ACLsFor(pub.ApiId, pub.EnvId) {
		extra = append(extra, a)
	}
	for _, p := range api.GetPolicyHttps() {
		extra = append(extra, in.Authorizer(p.AuthorizerId), in.Channel(p.GetVpcChannelInfo().GetVpcChannelId()))
	}
	return k, extra
}

// group builds (or reuses) a group's virtual hosts.
func (b *Builder) group(in *model.Instance, g *apigwv1.ApiGroup, results []*pubResult) *groupMemo {
	deps := []any{g, b.def, in.ResponseSet(g.Id, "")}
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
	if m.http, m.err = virtualHost(in, g, items, false); m.err != nil {
		return m
	}
	if m.https, m.err = virtualHost(in, g, items, true); m.err != nil {
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
			if d.SslId == "" {
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
	lm.scoped = c.opts.HTTPRouting == RoutingScoped
	if c.opts.HTTPRouting == RoutingAuto {
		lm.scoped = !hasWildcard(groups)
	}
	l, err := httpListener(in, c.opts, filters, custom, lm.scoped)
	if err != nil {
		return nil, err
	}
	lm.listeners = append(lm.listeners, l)
	if len(chains) > 0 {
		sort.Slice(chains, func(i, j int) bool { return chains[i].domain < chains[j].domain })
		l, err := httpsListener(in, c.opts, filters, chains)
		if err != nil {
			return nil, err
		}
		lm.listeners = append(lm.listeners, l)
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

func hasWildcard(groups []*apigwv1.ApiGroup) bool {
	for _, g := range groups {
		for _, d := range g.UrlDomains {
			if strings.HasPrefix(d.Domain, "*.") {
				return true
			}
		}
	}
	return false
}

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
		for _, svc := range [][2]string{{ClusterExtAuthz, c.opts.ExtAuthzAddress}, {ClusterRateLimit, c.opts.RateLimitAddress}} {
			cl, err := serviceCluster(svc[0], svc[1], c.opts)
			if err != nil {
				return err
			}
			b.services = append(b.services, cl)
		}
	}
	out.Clusters = append(out.Clusters, b.services...)
	return nil
}

func sameDeps(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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
