package model

import (
	"fmt"
	"sort"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Placeholder stands for a stored object that cannot be used: its value
// does not decode or validate, and no earlier good version of it is in
// force (after a restart, or when it never was valid). A view keeps it so
// that what references the object finds it unreadable rather than absent,
// and the APIs it would restrict are held closed (see Blocked).
type Placeholder struct {
	Kind, ID string
	// Reason is why the stored value cannot be used.
	Reason string
	// APIID and EnvID are, for a throttling or ACL binding, the API and
	// environment its stored value names, when they can be read from it.
	APIID, EnvID string
}

// holds is what an instance holds closed because an object it needs is
// missing or unreadable. Edit keeps it up to date for what a change
// touches (placeholderEdit and holdsFor below).
type holds struct {
	all  string       // every API of the instance
	apis pmap[string] // API id → reason (every environment)
	rels pmap[string] // ReleaseID → reason
	apps pmap[string] // app id → reason
}

// Placeholders returns the placeholders of the view, sorted by kind and id.
func (in *Instance) Placeholders() []Placeholder {
	out := make([]Placeholder, 0, in.placeholders.Len())
	in.placeholders.each(func(_ string, p Placeholder) bool { out = append(out, p); return true })
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Placeholder returns the placeholder of (kind, id), if the view has one.
func (in *Instance) Placeholder(kind, id string) (Placeholder, bool) {
	if in.placeholders.Len() == 0 { // the usual case: spare building the key
		return Placeholder{}, false
	}
	return in.placeholders.Get(kind + "\x00" + id)
}

// Blocked returns why an API cannot be served in an environment with every
// restriction its operator configured ("" when it can): a throttling or
// ACL policy bound to it, or a custom authorizer its served definition
// names, or a plug-in bound to it, is missing or cannot be read; a
// throttling, ACL or plug-in binding of it cannot be read; or the
// instance definition itself cannot be read. The data plane then answers
// the API's requests with an error instead of serving it with fewer
// restrictions.
func (in *Instance) Blocked(apiID, envID string) string {
	if in.holds.all != "" {
		return in.holds.all
	}
	if why := in.holds.apis.Value(apiID); why != "" {
		return why
	}
	return in.holds.rels.Value(ReleaseID(apiID, envID))
}

// AppBlocked returns why calls made with an app are refused ("" when they
// are not): the credential quota bound to it is missing or cannot be read.
func (in *Instance) AppBlocked(appID string) string { return in.holds.apps.Value(appID) }

// BlockedApps returns the ids of the apps AppBlocked refuses, sorted.
func (in *Instance) BlockedApps() []string {
	out := make([]string, 0, in.holds.apps.Len())
	in.holds.apps.each(func(id string, _ string) bool { out = append(out, id); return true })
	sort.Strings(out)
	return out
}

// unusable says why a referenced object cannot be used ("" when it can).
func (in *Instance) unusable(kind, id, what string) string {
	if in.Get(kind, id) != nil {
		return ""
	}
	if p, ok := in.Placeholder(kind, id); ok {
		return fmt.Sprintf("%s %s cannot be read from etcd (%s)", what, id, p.Reason)
	}
	return fmt.Sprintf("%s %s does not exist", what, id)
}

// SetPlaceholder records an object that cannot be read (replacing any
// object or placeholder of the same kind and id).
func (e *Edit) SetPlaceholder(p Placeholder) {
	switch {
	case p.Kind == KindInstance:
		if p.ID == e.in.Name {
			e.setDef(&apigwv1.Instance{Name: e.in.Name})
		}
	case e.in.Get(p.Kind, p.ID) != nil:
		e.replace(p.Kind, p.ID, e.in.Get(p.Kind, p.ID), nil)
	}
	old, had := e.in.Placeholder(p.Kind, p.ID)
	e.in.placeholders.set(e.tok, p.Kind+"\x00"+p.ID, p)
	if had {
		e.placeholderChanged(old)
	}
	e.placeholderChanged(p)
}

// DeletePlaceholder removes the placeholder of (kind, id), if any.
func (e *Edit) DeletePlaceholder(kind, id string) {
	old, had := e.in.Placeholder(kind, id)
	if !had {
		return
	}
	e.in.placeholders.del(e.tok, kind+"\x00"+id)
	e.placeholderChanged(old)
}

// placeholderChanged updates what a placeholder (set or removed) holds
// closed: the APIs bound to the policy it stands for, the served APIs
// naming the authorizer, the apps of the credential quota, or, for a
// binding or the instance definition, what they name.
func (e *Edit) placeholderChanged(p Placeholder) {
	switch p.Kind {
	case KindThrottle, KindACL, KindAuthorizer, KindAppQuota, KindSignature, KindPlugin:
		e.dependentHolds(p.Kind, p.ID)
	case KindThrottleBinding, KindACLBinding, KindSignBinding, KindPluginBinding, KindInstance:
		e.placeholderHolds()
		if p.APIID != "" && p.EnvID != "" {
			e.relHold(p.APIID, p.EnvID)
		}
	}
}

// placeholderHolds recomputes what unreadable bindings naming no
// environment and an unreadable instance definition hold closed (from the
// placeholders, which are few).
func (e *Edit) placeholderHolds() {
	in := e.in
	var all string
	var apis pmap[string]
	if p, ok := in.Placeholder(KindInstance, in.Name); ok {
		all = fmt.Sprintf("the definition of instance %s cannot be read from etcd (%s)", in.Name, p.Reason)
	}
	for _, p := range in.Placeholders() {
		if p.Kind != KindThrottleBinding && p.Kind != KindACLBinding && p.Kind != KindSignBinding && p.Kind != KindPluginBinding {
			continue
		}
		why := fmt.Sprintf("%s %s cannot be read from etcd (%s)", p.Kind, p.ID, p.Reason)
		switch {
		case p.APIID != "" && p.EnvID != "":
		case p.APIID != "":
			if why += "; it names no environment"; apis.Value(p.APIID) == "" || why < apis.Value(p.APIID) {
				apis.set(e.tok, p.APIID, why)
			}
		case all == "":
			all = why + "; it names no API"
		}
	}
	in.holds.all, in.holds.apis = all, apis
}

// dependentHolds recomputes the holds that depend on (kind, id) being
// readable: of the bindings of a policy, of the served APIs naming an
// authorizer, of the apps of a credential quota.
func (e *Edit) dependentHolds(kind, id string) {
	in := e.in
	switch kind {
	case KindThrottle:
		for _, bid := range in.ReferrerIDs(kind, id, KindThrottleBinding) {
			if b := get[*apigwv1.ThrottleBinding](in, KindThrottleBinding, bid); b != nil {
				e.relHold(b.ApiId, b.EnvId)
			}
		}
	case KindACL:
		for _, bid := range in.ReferrerIDs(kind, id, KindACLBinding) {
			if b := get[*apigwv1.AclBinding](in, KindACLBinding, bid); b != nil {
				e.relHold(b.ApiId, b.EnvId)
			}
		}
	case KindSignature:
		for _, bid := range in.ReferrerIDs(kind, id, KindSignBinding) {
			if b := get[*apigwv1.SignatureBinding](in, KindSignBinding, bid); b != nil {
				e.relHold(b.ApiId, b.EnvId)
			}
		}
	case KindPlugin:
		for _, bid := range in.ReferrerIDs(kind, id, KindPluginBinding) {
			if b := get[*apigwv1.PluginBinding](in, KindPluginBinding, bid); b != nil {
				e.relHold(b.ApiId, b.EnvId)
			}
		}
	case KindAuthorizer:
		for _, pid := range in.ReferrerIDs(kind, id, KindPublication) {
			if p := get[*apigwv1.Publication](in, KindPublication, pid); p != nil && in.Served(p.ApiId, p.EnvId) == p {
				e.relHold(p.ApiId, p.EnvId)
			}
		}
	case KindAppQuota:
		for _, aid := range in.ReferrerIDs(kind, id, KindApp) {
			e.appHold(aid)
		}
	}
}

// relHold recomputes why (API, environment) is held closed; of several
// reasons the view keeps the least, so that it does not depend on order.
func (e *Edit) relHold(apiID, envID string) {
	in := e.in
	var why string
	hold := func(w string) {
		if w != "" && (why == "" || w < why) {
			why = w
		}
	}
	in.placeholders.each(func(_ string, p Placeholder) bool {
		if (p.Kind == KindThrottleBinding || p.Kind == KindACLBinding || p.Kind == KindSignBinding || p.Kind == KindPluginBinding) && p.APIID == apiID && p.EnvID == envID {
			hold(fmt.Sprintf("%s %s cannot be read from etcd (%s)", p.Kind, p.ID, p.Reason))
		}
		return true
	})
	for _, b := range bindings[*apigwv1.ThrottleBinding](in, KindThrottleBinding, apiID, envID) {
		hold(in.unusable(KindThrottle, b.StrategyId, "throttling policy"))
	}
	for _, b := range bindings[*apigwv1.AclBinding](in, KindACLBinding, apiID, envID) {
		hold(in.unusable(KindACL, b.AclId, "ACL policy"))
	}
	for _, b := range bindings[*apigwv1.SignatureBinding](in, KindSignBinding, apiID, envID) {
		hold(in.unusable(KindSignature, b.SignId, "signature key"))
	}
	for _, b := range bindings[*apigwv1.PluginBinding](in, KindPluginBinding, apiID, envID) {
		hold(in.unusable(KindPlugin, b.PluginId, "plug-in"))
	}
	if pub := in.Served(apiID, envID); pub != nil && pub.Api != nil {
		eachAuthorizer(pub.Api, func(id string) { hold(in.unusable(KindAuthorizer, id, "custom authorizer")) })
	}
	if rid := ReleaseID(apiID, envID); why != "" {
		in.holds.rels.set(e.tok, rid, why)
	} else {
		in.holds.rels.del(e.tok, rid)
	}
}

// appHold recomputes why calls with an app are refused.
func (e *Edit) appHold(appID string) {
	var why string
	if a := e.in.App(appID); a != nil && a.AppQuotaId != "" {
		why = e.in.unusable(KindAppQuota, a.AppQuotaId, "credential quota")
	}
	if why != "" {
		e.in.holds.apps.set(e.tok, appID, why)
	} else {
		e.in.holds.apps.del(e.tok, appID)
	}
}

// eachAuthorizer calls f with every custom authorizer an API names (the
// references apiRefs lists, without building them).
func eachAuthorizer(a *apigwv1.Api, f func(id string)) {
	ids := []string{a.AuthorizerId, a.GetBackendApi().GetAuthorizerId(), a.GetFuncInfo().GetAuthorizerId(), a.GetMockInfo().GetAuthorizerId()}
	for _, id := range ids {
		if id != "" {
			f(id)
		}
	}
	for _, p := range a.PolicyHttps {
		if p.AuthorizerId != "" {
			f(p.AuthorizerId)
		}
	}
	for _, p := range a.PolicyFunctions {
		if p.AuthorizerId != "" {
			f(p.AuthorizerId)
		}
	}
	for _, p := range a.PolicyMocks {
		if p.AuthorizerId != "" {
			f(p.AuthorizerId)
		}
	}
}
