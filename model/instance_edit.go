package model

import (
	"maps"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Edit derives a new view from an Instance one object at a time. Put and
// Delete update every index in O(log n): the objects, names, backward
// references, natural keys and the data-plane lookups (hosts, credentials,
// current publications, bindings, variables) that depend on the object.
// View is the view as changed so far, for lookups between updates; Done
// returns it finished. The view the Edit started from never changes. An
// Edit is used by one goroutine and not after Done.
type Edit struct {
	in  *Instance
	tok *editToken
	// newServedKeys says that in.servedKeys was replaced by this edit.
	newServedKeys bool
}

// Edit starts deriving a new view from in.
func (in *Instance) Edit() *Edit {
	c := *in
	c.objs = maps.Clone(in.objs)
	if c.objs == nil {
		c.objs = map[string]pmap[proto.Message]{}
	}
	e := &Edit{in: &c, tok: &editToken{}}
	if c.Get(KindEnvironment, ReleaseEnvID) == nil {
		c.builtin = builtinRelease()
		e.Put(c.builtin)
	}
	e.ensureDefaultGroup()
	return e
}

// Stored reports whether the view holds an object of that kind and id
// other than the built-in environment RELEASE and the built-in DEFAULT
// group.
func (in *Instance) Stored(kind, id string) bool {
	m := in.Get(kind, id)
	return m != nil && m != proto.Message(in.builtin) && m != proto.Message(in.builtinGroup)
}

func builtinRelease() *apigwv1.Environment {
	return &apigwv1.Environment{Id: ReleaseEnvID, Name: ReleaseEnvName, Remark: "Built-in default environment"}
}

// View returns the view with the changes made so far. It must not be kept
// past the next Put, Delete or Done.
func (e *Edit) View() *Instance { return e.in }

// Done returns the finished view.
func (e *Edit) Done() *Instance {
	in, tok := e.in, e.tok
	for k, m := range in.objs {
		m.trim(tok, nil)
		in.objs[k] = m
	}
	in.byName.trim(tok, nil)
	in.refs.trim(tok, func(set pmap[string]) pmap[string] { set.trim(tok, nil); return set })
	in.uniq.trim(tok, nil)
	in.domains.trim(tok, nil)
	in.wildcards.trim(tok, nil)
	in.appByKey.trim(tok, nil)
	in.appByCode.trim(tok, nil)
	in.served.trim(tok, nil)
	in.throttleOf.trim(tok, nil)
	in.aclsOf.trim(tok, nil)
	in.appAuth.trim(tok, nil)
	in.envVars.trim(tok, nil)
	in.placeholders.trim(tok, nil)
	in.holds.apis.trim(tok, nil)
	in.holds.rels.trim(tok, nil)
	in.holds.apps.trim(tok, nil)
	e.in, e.tok = nil, nil
	return in
}

// Put adds an object or replaces the one of the same kind and id (an
// *apigwv1.Instance becomes Def).
func (e *Edit) Put(m proto.Message) {
	k := KindOf(m)
	if k == nil {
		return
	}
	id := IDOf(m)
	e.DeletePlaceholder(k.Name, id)
	if d, ok := m.(*apigwv1.Instance); ok {
		e.setDef(d)
		return
	}
	g, isGroup := m.(*apigwv1.ApiGroup)
	if isGroup && IsDefaultGroup(g) && id != DefaultGroupID {
		e.dropBuiltinGroup()
	}
	e.replace(k.Name, id, e.in.Get(k.Name, id), m)
	if isGroup {
		if id == DefaultGroupID {
			e.in.builtinGroup = nil
		}
		e.ensureDefaultGroup()
	}
}

// Delete removes an object. Deleting the instance object restores the
// default instance; deleting environment RELEASE restores the built-in one.
func (e *Edit) Delete(kind, id string) {
	e.DeletePlaceholder(kind, id)
	if kind == KindInstance {
		if id == e.in.Name {
			e.setDef(&apigwv1.Instance{Name: e.in.Name})
		}
		return
	}
	old := e.in.Get(kind, id)
	if old == nil {
		return
	}
	var m proto.Message
	if kind == KindEnvironment && id == ReleaseEnvID {
		e.in.builtin = builtinRelease()
		m = e.in.builtin
	}
	if old == proto.Message(e.in.builtinGroup) {
		return // the built-in DEFAULT group is not stored
	}
	e.replace(kind, id, old, m)
	if kind == KindGroup {
		e.ensureDefaultGroup()
	}
}

// replace swaps old for m (either may be nil) and updates the indexes.
func (e *Edit) replace(kind, id string, old, m proto.Message) {
	in := e.in
	// The natural keys of ACL bindings depend on their ACL's entity type.
	var deps []proto.Message
	if kind == KindACL {
		for _, bid := range in.ReferrerIDs(KindACL, id, KindACLBinding) {
			if b := in.Get(KindACLBinding, bid); b != nil {
				deps = append(deps, b)
			}
		}
	}
	// So do those of plug-in bindings on their plug-in's type.
	if kind == KindPlugin {
		for _, bid := range in.ReferrerIDs(KindPlugin, id, KindPluginBinding) {
			if b := in.Get(KindPluginBinding, bid); b != nil {
				deps = append(deps, b)
			}
		}
	}
	for _, d := range deps {
		e.uniqueKeys(d, false)
	}
	if old != nil {
		e.index(kind, id, old, false)
	}
	objs := in.objs[kind]
	if m == nil {
		objs.del(e.tok, id)
	} else {
		objs.set(e.tok, id, m)
	}
	in.objs[kind] = objs
	if m != nil {
		e.index(kind, id, m, true)
	}
	for _, d := range deps {
		e.uniqueKeys(d, true)
	}
	e.derive(kind, id, old, m)
}

// index adds (or removes) the entries of an object in the name,
// reference, natural-key, host and credential indexes.
func (e *Edit) index(kind, id string, m proto.Message, add bool) {
	in, tok := e.in, e.tok
	if n := NameOf(m); n != "" {
		update(&in.byName, tok, kind+"\x00"+n, id, id, add, func(s string) string { return s })
	}
	for _, r := range Refs(m) {
		v := r.Get()
		if v == "" || r.Optional {
			continue
		}
		key := r.Kind + "\x00" + v + "\x00" + kind
		set := in.refs.Value(key)
		if fields := editFields(set.Value(id), r.Field, add); fields != "" {
			set.set(tok, id, fields)
		} else {
			set.del(tok, id)
		}
		if set.Len() == 0 {
			in.refs.del(tok, key)
		} else {
			in.refs.set(tok, key, set)
		}
	}
	e.uniqueKeys(m, add)
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		e.hosts(v, in.Config, add)
	case *apigwv1.App:
		byID := func(a *apigwv1.App) string { return a.Id }
		if v.AppKey != "" {
			update(&in.appByKey, tok, v.AppKey, v.Id, v, add, byID)
		}
		for _, c := range v.AppCodes {
			if c.AppCode != "" {
				update(&in.appByCode, tok, c.AppCode, v.Id, v, add, byID)
			}
		}
	}
}

