package model_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// randomObject returns an object drawn from a small universe of ids and
// names, so that random changes replace, collide and dangle.
func randomObject(r *rand.Rand) proto.Message {
	n := func(prefix string, k int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(k)) }
	switch r.IntN(15) {
	case 0:
		return &apigwv1.ApiGroup{Id: n("g", 3), Name: n("group", 3), UrlDomains: []*apigwv1.UrlDomain{{Domain: n("h", 4) + ".example.com"}, {Domain: "*." + n("w", 3) + ".example.com"}}}
	case 1:
		return &apigwv1.Environment{Id: n("e", 2), Name: n("ENV", 3)}
	case 2:
		return &apigwv1.EnvVariable{Id: n("v", 4), GroupId: n("g", 3), EnvId: n("e", 2), VariableName: n("name", 2), VariableValue: n("value", 5)}
	case 3:
		return &apigwv1.Api{Id: n("a", 4), Name: n("api", 3), GroupId: n("g", 3), ReqMethod: "GET", ReqUri: "/" + n("p", 3), ResponseId: n("r", 2)}
	case 4:
		return &apigwv1.Throttle{Id: n("t", 2), Name: n("throttle", 2), ApiCallLimits: int32(r.IntN(9) + 1)}
	case 5:
		return &apigwv1.ThrottleBinding{Id: n("tb", 4), ApiId: n("a", 4), EnvId: n("e", 2), StrategyId: n("t", 2)}
	case 6:
		return &apigwv1.Acl{Id: n("acl", 3), AclName: n("acl", 3), EntityType: []string{"IP", "DOMAIN"}[r.IntN(2)]}
	case 7:
		return &apigwv1.AclBinding{Id: n("ab", 4), ApiId: n("a", 4), EnvId: n("e", 2), AclId: n("acl", 3)}
	case 8:
		return &apigwv1.App{Id: n("app", 3), Name: n("app", 3), AppKey: n("key", 3), AppCodes: []*apigwv1.AppCode{{Id: "c", AppCode: n("code", 3)}}, AppQuotaId: []string{"", "q0", "q1"}[r.IntN(3)]}
	case 13:
		return &apigwv1.AppQuota{Id: n("q", 2), Name: n("quota", 2)}
	case 14:
		return &apigwv1.Authorizer{Id: n("az", 2), Name: n("az", 2), Type: model.AuthorizerFrontend}
	case 9:
		return &apigwv1.AppAuth{Id: n("aa", 4), ApiId: n("a", 4), EnvId: n("e", 2), AppId: n("app", 3)}
	case 10:
		return &apigwv1.GatewayResponse{Id: n("r", 2), GroupId: n("g", 3), Name: []string{"default", "custom"}[r.IntN(2)]}
	case 11:
		api := n("a", 4)
		return &apigwv1.Publication{Id: n("pub", 6), ApiId: api, EnvId: n("e", 2), Api: &apigwv1.Api{Id: api, GroupId: n("g", 3), Name: "x", AuthorizerId: []string{"", "az0", "az1"}[r.IntN(3)]}}
	default:
		return &apigwv1.Release{ApiId: n("a", 4), EnvId: n("e", 2), PublicationId: n("pub", 6)}
	}
}

// describeView renders every lookup of a view that the data plane and the
// admin API use, for comparing views built in different ways.
func describeView(in *model.Instance) []string {
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	ids := func(ms []proto.Message) []string {
		var s []string
		for _, m := range ms {
			s = append(s, model.IDOf(m))
		}
		return s
	}
	add("def %v suffix %s", in.Def.GetName(), in.Config.GetDebugDomainSuffix())
	for _, k := range model.Kinds() {
		objs := in.Objects(k.Name)
		add("%s count %d ids %v", k.Name, in.Count(k.Name), ids(objs))
		for _, o := range objs {
			add("%s %s referrers %v check %v", k.Name, model.IDOf(o), in.Referrers(k.Name, model.IDOf(o)), in.Check(o))
			if name := model.NameOf(o); name != "" {
				m, err := in.Find(k.Name, name)
				add("find %s %q: %v %v", k.Name, name, m != nil, err)
			}
		}
	}
	for _, g := range []string{"g0", "g1", "g2"} {
		for _, e := range []string{"e0", "e1", model.ReleaseEnvID} {
			add("vars %s %s %v", g, e, in.EnvVars(g, e))
		}
		for _, ref := range []string{"", "custom", "r0", "r1"} {
			add("response set %s %q: %v", g, ref, model.IDOf(in.ResponseSet(g, ref)))
		}
		add("debug host %s: %v", g, in.GroupForHost(g+"."+in.Config.GetDebugDomainSuffix()).GetId())
	}
	for i := range 4 {
		add("host h%d: %v, wildcard w%d: %v", i, in.GroupForHost(fmt.Sprintf("h%d.example.com", i)).GetId(), i, in.GroupForHost(fmt.Sprintf("x.w%d.example.com", i)).GetId())
	}
	for i := range 3 {
		add("key%d: %v code%d: %v", i, in.AppByKey(fmt.Sprint("key", i)).GetId(), i, in.AppByCode(fmt.Sprint("code", i)).GetId())
	}
	for a := range 4 {
		for _, e := range []string{"e0", "e1"} {
			api := fmt.Sprint("a", a)
			add("served %s %s: %v", api, e, in.Served(api, e).GetId())
			add("throttle %s %s: %v", api, e, in.ThrottleFor(api, e).GetId())
			var acls []string
			for _, x := range in.ACLsFor(api, e) {
				acls = append(acls, x.Id)
			}
			add("acls %s %s: %v", api, e, acls)
			add("blocked %s %s: %q", api, e, in.Blocked(api, e))
			for p := range 3 {
				add("authorized app%d %s %s: %v", p, api, e, in.Authorized(fmt.Sprint("app", p), api, e))
			}
		}
	}
	for p := range 3 {
		add("app%d blocked: %q", p, in.AppBlocked(fmt.Sprint("app", p)))
	}
	add("blocked apps %v placeholders %v", in.BlockedApps(), in.Placeholders())
	var served []string
	for _, p := range in.ServedAll() {
		served = append(served, p.Id)
	}
	add("served all %v", served)
	return out
}

