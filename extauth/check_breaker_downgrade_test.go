package extauth_test

import (
	"testing"
	"time"

	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const breakerFnURN = "urn:fss:r:p:function:default:fallback"

// breakerDowngrades: one API per new downgrade kind (http_vpc, func,
// passthrough), each opened by one backend timeout.
func breakerDowngradeHarness(t *testing.T) (*harness, *breaker.Registry) {
	const cond = `"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":1,"time_window":10,"open_breaker_time":30}`
	f := newFixture("http://127.0.0.1:1", &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{{Urn: breakerFnURN, Url: "http://127.0.0.1:1/fn"}}})
	f.add(&apigwv1.VpcChannel{Id: "ch-fb", Name: "fallback_pool", Port: 8080, Type: "builtin", Members: []*apigwv1.Member{{Host: "10.0.0.7", Weight: 1}}})
	for _, a := range []struct{ id, uri, content string }{
		{"api-brk-vpc", "/fragilevpc", `{` + cond + `,"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch-fb","scheme":"HTTP","method":"GET","path":"/pool/fallback","timeout":2000}}}`},
		{"api-brk-fn", "/fragilefn", `{` + cond + `,"downgrade_default":{"type":"func","func_info":{"function_urn":"` + breakerFnURN + `","timeout":2000}}}`},
		{"api-brk-pass", "/fragilepass", `{` + cond + `,"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-Degraded","value":"yes"},{"key":"X-Tier","value":"bronze"}]}}`},
	} {
		f.api(&apigwv1.Api{Id: a.id, Name: a.id[4:], ReqUri: a.uri, AuthType: model.AuthNone,
			BackendParams: []*apigwv1.BackendParam{{Name: "X-Tier", Location: model.LocHeader, Origin: model.OriginConstant, Value: "gold"}}})
		f.add(&apigwv1.Plugin{Id: "p-" + a.id, PluginName: "p_" + a.id[4:], PluginType: model.PluginBreaker, PluginContent: a.content},
			&apigwv1.PluginBinding{Id: "b-" + a.id, ApiId: a.id, EnvId: model.ReleaseEnvID, PluginId: "p-" + a.id})
	}
	in := f.instance(t)
	c := &clock{t: testNow}
	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	reg := breaker.New(feed, nil, breaker.WithClock(c.Now))
	h := newHarness(t, in, extauth.WithBreakers(reg))
	h.clock = c
	return h, reg
}

func openBreaker(reg *breaker.Registry, api string) {
	reg.Add(&breaker.Call{Instance: model.DefaultInstance, API: api, Env: model.ReleaseEnvID, Status: 504, Flags: []string{"UT"}})
}

// http_vpc and func downgrades select their policy backend (the channel's
// route, the functions component's route) like an http downgrade, and
// mark the request downgraded.
func TestBreakerOpenChannelAndFunctionDowngrades(t *testing.T) {
	h, reg := breakerDowngradeHarness(t)
	for _, tc := range []struct{ api, path, backendPath string }{
		{"api-brk-vpc", "/fragilevpc", "/pool/fallback"},
		{"api-brk-fn", "/fragilefn", ""},
	} {
		req := envoyRequest{api: tc.api, path: tc.path}
		resp := h.check(req.checkRequest())
		a := allowedResp(t, resp)
		if a.headers[dataplane.ExtAuthzPolicyHeader] != "" || resp.GetDynamicMetadata().GetFields()[dataplane.ExtAuthzMetaBreakerDowngraded] != nil {
			t.Fatalf("%s: a closed breaker downgraded: %+v", tc.api, a)
		}
		openBreaker(reg, tc.api)
		resp = h.check(req.checkRequest())
		a = allowedResp(t, resp)
		if a.headers[dataplane.ExtAuthzPolicyHeader] != "breaker:default" || a.meta[dataplane.ExtAuthzMetaPolicy] != "breaker:default" {
			t.Fatalf("%s: the open breaker did not select its downgrade: %+v", tc.api, a)
		}
		if a.headers["x-tier"] != "gold" {
			t.Fatalf("%s: the downgrade backend did not get the API's backend parameters: %v", tc.api, a.headers)
		}
		if tc.backendPath != "" && a.meta[dataplane.ExtAuthzMetaBackendPath] != tc.backendPath {
			t.Fatalf("%s: backend path %q, want %q", tc.api, a.meta[dataplane.ExtAuthzMetaBackendPath], tc.backendPath)
		}
		if v := resp.GetDynamicMetadata().GetFields()[dataplane.ExtAuthzMetaBreakerDowngraded]; !v.GetBoolValue() {
			t.Fatalf("%s: the downgraded request is not marked: %v", tc.api, resp.GetDynamicMetadata())
		}
	}
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "allow", "reason": "breaker_downgrade"}); v != 2 {
		t.Errorf("breaker_downgrade checks = %v, want 2", v)
	}
}

// A passthrough downgrade lets the request through to the API's own
// backend (no policy selected) with its headers, over the backend
// parameters, marked downgraded so that its result does not feed the
// breaker; after the open time the half-open probe goes without them.
func TestBreakerOpenPassthroughDowngrade(t *testing.T) {
	h, reg := breakerDowngradeHarness(t)
	req := envoyRequest{api: "api-brk-pass", path: "/fragilepass"}
	a := allowedResp(t, h.check(req.checkRequest()))
	if a.headers["x-degraded"] != "" || a.headers["x-tier"] != "gold" {
		t.Fatalf("a closed breaker added the passthrough headers: %v", a.headers)
	}
	openBreaker(reg, "api-brk-pass")
	resp := h.check(req.checkRequest())
	a = allowedResp(t, resp)
	if a.headers["x-degraded"] != "yes" || a.headers["x-tier"] != "bronze" {
		t.Fatalf("passthrough headers %v, want x-degraded: yes, x-tier: bronze", a.headers)
	}
	if a.headers[dataplane.ExtAuthzPolicyHeader] != "" || a.meta[dataplane.ExtAuthzMetaPolicy] != "" {
		t.Fatalf("a passthrough selected a policy backend: %+v", a)
	}
	if v := resp.GetDynamicMetadata().GetFields()[dataplane.ExtAuthzMetaBreakerDowngraded]; !v.GetBoolValue() {
		t.Fatalf("the passed-through request is not marked: %v", resp.GetDynamicMetadata())
	}
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "allow", "reason": "breaker_passthrough"}); v != 1 {
		t.Errorf("breaker_passthrough checks = %v, want 1", v)
	}
	// Its result does not feed the breaker.
	h.clock.Add(30 * time.Second)
	reg.Add(&breaker.Call{Instance: model.DefaultInstance, API: "api-brk-pass", Env: model.ReleaseEnvID, Status: 504, Flags: []string{"UT"}, Downgraded: true})
	if s, _ := reg.State(model.DefaultInstance, "api-brk-pass", model.ReleaseEnvID); s != breaker.HalfOpen {
		t.Fatalf("state %v after a passed-through call's result, want half-open", s)
	}
	a = allowedResp(t, h.check(req.checkRequest()))
	if a.headers["x-degraded"] != "" {
		t.Fatalf("the half-open probe carried the passthrough headers: %v", a.headers)
	}
}