func (e *Edit) uniqueKeys(m proto.Message, add bool) {
	owner := [2]string{KindOf(m).Name, IDOf(m)}
	for _, k := range e.in.uniqueKeys(m) {
		update(&e.in.uniq, e.tok, k.key, owner[0]+"\x00"+owner[1], owner, add, func(o [2]string) string { return o[0] + "\x00" + o[1] })
	}
}

// hosts adds (or removes) the debug domain and bound domains of a group.
func (e *Edit) hosts(g *apigwv1.ApiGroup, cfg *apigwv1.InstanceConfig, add bool) {
	byID := func(g *apigwv1.ApiGroup) string { return g.Id }
	update(&e.in.domains, e.tok, strings.ToLower(DebugDomain(g.Id, cfg)), g.Id, g, add, byID)
	for _, d := range g.UrlDomains {
		dom := strings.ToLower(d.Domain)
		if rest, ok := strings.CutPrefix(dom, "*."); ok {
			update(&e.in.wildcards, e.tok, rest, g.Id, g, add, byID)
		} else {
			update(&e.in.domains, e.tok, dom, g.Id, g, add, byID)
		}
	}
}

// setDef replaces the instance object; the debug domains of every group
// move when the debug domain suffix changes.
func (e *Edit) setDef(d *apigwv1.Instance) {
	in := e.in
	cfg := EffectiveConfig(d)
	var groups []*apigwv1.ApiGroup
	if cfg.GetDebugDomainSuffix() != in.Config.GetDebugDomainSuffix() {
		groups = List[*apigwv1.ApiGroup](in, KindGroup)
	}
	for _, g := range groups {
		e.hosts(g, in.Config, false)
	}
	in.Def, in.Config = d, cfg
	for _, g := range groups {
		e.hosts(g, in.Config, true)
	}
	e.refreshBuiltinGroup()
}