func randomPlaceholder(r *rand.Rand) model.Placeholder {
	n := func(prefix string, k int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(k)) }
	switch r.IntN(7) {
	case 0:
		return model.Placeholder{Kind: model.KindThrottle, ID: n("t", 2), Reason: n("bad", 2)}
	case 1:
		return model.Placeholder{Kind: model.KindACL, ID: n("acl", 3), Reason: n("bad", 2)}
	case 2:
		return model.Placeholder{Kind: model.KindAuthorizer, ID: n("az", 2), Reason: n("bad", 2)}
	case 3:
		return model.Placeholder{Kind: model.KindAppQuota, ID: n("q", 2), Reason: n("bad", 2)}
	case 4:
		return model.Placeholder{Kind: model.KindInstance, ID: "default", Reason: n("bad", 2)}
	}
	kind := []string{model.KindThrottleBinding, model.KindACLBinding}[r.IntN(2)]
	p := model.Placeholder{Kind: kind, ID: n("pb", 3), Reason: n("bad", 2)}
	switch r.IntN(3) {
	case 0:
		p.APIID, p.EnvID = n("a", 4), n("e", 2)
	case 1:
		p.APIID = n("a", 4)
	}
	return p
}

// A view derived change by change answers every lookup exactly as a view
// built from scratch from the same objects and placeholders.
func TestIncrementalViewsMatchFullBuilds(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	in := model.NewInstance("default", nil)
	stored := map[[2]string]proto.Message{}
	placeholders := map[[2]string]model.Placeholder{}
	for step := range 500 {
		e := in.Edit()
		for range r.IntN(4) + 1 {
			switch op := r.IntN(10); {
			case op < 2 && len(stored) > 0:
				keys := make([][2]string, 0, len(stored))
				for k := range stored {
					keys = append(keys, k)
				}
				slices.SortFunc(keys, cmpKey)
				k := keys[r.IntN(len(keys))]
				e.Delete(k[0], k[1])
				delete(stored, k)
				delete(placeholders, k)
			case op == 2:
				p := randomPlaceholder(r)
				k := [2]string{p.Kind, p.ID}
				e.SetPlaceholder(p)
				placeholders[k] = p
				delete(stored, k)
			case op == 3 && len(placeholders) > 0:
				keys := make([][2]string, 0, len(placeholders))
				for k := range placeholders {
					keys = append(keys, k)
				}
				slices.SortFunc(keys, cmpKey)
				k := keys[r.IntN(len(keys))]
				e.DeletePlaceholder(k[0], k[1])
				delete(placeholders, k)
			default:
				o := randomObject(r)
				if step%50 == 49 {
					o = &apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{DebugDomainSuffix: fmt.Sprintf("s%d.test", r.IntN(2))}}
				}
				model.Normalize(o)
				k := [2]string{model.KindOf(o).Name, model.IDOf(o)}
				e.Put(o)
				stored[k] = o
				delete(placeholders, k)
			}
		}
		in = e.Done()
		var all []proto.Message
		for _, o := range stored {
			all = append(all, o)
		}
		var ph []model.Placeholder
		for _, p := range placeholders {
			ph = append(ph, p)
		}
		full := model.NewInstanceWith("default", all, ph)
		got, want := describeView(in), describeView(full)
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("step %d: incremental view differs from a full build:\n got %s\nwant %s", step, got[i], want[i])
				}
			}
			t.Fatalf("step %d: %d lines vs %d", step, len(got), len(want))
		}
	}
}

func cmpKey(a, b [2]string) int {
	if a[0] != b[0] {
		if a[0] < b[0] {
			return -1
		}
		return 1
	}
	switch {
	case a[1] < b[1]:
		return -1
	case a[1] > b[1]:
		return 1
	}
	return 0
}
