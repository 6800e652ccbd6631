package translate

import (
	"fmt"
	"slices"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// Builder translates successive versions of one instance, reusing the
// results whose inputs are unchanged. Each kept result (a publication's
// routes, a group's virtual hosts, the listeners) is keyed on the Record
// of the lookups its translation made through an inputs.View, the only way
// the translator reads an instance; it is reused while that Record holds
// for the new version. The model keeps unchanged objects pointer-identical
// across snapshots, so a one-API change re-translates one API, its group's
// virtual host and the resources that list them. A Builder is not safe for
// concurrent use; its results equal Build's.
type Builder struct {
	opts        Options
	gen         uint64
	snap        *inputs.Snapshot
	pubs        map[*apigwv1.Publication]*pubMemo
	groups      map[string]*groupMemo
	clusters    map[string]*clusterMemo
	httpRC      *rcMemo
	httpGroupRC map[string]*rcMemo
	approute    *appRouteMemo
	approuteRC  *rcMemo
	httpsRC     map[string]*rcMemo
	portRC      map[string]*rcMemo
	listeners   *listenerMemo
	services    []*clusterv3.Cluster
}

// pubMemo is a publication's translation, keyed on the publication
// record and the Record of what its translation read.
type pubMemo struct {
	gen uint64
	pub *apigwv1.Publication
	rec inputs.Record
	// checked is the Snapshot the Record last held on (inputs.Holds).
	checked uint64
	res     *pubResult
}

// groupMemo is a group's virtual hosts, keyed on its publications'
// results and the Record of what building the virtual hosts read.
type groupMemo struct {
	rec         inputs.Record
	checked     uint64
	results     []*pubResult
	http, https *routev3.VirtualHost
	// redirect are the HTTP-listener virtual hosts of the domains that
	// redirect to HTTPS (one per HTTPS port).
	redirect []*routev3.VirtualHost
	// scopeHosts are the hosts on the instance HTTP listener.
	scopeHosts []string
	// portHTTP and portHTTPS are the virtual hosts of the hosts bound to
	// custom inbound ports.
	portHTTP  map[uint32][]*routev3.VirtualHost
	portHTTPS map[uint32]*routev3.VirtualHost
	problems  []model.APIProblem
	maxBody   int
	err       error
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
	rec       inputs.Record
	listeners []*listenerv3.Listener
	secrets   []*tlsv3.Secret
	problems  []model.APIProblem
	// httpPorts are the custom HTTP ports with a listener.
	httpPorts []uint32
	// tlsGroups are the groups with at least one HTTPS filter chain.
	tlsGroups map[string]bool
	// scoped says that the HTTP listener uses scoped routes; single are
	// then the listeners of the Envoys served RouteHTTP instead.
	scoped bool
	single []*listenerv3.Listener
	// tracing is the cluster of the instance's OTLP collector (nil
	// without tracing); it depends on the instance settings, as the HCMs.
	tracing *clusterv3.Cluster
	// oidcClusters are the token-endpoint clusters of the oidc_auth
	// plug-ins, which are filters of the HCMs.
	oidcClusters []*clusterv3.Cluster
	// cacheCluster is the cluster of apigw's cache (proxy_cache
	// plug-ins), nil without them.
	cacheCluster *clusterv3.Cluster
}

// NewBuilder returns a Builder with nothing memoized.
func NewBuilder(opts Options) *Builder {
	return &Builder{
		opts: opts.withDefaults(), pubs: map[*apigwv1.Publication]*pubMemo{}, groups: map[string]*groupMemo{},
		clusters: map[string]*clusterMemo{}, httpsRC: map[string]*rcMemo{}, portRC: map[string]*rcMemo{}, httpGroupRC: map[string]*rcMemo{},
	}
}

// Build translates an instance.
func (b *Builder) Build(in *model.Instance) (*Resources, error) {
	b.snap = inputs.Open(in, b.snap)
	return b.build(b.snap)
}

func (b *Builder) build(s *inputs.Snapshot) (*Resources, error) {
	// v reads what is assembled on every build; the memoized parts read
	// through Views of their own.
	v := s.Track()
	groups := v.Groups()
	out := &Resources{}
	byGroup := b.publications(s, v, out)
	out.Problems = append(out.Problems, v.HostProblems()...)
	for _, id := range v.BlockedApps() {
		out.Problems = append(out.Problems, model.APIProblem{Instance: v.Name(),
			Reason: fmt.Sprintf("app %s: calls with this app are refused with APIG.0601 (500) until fixed: %s", id, v.AppBlocked(id))})
	}

	seen := map[string]bool{}
	vhosts := map[string]*groupMemo{}
	for _, g := range groups {
		seen[g.Id] = true
		gm := b.group(s, g.Id, byGroup[g.Id])
		if gm.err != nil {
			return nil, fmt.Errorf("group %s: %w", g.Id, gm.err)
		}
		vhosts[g.Id] = gm
		out.Problems = append(out.Problems, gm.problems...)
	}
	for id := range b.groups {
		if !seen[id] {
			delete(b.groups, id)
		}
	}
	am := b.appRoute(s, v, groups, byGroup)
	if am != nil && am.err != nil {
		return nil, fmt.Errorf("app_route: %w", am.err)
	}
	lm, err := b.listenersFor(s)
	if err != nil {
		return nil, err
	}
	out.Listeners, out.Secrets = lm.listeners, lm.secrets
	out.Problems = append(out.Problems, lm.problems...)
	if lm.scoped {
		if err := b.scopedHTTP(v, groups, vhosts, am, out); err != nil {
			return nil, err
		}
		single := &Resources{}
		if err := b.singleHTTP(groups, vhosts, am, single); err != nil {
			return nil, err
		}
		out.SingleListeners, out.SingleRoutes = lm.single, single.Routes
	} else {
		if err := b.singleHTTP(groups, vhosts, am, out); err != nil {
			return nil, err
		}
		clear(b.httpGroupRC)
		b.approuteRC = nil
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
	if err := b.portRoutes(groups, vhosts, lm, out); err != nil {
		return nil, err
	}
	if err := b.clustersFor(byGroup, lm.tlsGroups, out); err != nil {
		return nil, err
	}
	out.Secrets = append(out.Secrets[:len(out.Secrets):len(out.Secrets)], b.backendSecrets(v.Config().GetBackendTls())...)
	if lm.tracing != nil {
		out.Clusters = append(out.Clusters, lm.tracing)
	}
	out.Clusters = append(out.Clusters, lm.oidcClusters...)
	if lm.cacheCluster != nil {
		out.Clusters = append(out.Clusters, lm.cacheCluster)
	}
	sortResources(out)
	return out, nil
}

// publications translates (or reuses) every served publication and groups
// the usable results by group; the others become problems.
func (b *Builder) publications(s *inputs.Snapshot, v *inputs.View, out *Resources) map[string][]*pubResult {
	byGroup := map[string][]*pubResult{}
	b.gen++
	inst := v.Name()
	served := v.ServedAll()
	for _, pub := range served {
		// Keyed on the record: a new record of a release is a new
		// publication, and the old one's memo is dropped below.
		m := b.pubs[pub]
		if m == nil || !s.Holds(m.rec, &m.checked) {
			m = b.publication(s, pub)
			b.pubs[pub] = m
		}
		m.gen = b.gen
		if m.res.problem != "" {
			out.Problems = append(out.Problems, model.APIProblem{Instance: inst, APIID: pub.ApiId, EnvID: pub.EnvId, Reason: m.res.problem})
			continue
		}
		if m.res.blocked != "" {
			out.Problems = append(out.Problems, model.APIProblem{Instance: inst, APIID: pub.ApiId, EnvID: pub.EnvId,
				Reason: "answered with APIG.0601 (500) until fixed: " + m.res.blocked})
		}
		byGroup[m.res.groupID] = append(byGroup[m.res.groupID], m.res)
	}
	if len(b.pubs) > len(served) {
		for k, m := range b.pubs {
			if m.gen != b.gen {
				delete(b.pubs, k)
			}
		}
	}
	return byGroup
}

// publication translates a served publication, recording what it reads.
func (b *Builder) publication(s *inputs.Snapshot, pub *apigwv1.Publication) *pubMemo {
	c := &buildCtx{v: s.Track(), opts: b.opts}
	res := c.translatePublication(pub)
	return &pubMemo{pub: pub, rec: c.v.Record(), checked: s.Seq(), res: res}
}

// group builds (or reuses) a group's virtual hosts from its publications'
// results.
func (b *Builder) group(s *inputs.Snapshot, id string, results []*pubResult) *groupMemo {
	if m := b.groups[id]; m != nil && slices.Equal(m.results, results) && s.Holds(m.rec, &m.checked) {
		return m
	}
	v := s.Track()
	m := &groupMemo{results: results}
	m.err = groupVirtualHosts(v, id, results, b.opts, m)
	m.rec, m.checked = v.Record(), s.Seq()
	b.groups[id] = m
	return m
}

// groupVirtualHosts builds a group's virtual hosts: on the instance HTTP
// listener (nil without hosts there) with those of its domains that
// redirect to HTTPS, on the instance HTTPS listener, on each custom port;
// and the largest direct-response body of its routes.
func groupVirtualHosts(v *inputs.View, groupID string, results []*pubResult, opts Options, m *groupMemo) error {
	gp := portsOf(v, groupID, opts)
	m.scopeHosts, m.problems = gp.mainHTTP, gp.problems
	toHTTPS := redirectDomains(v, groupID, opts)
	var items []routeItem
	for _, r := range results {
		items = append(items, r.items...)
		m.maxBody = max(m.maxBody, r.maxBody)
	}
	sortItems(items)
	var err error
	if m.http, m.redirect, err = httpVirtualHosts(v, groupID, gp.mainHTTP, toHTTPS, items); err != nil {
		return err
	}
	if m.https, err = virtualHost(v, groupID, gp.mainHTTPS, items, true); err != nil {
		return err
	}
	for port, hosts := range gp.httpPorts {
		plain, redirect, err := httpVirtualHosts(v, groupID, hosts, toHTTPS, items)
		if err != nil {
			return err
		}
		if m.portHTTP == nil {
			m.portHTTP = map[uint32][]*routev3.VirtualHost{}
		}
		if plain != nil {
			m.portHTTP[port] = append(m.portHTTP[port], plain)
		}
		m.portHTTP[port] = append(m.portHTTP[port], redirect...)
	}
	for port, hosts := range gp.httpsPorts {
		vh, err := virtualHost(v, groupID, hosts, items, true)
		if err != nil {
			return err
		}
		if m.portHTTPS == nil {
			m.portHTTPS = map[uint32]*routev3.VirtualHost{}
		}
		m.portHTTPS[port] = vh
	}
	for _, vh := range []*routev3.VirtualHost{m.http, m.https} {
		if vh == nil {
			continue
		}
		if err := validate(&routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}); err != nil {
			return err
		}
	}
	return nil
}

// httpVirtualHosts builds a group's HTTP virtual hosts for some of its
// hosts: the plain one, and those of the hosts that redirect to HTTPS.
func httpVirtualHosts(v *inputs.View, groupID string, hosts []string, toHTTPS map[string]uint32, items []routeItem) (*routev3.VirtualHost, []*routev3.VirtualHost, error) {
	sub := map[string]uint32{}
	for _, h := range hosts {
		if p, ok := toHTTPS[h]; ok {
			sub[h] = p
		}
	}
	plain, err := virtualHost(v, groupID, without(hosts, sub), items, false)
	if err != nil {
		return nil, nil, err
	}
	redirect, err := redirectVirtualHosts(v, groupID, sub, items)
	return plain, redirect, err
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