// derive recomputes the data-plane lookups that depend on the object.
func (e *Edit) derive(kind, id string, old, m proto.Message) {
	in := e.in
	for _, o := range []proto.Message{old, m} {
		switch v := o.(type) {
		case *apigwv1.Release:
			e.served(v.ApiId, v.EnvId)
		case *apigwv1.Publication:
			e.served(v.ApiId, v.EnvId)
		case *apigwv1.ThrottleBinding:
			e.throttle(v.ApiId, v.EnvId)
		case *apigwv1.AclBinding:
			e.acls(v.ApiId, v.EnvId)
		case *apigwv1.AppAuth:
			e.appAuth(v.ApiId, v.EnvId, v.AppId)
		case *apigwv1.EnvVariable:
			e.vars(v.GroupId, v.EnvId)
		}
	}
	for _, o := range []proto.Message{old, m} {
		switch v := o.(type) {
		case *apigwv1.Release:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.Publication:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.ThrottleBinding:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.AclBinding:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.SignatureBinding:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.PluginBinding:
			e.relHold(v.ApiId, v.EnvId)
		case *apigwv1.App:
			e.appHold(v.Id)
		}
	}
	switch kind {
	case KindThrottle, KindACL, KindAuthorizer, KindAppQuota, KindSignature, KindPlugin:
		e.dependentHolds(kind, id)
	}
	switch kind {
	case KindThrottle:
		for _, bid := range in.ReferrerIDs(KindThrottle, id, KindThrottleBinding) {
			if b := get[*apigwv1.ThrottleBinding](in, KindThrottleBinding, bid); b != nil {
				e.throttle(b.ApiId, b.EnvId)
			}
		}
	case KindACL:
		for _, bid := range in.ReferrerIDs(KindACL, id, KindACLBinding) {
			if b := get[*apigwv1.AclBinding](in, KindACLBinding, bid); b != nil {
				e.acls(b.ApiId, b.EnvId)
			}
		}
	}
}

// served sets the current publication record of (API, environment).
func (e *Edit) served(apiID, envID string) {
	rid := ReleaseID(apiID, envID)
	if r := get[*apigwv1.Release](e.in, KindRelease, rid); r != nil {
		if p := get[*apigwv1.Publication](e.in, KindPublication, r.PublicationId); p != nil && p.ApiId == r.ApiId && p.EnvId == r.EnvId {
			if _, ok := e.in.served.Get(rid); !ok {
				e.servedKeysChanged()
			}
			e.in.served.set(e.tok, rid, p)
			return
		}
	}
	if _, ok := e.in.served.Get(rid); ok {
		e.servedKeysChanged()
		e.in.served.del(e.tok, rid)
	}
}

// servedKeysChanged gives the view a new servedKeys, once per edit.
func (e *Edit) servedKeysChanged() {
	if !e.newServedKeys {
		e.in.servedKeys, e.newServedKeys = &keySet{}, true
	}
}

// bindings returns the bindings of a kind for (API, environment), by id.
func bindings[T interface {
	proto.Message
	GetEnvId() string
}](in *Instance, kind, apiID, envID string) []T {
	var out []T
	for _, id := range in.ReferrerIDs(KindAPI, apiID, kind) {
		if b := get[T](in, kind, id); b.ProtoReflect().IsValid() && b.GetEnvId() == envID {
			out = append(out, b)
		}
	}
	return out
}

func (e *Edit) throttle(apiID, envID string) {
	var t *apigwv1.Throttle
	for _, b := range bindings[*apigwv1.ThrottleBinding](e.in, KindThrottleBinding, apiID, envID) {
		if p := e.in.Throttle(b.StrategyId); p != nil {
			t = p
		}
	}
	if rid := ReleaseID(apiID, envID); t != nil {
		e.in.throttleOf.set(e.tok, rid, t)
	} else {
		e.in.throttleOf.del(e.tok, rid)
	}
}

