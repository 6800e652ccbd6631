package extauth

import (
	"errors"
	"strings"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const hdrStage = "x-stage"

var (
	errForgedAppRoute = errors.New("the request carries the internal header " + dataplane.ExtAuthzAppRouteHeader)
	errAppRouteOff    = errors.New("app_route is off")
	errAppRouteNone   = errors.New("app_route: no API the app is authorized for matches the method and path")
)

// resolveAppRoute resolves a request to a gateway address that matched no
// API of the DEFAULT group (app_route, docs/apig-semantics.md#app_route):
// it authenticates the app, chooses among the APP APIs of the other groups
// the app is authorized for in the request's environment the one whose
// method and path match, makes it the target (whose checks then run as for
// any API) and names it in dataplane.ExtAuthzAppRouteHeader so that Envoy
// routes the request to that API's guarded routes.
func (c *call) resolveAppRoute() *denial {
	inst := c.target.inst
	if !inst.Config.GetAppRoute() {
		return &denial{reason: ReasonAPINotFound, err: gwresp.ErrAPINotFound, cause: errAppRouteOff}
	}
	stage := model.ReleaseEnvName
	if v, ok := c.req.hdr.get(hdrStage); ok {
		stage = v
	}
	env := inst.EnvByName(stage)
	if env == nil {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	if d := c.appRouteCaller(); d != nil {
		return d
	}
	plan, d := c.appRouteSelect(env)
	if d != nil {
		return d
	}
	c.mut.setHeader(dataplane.ExtAuthzAppRouteHeader, plan.api.Id)
	return c.setTarget(plan)
}

// appRouteCaller authenticates the app: by AppCode when the request
// carries one (accepted over HTTPS only), else by its signature. Whether
// the chosen API accepts that credential is checked with the API's own
// authentication afterwards.
func (c *call) appRouteCaller() *denial {
	if code, ok := c.req.hdr.get(hdrAppCode); ok && code != "" {
		return c.authAppCode(code)
	}
	return c.verifySignature()
}

// appRouteSelect picks the served APP API (without an oidc_auth plug-in,
// whose login filter runs before ext_authz on the first route) of another
// group than the DEFAULT group that the app is authorized for in env and that matches
// the request's method and path. With several, the most specific wins
// (appRouteRank); two equally specific ones (which the model refuses
// while app_route is on) answer 404, as none.
func (c *call) appRouteSelect(env *apigwv1.Environment) (*apiPlan, *denial) {
	inst := c.target.inst
	var best *apiPlan
	tie := false
	for _, id := range inst.ReferrerIDs(model.KindApp, c.caller.app.Id, model.KindAppAuth) {
		b, ok := inst.Get(model.KindAppAuth, id).(*apigwv1.AppAuth)
		if !ok || b.EnvId != env.Id {
			continue
		}
		plan, err := c.plans.plan(inst, b.ApiId, env.Id)
		if err != nil {
			return nil, &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
		}
		if plan == nil || !appRouteCandidate(plan, c.target.groupID, c.req.method, c.req.path) || inst.PluginOf(b.ApiId, env.Id, model.PluginOIDCAuth) != nil {
			continue
		}
		switch {
		case best == nil || appRouteRank(plan, best) > 0:
			best, tie = plan, false
		case appRouteRank(plan, best) == 0 && plan != best:
			tie = true
		}
	}
	if best == nil || tie {
		return nil, &denial{reason: ReasonAPINotFound, err: gwresp.ErrAPINotFound, cause: errAppRouteNone}
	}
	return best, nil
}

// appRouteCandidate reports whether an API can take a request by app_route:
// APP authentication, not in the DEFAULT group (whose routes Envoy already
// tried), the request's method (or ANY) and a matching path.
func appRouteCandidate(plan *apiPlan, defaultGroupID, method, path string) bool {
	a := plan.api
	if a.AuthType != model.AuthApp || a.GroupId == defaultGroupID {
		return false
	}
	if m := strings.ToUpper(a.ReqMethod); m != "ANY" && m != strings.ToUpper(method) {
		return false
	}
	_, ok := matchSegs(plan, path, nil)
	return ok
}

// appRouteRank orders two matching APIs as the route order does
// (docs/apig-semantics.md#route-priority): an exact path before a prefix
// (SWA), then segment by segment a literal before a parameter before a
// greedy one, more segments first, then a method before ANY. It returns
// > 0 when a comes first.
func appRouteRank(a, b *apiPlan) int {
	if a.prefix != b.prefix {
		if !a.prefix {
			return 1
		}
		return -1
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if ka, kb := segKind(a.segs[i]), segKind(b.segs[i]); ka != kb {
			return kb - ka
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) - len(b.segs)
	}
	anyA, anyB := strings.EqualFold(a.api.ReqMethod, "ANY"), strings.EqualFold(b.api.ReqMethod, "ANY")
	switch {
	case anyA == anyB:
		return 0
	case anyB:
		return 1
	}
	return -1
}

func segKind(s segPlan) int {
	switch {
	case s.greedy:
		return 2
	case s.isParam:
		return 1
	}
	return 0
}
