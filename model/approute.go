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
	if id, other := in.appRouteClashWith(b.AppId, b.EnvId, b.ApiId, api); other != nil {
		m, p := AppRouteKey(api)
		c.add("api_id", "app %s is already authorized in this environment for API %s (%s) with the same method and path (%s %s): with the instance's config.app_route on, an app cannot be authorized for two such APIs", b.AppId, id, other.Name, m, strings.TrimPrefix(p, api.GetMatchMode()+" "))
	}
}

// checkAppRouteAPI refuses at field, while config.app_route is on, an API
// definition (envID "": it counts in the environments where the API is
// not published) or a publication of it served in envID that would
// give an app authorized for it the same method and path as another API
// the app is authorized for in that environment.
func (in *Instance) checkAppRouteAPI(c checker, field, apiID, envID string, api *apigwv1.Api) {
	if !in.Config.GetAppRoute() || api == nil {
		return
	}
	for _, id := range in.ReferrerIDs(KindAPI, apiID, KindAppAuth) {
		b := get[*apigwv1.AppAuth](in, KindAppAuth, id)
		if !b.ProtoReflect().IsValid() || (envID != "" && b.EnvId != envID) || (envID == "" && in.Served(apiID, b.EnvId) != nil) {
			continue
		}
		if oid, other := in.appRouteClashWith(b.AppId, b.EnvId, apiID, api); other != nil {
			c.add(field, "app %s is authorized in environment %s for this API and for API %s (%s), which has the same method and path: with the instance's config.app_route on, an app cannot be authorized for two such APIs", b.AppId, b.EnvId, oid, other.Name)
			return
		}
	}
}

// appRouteClashWith returns another API than apiID that the app is
// authorized for in envID and that has api's method and path.
func (in *Instance) appRouteClashWith(appID, envID, apiID string, api *apigwv1.Api) (string, *apigwv1.Api) {
	for _, id := range in.ReferrerIDs(KindApp, appID, KindAppAuth) {
		o := get[*apigwv1.AppAuth](in, KindAppAuth, id)
		if !o.ProtoReflect().IsValid() || o.EnvId != envID || o.ApiId == apiID {
			continue
		}
		if other := in.appRouteAPI(o.ApiId, o.EnvId); other != nil && appRouteClash(api, other) {
			return o.ApiId, other
		}
	}
	return "", nil
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
