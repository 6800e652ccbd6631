package model

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Instance is an immutable view of one gateway instance's definitions with
// the indexes the data-plane components and the admin API need. Never
// modify the messages it returns. Every index is a persistent map, so a
// view derived with With or Edit costs O(change), not O(size): it shares
// everything unchanged with the view it came from (see instance_edit.go).
type Instance struct {
	// Name of the instance (Envoy's node.cluster).
	Name string
	// Def is the stored instance object or the built-in default.
	Def *apigwv1.Instance
	// Config holds the instance parameters with defaults filled in.
	Config *apigwv1.InstanceConfig

	objs   map[string]pmap[proto.Message] // kind → id → object
	byName pmap[[]string]                 // kind, name → ids (sorted)
	// refs indexes references backwards: target kind, target id and
	// referrer kind → referrer id → its fields holding the reference
	// (separated by NUL).
	refs pmap[pmap[string]]
	uniq pmap[[][2]string] // natural key → owners (kind, id)

	domains   pmap[[]*apigwv1.ApiGroup] // exact host (lower case) → groups
	wildcards pmap[[]*apigwv1.ApiGroup] // "example.com" for "*.example.com"
	appByKey  pmap[[]*apigwv1.App]
	appByCode pmap[[]*apigwv1.App]
	served    pmap[*apigwv1.Publication] // ReleaseID → current record
	// servedKeys is replaced whenever a release starts or stops being
	// served (SameServedReleases).
	servedKeys *keySet
	throttleOf pmap[*apigwv1.Throttle] // ReleaseID → bound policy
	aclsOf     pmap[[]*apigwv1.Acl]    // ReleaseID → bound policies
	appAuth    pmap[struct{}]          // ReleaseID + "/" + app id
	envVars    pmap[map[string]string] // group/env → name → value

	// Objects that cannot be read, and what they hold closed
	// (placeholder.go).
	placeholders pmap[Placeholder] // kind, id → placeholder
	holds        holds
	// builtin is the built-in environment RELEASE the view was given
	// while no stored one replaced it.
	builtin *apigwv1.Environment
	// builtinGroup is the built-in DEFAULT group the view was given while
	// no stored group is named DEFAULT (defaultgroup.go).
	builtinGroup *apigwv1.ApiGroup
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
	in := &Instance{Name: name, objs: map[string]pmap[proto.Message]{}, Def: &apigwv1.Instance{Name: name}}
	in.Config = EffectiveConfig(in.Def)
	e := in.Edit()
	for _, p := range placeholders {
		e.SetPlaceholder(p)
	}
	for _, o := range objects {
		if d, ok := o.(*apigwv1.Instance); ok {
			e.Put(d)
		}
	}
	for _, o := range objects {
		if _, ok := o.(*apigwv1.Instance); !ok {
			e.Put(o)
		}
	}
	return e.Done()
}

// DebugDomain is a group's debug sub-domain.
func DebugDomain(groupID string, cfg *apigwv1.InstanceConfig) string {
	return groupID + "." + cfg.GetDebugDomainSuffix()
}

// Get returns the object of a kind by id, or nil.
func (in *Instance) Get(kind, id string) proto.Message { return in.objs[kind].Value(id) }