func (e *Edit) acls(apiID, envID string) {
	var acls []*apigwv1.Acl
	for _, b := range bindings[*apigwv1.AclBinding](e.in, KindACLBinding, apiID, envID) {
		if a := e.in.ACL(b.AclId); a != nil {
			acls = append(acls, a)
		}
	}
	if rid := ReleaseID(apiID, envID); len(acls) > 0 {
		e.in.aclsOf.set(e.tok, rid, acls)
	} else {
		e.in.aclsOf.del(e.tok, rid)
	}
}

func (e *Edit) appAuth(apiID, envID, appID string) {
	key := ReleaseID(apiID, envID) + "/" + appID
	for _, b := range bindings[*apigwv1.AppAuth](e.in, KindAppAuth, apiID, envID) {
		if b.AppId == appID {
			e.in.appAuth.set(e.tok, key, struct{}{})
			return
		}
	}
	e.in.appAuth.del(e.tok, key)
}

func (e *Edit) vars(groupID, envID string) {
	vars := map[string]string{}
	for _, id := range e.in.ReferrerIDs(KindGroup, groupID, KindEnvVariable) {
		if v := get[*apigwv1.EnvVariable](e.in, KindEnvVariable, id); v != nil && v.EnvId == envID {
			vars[v.VariableName] = v.VariableValue
		}
	}
	if key := groupID + "/" + envID; len(vars) > 0 {
		e.in.envVars.set(e.tok, key, vars)
	} else {
		e.in.envVars.del(e.tok, key)
	}
}

// update adds v (identified by id) to, or removes id from, the list held
// under key, kept sorted by id.
func update[T any](m *pmap[[]T], tok *editToken, key, id string, v T, add bool, idOf func(T) string) {
	list := m.Value(key)
	out := make([]T, 0, len(list)+1)
	done := !add
	for _, x := range list {
		xid := idOf(x)
		if xid == id {
			continue
		}
		if !done && id < xid {
			out, done = append(out, v), true
		}
		out = append(out, x)
	}
	if !done {
		out = append(out, v)
	}
	if len(out) == 0 {
		m.del(tok, key)
	} else {
		m.set(tok, key, out)
	}
}

func first[T any](list []T) T {
	var zero T
	if len(list) == 0 {
		return zero
	}
	return list[0]
}

// editFields adds a field to, or removes it from, the fields (separated
// by NUL) through which one object references another.
func editFields(fields, field string, add bool) string {
	if fields == "" || fields == field {
		if add {
			return field
		}
		return ""
	}
	var out []string
	for _, f := range strings.Split(fields, "\x00") {
		if f != "" && f != field {
			out = append(out, f)
		}
	}
	if add {
		out = append(out, field)
	}
	sort.Strings(out)
	return strings.Join(out, "\x00")
}

// ReferrerIDs returns the ids of the objects of kind referrerKind that
// reference (kind, id), sorted.
func (in *Instance) ReferrerIDs(kind, id, referrerKind string) []string {
	set := in.refs.Value(kind + "\x00" + id + "\x00" + referrerKind)
	if set.Len() == 0 {
		return nil
	}
	ids := make([]string, 0, set.Len())
	set.each(func(rid string, _ string) bool { ids = append(ids, rid); return true })
	sort.Strings(ids)
	return ids
}

// ReferrerCount returns how many objects of kind referrerKind reference
// (kind, id).
func (in *Instance) ReferrerCount(kind, id, referrerKind string) int {
	return in.refs.Value(kind + "\x00" + id + "\x00" + referrerKind).Len()
}

// referrers returns every reference to (kind, id), by referrer kind (in
// kind order), id and field.
func (in *Instance) referrers(kind, id string) []Referrer {
	var out []Referrer
	for _, k := range kindTable {
		set := in.refs.Value(kind + "\x00" + id + "\x00" + k.Name)
		for _, rid := range in.ReferrerIDs(kind, id, k.Name) {
			for _, f := range strings.Split(set.Value(rid), "\x00") {
				out = append(out, Referrer{Kind: k.Name, ID: rid, Field: f})
			}
		}
	}
	return out
}
