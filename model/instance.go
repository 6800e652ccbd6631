package model

import (
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Instance is an immutable view of one gateway instance's definitions with
// the indexes the data-plane components need. Never modify the messages it
// returns.
type Instance struct {
	// Name of the instance (Envoy's node.cluster).
	Name string
	// Def is the stored instance object or the built-in default.
	Def *apigwv1.Instance
	// Config holds the instance parameters with defaults filled in.
	Config *apigwv1.InstanceConfig

	objs   map[string]map[string]proto.Message // kind → id → object
	byName map[string]map[string][]string      // kind → name → ids

	domains    map[string]*apigwv1.ApiGroup // exact host (lower case) → group
	wildcards  map[string]*apigwv1.ApiGroup // "example.com" for "*.example.com"
	appByKey   map[string]*apigwv1.App
	appByCode  map[string]*apigwv1.App
	served     map[string]*apigwv1.Publication       // ReleaseID → current record
	throttleOf map[string]*apigwv1.Throttle          // ReleaseID → bound policy
	aclsOf     map[string][]*apigwv1.Acl             // ReleaseID → bound policies
	appAuth    map[string]bool                       // ReleaseID + "/" + app id
	envVars    map[string]map[string]string          // group/env → name → value
	apisIn     map[string]int                        // group id → number of APIs
	responses  map[string][]*apigwv1.GatewayResponse // group id → response sets, by id

	uniqOnce sync.Once
	uniq     map[string][][2]string // natural key → owners (kind, id)

	// Objects that cannot be read, and what they hold closed
	// (placeholder.go).
	placeholders map[[2]string]Placeholder
	holds        holds
	refsOnce     sync.Once
	referrers    map[[2]string][]Referrer // (kind, id) → objects referencing it
}

// NewInstance builds the view of an instance from its objects (of any
// kind; an *apigwv1.Instance among them becomes Def). Built-in objects
// (environment RELEASE) are added when absent.
func NewInstance(name string, objects []proto.Message) *Instance {
	return NewInstanceWith(name, objects, nil)
}

// NewInstanceWith is NewInstance with the placeholders of the objects of
// the instance that cannot be read (see Placeholder).
func NewInstanceWith(name string, objects []proto.Message, placeholders []Placeholder) *Instance {
	in := &Instance{Name: name, objs: map[string]map[string]proto.Message{}, byName: map[string]map[string][]string{}}
	in.setPlaceholders(placeholders)
	sizes := map[*Kind]int{} // presized maps: large instances are rebuilt on every change
	for _, o := range objects {
		sizes[KindOf(o)]++
	}
	for k, n := range sizes {
		if k != nil && n > 8 {
			in.objs[k.Name] = make(map[string]proto.Message, n)
			in.byName[k.Name] = make(map[string][]string, n)
		}
	}
	for _, o := range objects {
		if d, ok := o.(*apigwv1.Instance); ok {
			in.Def = d
			continue
		}
		in.put(o)
	}
	if in.Def == nil {
		in.Def = &apigwv1.Instance{Name: name}
	}
	if in.objs[KindEnvironment][ReleaseEnvID] == nil {
		in.put(&apigwv1.Environment{Id: ReleaseEnvID, Name: ReleaseEnvName, Remark: "Built-in default environment"})
	}
	in.Config = EffectiveConfig(in.Def)
	in.index()
	return in
}

func (in *Instance) put(o proto.Message) {
	k := KindOf(o)
	if k == nil {
		return
	}
	if in.objs[k.Name] == nil {
		in.objs[k.Name] = map[string]proto.Message{}
		in.byName[k.Name] = map[string][]string{}
	}
	id := IDOf(o)
	in.objs[k.Name][id] = o
	if n := NameOf(o); n != "" {
		in.byName[k.Name][n] = append(in.byName[k.Name][n], id)
	}
}

func (in *Instance) index() {
	in.domains = map[string]*apigwv1.ApiGroup{}
	in.wildcards = map[string]*apigwv1.ApiGroup{}
	for _, g := range List[*apigwv1.ApiGroup](in, KindGroup) {
		in.domains[strings.ToLower(DebugDomain(g.Id, in.Config))] = g
		for _, d := range g.UrlDomains {
			dom := strings.ToLower(d.Domain)
			if rest, ok := strings.CutPrefix(dom, "*."); ok {
				in.wildcards[rest] = g
			} else {
				in.domains[dom] = g
			}
		}
	}
	in.appByKey = map[string]*apigwv1.App{}
	in.appByCode = map[string]*apigwv1.App{}
	for _, a := range each[*apigwv1.App](in, KindApp) {
		in.appByKey[a.AppKey] = a
		for _, c := range a.AppCodes {
			if c.AppCode != "" {
				in.appByCode[c.AppCode] = a
			}
		}
	}
	in.served = map[string]*apigwv1.Publication{}
	for _, r := range each[*apigwv1.Release](in, KindRelease) {
		if p, ok := in.objs[KindPublication][r.PublicationId].(*apigwv1.Publication); ok && p.ApiId == r.ApiId && p.EnvId == r.EnvId {
			in.served[ReleaseID(r.ApiId, r.EnvId)] = p
		}
	}
	in.throttleOf = map[string]*apigwv1.Throttle{}
	for _, b := range each[*apigwv1.ThrottleBinding](in, KindThrottleBinding) {
		if t, ok := in.objs[KindThrottle][b.StrategyId].(*apigwv1.Throttle); ok {
			in.throttleOf[ReleaseID(b.ApiId, b.EnvId)] = t
		}
	}
	in.aclsOf = map[string][]*apigwv1.Acl{}
	for _, b := range List[*apigwv1.AclBinding](in, KindACLBinding) {
		if a, ok := in.objs[KindACL][b.AclId].(*apigwv1.Acl); ok {
			k := ReleaseID(b.ApiId, b.EnvId)
			in.aclsOf[k] = append(in.aclsOf[k], a)
		}
	}
	in.appAuth = map[string]bool{}
	for _, b := range each[*apigwv1.AppAuth](in, KindAppAuth) {
		in.appAuth[ReleaseID(b.ApiId, b.EnvId)+"/"+b.AppId] = true
	}
	in.apisIn = map[string]int{}
	for _, a := range each[*apigwv1.Api](in, KindAPI) {
		in.apisIn[a.GroupId]++
	}
	in.responses = map[string][]*apigwv1.GatewayResponse{}
	for _, r := range List[*apigwv1.GatewayResponse](in, KindResponse) {
		in.responses[r.GroupId] = append(in.responses[r.GroupId], r)
	}
	in.envVars = map[string]map[string]string{}
	for _, v := range each[*apigwv1.EnvVariable](in, KindEnvVariable) {
		k := v.GroupId + "/" + v.EnvId
		if in.envVars[k] == nil {
			in.envVars[k] = map[string]string{}
		}
		in.envVars[k][v.VariableName] = v.VariableValue
	}
	in.indexHolds()
}

// DebugDomain is a group's debug sub-domain.
func DebugDomain(groupID string, cfg *apigwv1.InstanceConfig) string {
	return groupID + "." + cfg.GetDebugDomainSuffix()
}

// Get returns the object of a kind by id, or nil.
func (in *Instance) Get(kind, id string) proto.Message { return in.objs[kind][id] }

// List returns the objects of a kind, sorted by id.
func List[T proto.Message](in *Instance, kind string) []T {
	m := in.objs[kind]
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		if t, ok := m[id].(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// each returns the objects of a kind in no particular order (for indexes
// whose result does not depend on it).
func each[T proto.Message](in *Instance, kind string) []T {
	m := in.objs[kind]
	out := make([]T, 0, len(m))
	for _, o := range m {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Objects returns every object of a kind, sorted by id.
func (in *Instance) Objects(kind string) []proto.Message { return List[proto.Message](in, kind) }

// Count returns the number of objects of a kind.
func (in *Instance) Count(kind string) int { return len(in.objs[kind]) }

// Find returns the object of a kind whose id, or else whose unique name,
// is ref. It fails with ErrNotFound or ErrAmbiguous.
func (in *Instance) Find(kind, ref string) (proto.Message, error) {
	if o := in.objs[kind][ref]; o != nil {
		return o, nil
	}
	switch ids := in.byName[kind][ref]; len(ids) {
	case 0:
		return nil, errorf("%s %q: %w", kind, ref, ErrNotFound)
	case 1:
		return in.objs[kind][ids[0]], nil
	default:
		return nil, errorf("%s %q names %d objects; use the id: %w", kind, ref, len(ids), ErrAmbiguous)
	}
}

func get[T proto.Message](in *Instance, kind, id string) T {
	t, _ := in.objs[kind][id].(T)
	return t
}

// Group returns a group by id.
func (in *Instance) Group(id string) *apigwv1.ApiGroup {
	return get[*apigwv1.ApiGroup](in, KindGroup, id)
}

// API returns the draft of an API by id.
func (in *Instance) API(id string) *apigwv1.Api { return get[*apigwv1.Api](in, KindAPI, id) }

// Env returns an environment by id.
func (in *Instance) Env(id string) *apigwv1.Environment {
	return get[*apigwv1.Environment](in, KindEnvironment, id)
}

// EnvByName returns an environment by name.
func (in *Instance) EnvByName(name string) *apigwv1.Environment {
	if ids := in.byName[KindEnvironment][name]; len(ids) == 1 {
		return in.Env(ids[0])
	}
	return nil
}

// App returns an app by id.
func (in *Instance) App(id string) *apigwv1.App { return get[*apigwv1.App](in, KindApp, id) }

// AppByKey returns the app with an app_key.
func (in *Instance) AppByKey(key string) *apigwv1.App { return in.appByKey[key] }

// AppByCode returns the app owning an AppCode. Callers must still compare
// the code in constant time if they looked it up by a derived key.
func (in *Instance) AppByCode(code string) *apigwv1.App { return in.appByCode[code] }

// Authorizer returns a custom authorizer by id.
func (in *Instance) Authorizer(id string) *apigwv1.Authorizer {
	return get[*apigwv1.Authorizer](in, KindAuthorizer, id)
}

// Channel returns a load-balance channel by id.
func (in *Instance) Channel(id string) *apigwv1.VpcChannel {
	return get[*apigwv1.VpcChannel](in, KindVpcChannel, id)
}

// Throttle returns a throttling policy by id.
func (in *Instance) Throttle(id string) *apigwv1.Throttle {
	return get[*apigwv1.Throttle](in, KindThrottle, id)
}

// ACL returns an ACL policy by id.
func (in *Instance) ACL(id string) *apigwv1.Acl { return get[*apigwv1.Acl](in, KindACL, id) }

// AppQuota returns a credential quota by id.
func (in *Instance) AppQuota(id string) *apigwv1.AppQuota {
	return get[*apigwv1.AppQuota](in, KindAppQuota, id)
}

// Certificate returns a certificate by id.
func (in *Instance) Certificate(id string) *apigwv1.Certificate {
	return get[*apigwv1.Certificate](in, KindCertificate, id)
}

// ResponseSet returns the gateway-response set an API uses: ref is the
// API's response_id (an id or name of a set of the group); empty selects
// the group's set named "default". It returns nil for the built-in
// defaults.
func (in *Instance) ResponseSet(groupID, ref string) *apigwv1.GatewayResponse {
	if ref == "" {
		ref = DefaultResponse
	}
	for _, r := range in.responses[groupID] {
		if r.Id == ref || r.Name == ref {
			return r
		}
	}
	return nil
}

// GroupForHost returns the group a Host header (without port) selects:
// a bound domain, a debug sub-domain, or a wildcard domain.
func (in *Instance) GroupForHost(host string) *apigwv1.ApiGroup {
	host = strings.ToLower(host)
	if g := in.domains[host]; g != nil {
		return g
	}
	if _, rest, ok := strings.Cut(host, "."); ok {
		return in.wildcards[rest]
	}
	return nil
}

// Served returns the publication record current for (API, environment),
// or nil when the API is not published there.
func (in *Instance) Served(apiID, envID string) *apigwv1.Publication {
	return in.served[ReleaseID(apiID, envID)]
}

// ServedAll returns every current publication record, sorted by
// (API id, environment id).
func (in *Instance) ServedAll() []*apigwv1.Publication {
	keys := make([]string, 0, len(in.served))
	for k := range in.served {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*apigwv1.Publication, len(keys))
	for i, k := range keys {
		out[i] = in.served[k]
	}
	return out
}

// ThrottleFor returns the throttling policy bound to (API, environment).
func (in *Instance) ThrottleFor(apiID, envID string) *apigwv1.Throttle {
	return in.throttleOf[ReleaseID(apiID, envID)]
}

// ACLsFor returns the ACL policies bound to (API, environment).
func (in *Instance) ACLsFor(apiID, envID string) []*apigwv1.Acl {
	return in.aclsOf[ReleaseID(apiID, envID)]
}

// Authorized reports whether an app may call an API in an environment.
func (in *Instance) Authorized(appID, apiID, envID string) bool {
	return in.appAuth[ReleaseID(apiID, envID)+"/"+appID]
}

// EnvVars returns the variables of a group in an environment.
func (in *Instance) EnvVars(groupID, envID string) map[string]string {
	return in.envVars[groupID+"/"+envID]
}

// With returns a new view with objects put (replacing same kind and id)
// and the listed (kind, id) pairs removed.
func (in *Instance) With(puts []proto.Message, dels [][2]string) *Instance {
	gone := map[[2]string]bool{}
	for _, d := range dels {
		gone[d] = true
	}
	replaced := map[[2]string]bool{}
	for _, p := range puts {
		replaced[[2]string{KindOf(p).Name, IDOf(p)}] = true
	}
	objs := []proto.Message{}
	if _, ok := replaced[[2]string{KindInstance, in.Name}]; !ok && !gone[[2]string{KindInstance, in.Name}] {
		objs = append(objs, in.Def)
	}
	for kind, m := range in.objs {
		for id, o := range m {
			key := [2]string{kind, id}
			if !gone[key] && !replaced[key] {
				objs = append(objs, o)
			}
		}
	}
	objs = append(objs, puts...)
	var ph []Placeholder
	for key, p := range in.placeholders {
		if !gone[key] && !replaced[key] {
			ph = append(ph, p)
		}
	}
	return NewInstanceWith(in.Name, objs, ph)
}
