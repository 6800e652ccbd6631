package translate

import (
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// An IP ACL is enforced by Envoy's RBAC only when Envoy's remote address is
// the client IP the instance defines; otherwise ext_authz must run.
func TestIPACLFollowsTheRealIPSettings(t *testing.T) {
	cases := []struct {
		name     string
		cfg      *apigwv1.InstanceConfig
		wantRBAC bool
	}{
		{"tcp peer", nil, true},
		{"xff from the right", &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: -1}}, true},
		{"xff from the left", &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: 0}}, false},
		{"custom header", &apigwv1.InstanceConfig{RealIpHeaderGetter: &apigwv1.RealIpHeaderGetter{Enable: true, HeaderGetter: "header:x-real-ip"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &apigwv1.Api{Id: "a1", Name: "open_api", GroupId: "g1", ReqMethod: "GET", ReqUri: "/open", ReqProtocol: "HTTP",
				BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/", ReqProtocol: "HTTP"}}
			objs := []proto.Message{
				&apigwv1.Instance{Name: "default", Config: c.cfg},
				&apigwv1.ApiGroup{Id: "g1", Name: "group", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}},
				api,
				&apigwv1.Publication{Id: "p1", ApiId: "a1", EnvId: model.ReleaseEnvID, Api: api},
				&apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"},
				&apigwv1.Acl{Id: "acl1", AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: "10.0.0.0/8"},
				&apigwv1.AclBinding{Id: "b1", ApiId: "a1", EnvId: model.ReleaseEnvID, AclId: "acl1"},
			}
			for _, o := range objs {
				model.Normalize(o)
			}
			res, err := Build(model.NewInstance("default", objs), Options{HTTPRouting: RoutingSingle})
			if err != nil {
				t.Fatal(err)
			}
			var rt *routev3.Route
			for _, rc := range res.Routes {
				for _, vh := range rc.VirtualHosts {
					for _, r := range vh.Routes {
						if r.GetMatch().GetPath() == "/open" && r.GetRoute() != nil {
							rt = r
						}
					}
				}
			}
			if rt == nil {
				t.Fatal("no route for /open")
			}
			_, rbac := rt.TypedPerFilterConfig[filterRBAC]
			if rbac != c.wantRBAC {
				t.Errorf("RBAC on the route: %v, want %v", rbac, c.wantRBAC)
			}
			var per extauthzv3.ExtAuthzPerRoute
			if err := rt.TypedPerFilterConfig[filterExtAuthz].UnmarshalTo(&per); err != nil {
				t.Fatal(err)
			}
			if checked := per.GetCheckSettings() != nil; checked == c.wantRBAC {
				t.Errorf("ext_authz checks the route: %v; it must when Envoy cannot enforce the ACL", checked)
			}
		})
	}
}

// A backend method other than the frontend's is served: ext_authz checks
// the API's routes (it sets :method), and a variant matching the backend's
// method and ext_authz's marker comes first; APIs that keep the client's
// method get neither.
func TestBackendMethodChangeIsServed(t *testing.T) {
	mk := func(id, path, backendMethod string) []proto.Message {
		api := &apigwv1.Api{Id: id, Name: "api_" + id, GroupId: "g1", ReqMethod: "GET", ReqUri: path, ReqProtocol: "HTTP",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/", ReqProtocol: "HTTP", ReqMethod: backendMethod}}
		return []proto.Message{api, &apigwv1.Publication{Id: "p" + id, ApiId: id, EnvId: model.ReleaseEnvID, Api: api},
			&apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: "p" + id}}
	}
	objs := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "group", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}}}
	objs = append(objs, mk("same", "/same", "GET")...)
	objs = append(objs, mk("any", "/any", "ANY")...)
	objs = append(objs, mk("post", "/post", "POST")...)
	for _, o := range objs {
		model.Normalize(o)
	}
	res, err := Build(model.NewInstance("default", objs), Options{HTTPRouting: RoutingSingle})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %+v", res.Problems)
	}
	type seen struct{ methods, markers []string }
	routes := map[string]*seen{}
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			for i, r := range vh.Routes {
				if r.GetRoute() == nil {
					continue // the HTTPS listener answers APIG.0607
				}
				path := r.GetMatch().GetPath()
				if routes[path] == nil {
					routes[path] = &seen{}
				}
				for _, h := range r.GetMatch().GetHeaders() {
					switch h.Name {
					case ":method":
						routes[path].methods = append(routes[path].methods, h.GetStringMatch().GetExact())
					case dataplane.ExtAuthzMethodHeader:
						routes[path].markers = append(routes[path].markers, h.GetStringMatch().GetExact())
						if i != 0 {
							t.Errorf("the method variant %s is route %d of its virtual host, want the first", r.Name, i)
						}
					}
				}
				var per extauthzv3.ExtAuthzPerRoute
				if err := r.TypedPerFilterConfig[filterExtAuthz].UnmarshalTo(&per); err != nil {
					t.Fatal(err)
				}
				if checked := per.GetCheckSettings() != nil; checked != (path == "/post") {
					t.Errorf("route %s: ext_authz checks it: %v", r.Name, checked)
				}
			}
		}
	}
	if got := routes["/post"]; got == nil || !slices.Equal(got.methods, []string{"POST", "GET"}) || !slices.Equal(got.markers, []string{"post/" + model.ReleaseEnvID + "/"}) {
		t.Errorf("/post routes: %+v", got)
	}
	for _, p := range []string{"/same", "/any"} {
		if got := routes[p]; got == nil || len(got.markers) != 0 || len(got.methods) != 1 {
			t.Errorf("%s routes: %+v", p, got)
		}
	}
}
