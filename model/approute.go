package model

import (
	"regexp"
	"sort"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// pathParam matches a path parameter of a frontend path, {name} or {name+}.
var pathParam = regexp.MustCompile(`\{[^}/+]*(\+?)\}`)

// AppRouteKey is the method and path of an API as app_route compares them:
// two APIs with the same key (or one with method ANY and the same path)
// would both be candidates for one request by the gateway address.
// Parameter names are ignored ({a} and {b} match the same requests).
func AppRouteKey(a *apigwv1.Api) (method, path string) {
	p := pathParam.ReplaceAllString(strings.TrimSuffix(a.GetReqUri(), "/"), "{$1}")
	return strings.ToUpper(a.GetReqMethod()), a.GetMatchMode() + " " + p
}

// appRouteClash reports whether two APIs answer the same method and path.
func appRouteClash(a, b *apigwv1.Api) bool {
	ma, pa := AppRouteKey(a)
	mb, pb := AppRouteKey(b)
	return pa == pb && (ma == mb || ma == "ANY" || mb == "ANY")
}

// appRouteAPI is the API an app_auth binding authorizes, as served in the
// environment (its publication), else as defined.
func (in *Instance) appRouteAPI(apiID, envID string) *apigwv1.Api {
	if p := in.Served(apiID, envID); p != nil && p.Api != nil {
		return p.Api
	}
	return in.API(apiID)
}

// checkAppRouteAuth refuses, while config.app_route is on, an app_auth
// binding that authorizes its app for a second API with the same method
// and path in the environment.
func (in *Instance) checkAppRouteAuth(c checker, b *apigwv1.AppAuth) {
	if !in.Config.GetAppRoute() {
		return
	}
	api := in.appRouteAPI(b.ApiId, b.EnvId)
	if api == nil {
		return
	}
	for _, id := range in.ReferrerIDs(KindApp, b.AppId, KindAppAuth) {
		o := get[*apigwv1.AppAuth](in, KindAppAuth, id)
		if !o.ProtoReflect().IsValid() || o.EnvId != b.EnvId || o.ApiId == b.ApiId {
			continue
		}
		if other := in.appRouteAPI(o.ApiId, o.EnvId); other != nil && appRouteClash(api, other) {
			m, p := AppRouteKey(api)
			c.add("api_id", "app %s is already authorized in this environment for API %s (%s) with the same method and path (%s %s): with the instance's config.app_route on, an app cannot be authorized for two such APIs", b.AppId, o.ApiId, other.Name, m, strings.TrimPrefix(strings.TrimPrefix(p, api.GetMatchMode()), " "))
			return
		}
	}
}

// AppRouteClashes lists, one line each, the pairs of APIs one app is
// authorized for in one environment that have the same method and path.
func (in *Instance) AppRouteClashes() []string {
	type key struct{ app, env string }
	byKey := map[key][]string{}
	for _, o := range List[*apigwv1.AppAuth](in, KindAppAuth) {
		k := key{o.AppId, o.EnvId}
		byKey[k] = append(byKey[k], o.ApiId)
	}
	var out []string
	for k, apis := range byKey {
		sort.Strings(apis)
		for i := range apis {
			a := in.appRouteAPI(apis[i], k.env)
			for j := i + 1; j < len(apis) && a != nil; j++ {
				if b := in.appRouteAPI(apis[j], k.env); b != nil && apis[i] != apis[j] && appRouteClash(a, b) {
					out = append(out, "app "+k.app+" in environment "+k.env+": APIs "+apis[i]+" and "+apis[j])
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkAppRouteConfig refuses turning config.app_route on while an app is
// authorized for two APIs with the same method and path.
func (in *Instance) checkAppRouteConfig(c checker, def *apigwv1.Instance) {
	if !def.GetConfig().GetAppRoute() {
		return
	}
	if clashes := in.AppRouteClashes(); len(clashes) > 0 {
		c.add("config.app_route", "cannot be on while an app is authorized for two APIs with the same method and path in one environment: %s", strings.Join(clashes, "; "))
	}
}
