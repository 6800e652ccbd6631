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
// missing or unreadable.
type holds struct {
	all  string            // every API of the instance
	apis map[string]string // API id → reason (every environment)
	rels map[string]string // ReleaseID → reason
	apps map[string]string // app id → reason
}

func (in *Instance) setPlaceholders(ps []Placeholder) {
	if len(ps) == 0 {
		return
	}
	in.placeholders = make(map[[2]string]Placeholder, len(ps))
	for _, p := range ps {
		in.placeholders[[2]string{p.Kind, p.ID}] = p
	}
}

// Placeholders returns the placeholders of the view, sorted by kind and id.
func (in *Instance) Placeholders() []Placeholder {
	out := make([]Placeholder, 0, len(in.placeholders))
	for _, p := range in.placeholders {
		out = append(out, p)
	}
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
	p, ok := in.placeholders[[2]string{kind, id}]
	return p, ok
}

// Blocked returns why an API cannot be served in an environment with every
// restriction its operator configured ("" when it can): a throttling or
// ACL policy bound to it, or a custom authorizer its served definition
// names, is missing or cannot be read; a throttling or ACL binding of it
// cannot be read; or the instance definition itself cannot be read. The
// data plane then answers the API's requests with an error instead of
// serving it with fewer restrictions.
func (in *Instance) Blocked(apiID, envID string) string {
	switch {
	case in.holds.all != "":
		return in.holds.all
	case in.holds.apis[apiID] != "":
		return in.holds.apis[apiID]
	}
	return in.holds.rels[ReleaseID(apiID, envID)]
}

// AppBlocked returns why calls made with an app are refused ("" when they
// are not): the credential quota bound to it is missing or cannot be read.
func (in *Instance) AppBlocked(appID string) string { return in.holds.apps[appID] }

// BlockedApps returns the ids of the apps AppBlocked refuses, sorted.
func (in *Instance) BlockedApps() []string {
	out := make([]string, 0, len(in.holds.apps))
	for id := range in.holds.apps {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// unusable says why a referenced object cannot be used ("" when it can).
func (in *Instance) unusable(kind, id, what string) string {
	if in.objs[kind][id] != nil {
		return ""
	}
	if p, ok := in.placeholders[[2]string{kind, id}]; ok {
		return fmt.Sprintf("%s %s cannot be read from etcd (%s)", what, id, p.Reason)
	}
	return fmt.Sprintf("%s %s does not exist", what, id)
}

func (in *Instance) indexHolds() {
	// The maps stay nil (no allocation) unless something is held.
	var h holds
	// hold records why (API, environment) is held closed; of several
	// reasons the view keeps the least, so that it does not depend on
	// map order.
	hold := func(apiID, envID, why string) {
		if why == "" {
			return
		}
		if h.rels == nil {
			h.rels = map[string]string{}
		}
		if k := ReleaseID(apiID, envID); h.rels[k] == "" || why < h.rels[k] {
			h.rels[k] = why
		}
	}
	if p, ok := in.placeholders[[2]string{KindInstance, in.Name}]; ok {
		h.all = fmt.Sprintf("the definition of instance %s cannot be read from etcd (%s)", in.Name, p.Reason)
	}
	for _, p := range in.Placeholders() {
		if p.Kind != KindThrottleBinding && p.Kind != KindACLBinding {
			continue
		}
		why := fmt.Sprintf("%s %s cannot be read from etcd (%s)", p.Kind, p.ID, p.Reason)
		switch {
		case p.APIID != "" && p.EnvID != "":
			hold(p.APIID, p.EnvID, why)
		case p.APIID != "":
			if h.apis == nil {
				h.apis = map[string]string{}
			}
			if why += "; it names no environment"; h.apis[p.APIID] == "" || why < h.apis[p.APIID] {
				h.apis[p.APIID] = why
			}
		case h.all == "":
			h.all = why + "; it names no API"
		}
	}
	for _, b := range each[*apigwv1.ThrottleBinding](in, KindThrottleBinding) {
		hold(b.ApiId, b.EnvId, in.unusable(KindThrottle, b.StrategyId, "throttling policy"))
	}
	for _, b := range each[*apigwv1.AclBinding](in, KindACLBinding) {
		hold(b.ApiId, b.EnvId, in.unusable(KindACL, b.AclId, "ACL policy"))
	}
	for _, pub := range in.served {
		if pub.Api == nil {
			continue
		}
		eachAuthorizer(pub.Api, func(id string) {
			hold(pub.ApiId, pub.EnvId, in.unusable(KindAuthorizer, id, "custom authorizer"))
		})
	}
	for _, a := range each[*apigwv1.App](in, KindApp) {
		if a.AppQuotaId != "" {
			if why := in.unusable(KindAppQuota, a.AppQuotaId, "credential quota"); why != "" {
				if h.apps == nil {
					h.apps = map[string]string{}
				}
				h.apps[a.Id] = why
			}
		}
	}
	in.holds = h
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