// List returns the objects of a kind, sorted by id.
func List[T proto.Message](in *Instance, kind string) []T {
	m := in.objs[kind]
	ids := make([]string, 0, m.Len())
	m.each(func(id string, _ proto.Message) bool { ids = append(ids, id); return true })
	sort.Strings(ids)
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		if t, ok := m.Value(id).(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Objects returns every object of a kind, sorted by id.
func (in *Instance) Objects(kind string) []proto.Message { return List[proto.Message](in, kind) }

// Count returns the number of objects of a kind.
func (in *Instance) Count(kind string) int { return in.objs[kind].Len() }

// Find returns the object of a kind whose id, or else whose unique name,
// is ref. It fails with ErrNotFound or ErrAmbiguous.
func (in *Instance) Find(kind, ref string) (proto.Message, error) {
	if o := in.Get(kind, ref); o != nil {
		return o, nil
	}
	switch ids := in.Named(kind, ref); len(ids) {
	case 0:
		return nil, errorf("%s %q: %w", kind, ref, ErrNotFound)
	case 1:
		return in.Get(kind, ids[0]), nil
	default:
		return nil, errorf("%s %q names %d objects; use the id: %w", kind, ref, len(ids), ErrAmbiguous)
	}
}

// Named returns the ids of the objects of a kind with that name, sorted.
func (in *Instance) Named(kind, name string) []string { return in.byName.Value(kind + "\x00" + name) }

func get[T proto.Message](in *Instance, kind, id string) T {
	t, _ := in.Get(kind, id).(T)
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
	if ids := in.Named(KindEnvironment, name); len(ids) == 1 {
		return in.Env(ids[0])
	}
	return nil
}

// App returns an app by id.
func (in *Instance) App(id string) *apigwv1.App { return get[*apigwv1.App](in, KindApp, id) }

// AppByKey returns the app with an app_key.
func (in *Instance) AppByKey(key string) *apigwv1.App { return first(in.appByKey.Value(key)) }

// AppByCode returns the app owning an AppCode. Callers must still compare
// the code in constant time if they looked it up by a derived key.
func (in *Instance) AppByCode(code string) *apigwv1.App { return first(in.appByCode.Value(code)) }

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
	for _, id := range in.ReferrerIDs(KindGroup, groupID, KindResponse) {
		if r := get[*apigwv1.GatewayResponse](in, KindResponse, id); r != nil && r.GroupId == groupID && (r.Id == ref || r.Name == ref) {
			return r
		}
	}
	return nil
}

// GroupForHost returns the group a Host header (without port) selects:
// a bound domain, a debug sub-domain, or a wildcard domain.
func (in *Instance) GroupForHost(host string) *apigwv1.ApiGroup {
	host = strings.ToLower(host)
	if g := first(in.domains.Value(host)); g != nil {
		return g
	}
	if _, rest, ok := strings.Cut(host, "."); ok {
		return first(in.wildcards.Value(rest))
	}
	return nil
}

// Served returns the publication record current for (API, environment),
// or nil when the API is not published there.
func (in *Instance) Served(apiID, envID string) *apigwv1.Publication {
	return in.served.Value(ReleaseID(apiID, envID))
}

// ServedAll returns every current publication record, sorted by
// (API id, environment id).
func (in *Instance) ServedAll() []*apigwv1.Publication {
	_, out := in.ServedAllKeyed()
	return out
}

// ServedAllKeyed is ServedAll with the ReleaseID of each record.
func (in *Instance) ServedAllKeyed() ([]string, []*apigwv1.Publication) {
	keys := make([]string, 0, in.served.Len())
	in.served.each(func(k string, _ *apigwv1.Publication) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	return keys, in.ServedAt(keys)
}

// ServedAt returns the current records of releases by ReleaseID (nil for
// one not served).
func (in *Instance) ServedAt(keys []string) []*apigwv1.Publication {
	out := make([]*apigwv1.Publication, len(keys))
	for i, k := range keys {
		out[i] = in.served.Value(k)
	}
	return out
}

// SameServedReleases reports whether two views serve the same releases
// (their records may differ): when true, ServedAllKeyed's keys of one are
// the other's. It compares identities in O(1); false says nothing.
func (in *Instance) SameServedReleases(other *Instance) bool {
	return in.servedKeys == other.servedKeys && in.served.Len() == other.served.Len()
}

// keySet is an identity: a new one is made whenever a key set changes.
// It has a field so that every one has its own address.
type keySet struct{ _ byte }

// ThrottleFor returns the throttling policy bound to (API, environment).
func (in *Instance) ThrottleFor(apiID, envID string) *apigwv1.Throttle {
	return in.throttleOf.Value(ReleaseID(apiID, envID))
}

// ACLsFor returns the ACL policies bound to (API, environment).
func (in *Instance) ACLsFor(apiID, envID string) []*apigwv1.Acl {
	return in.aclsOf.Value(ReleaseID(apiID, envID))
}

// Authorized reports whether an app may call an API in an environment.
func (in *Instance) Authorized(appID, apiID, envID string) bool {
	_, ok := in.appAuth.Get(ReleaseID(apiID, envID) + "/" + appID)
	return ok
}

// EnvVars returns the variables of a group in an environment.
func (in *Instance) EnvVars(groupID, envID string) map[string]string {
	return in.envVars.Value(groupID + "/" + envID)
}

// With returns a new view with objects put (replacing same kind and id)
// and the listed (kind, id) pairs removed. It costs O(change).
func (in *Instance) With(puts []proto.Message, dels [][2]string) *Instance {
	e := in.Edit()
	for _, d := range dels {
		e.Delete(d[0], d[1])
	}
	for _, p := range puts {
		e.Put(p)
	}
	return e.Done()
}
