package translate

import (
	"bytes"
	"testing"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// An API that needs no check of its own is still routed through ext_authz
// when a signature key is bound to it (ext_authz signs the backend
// request), in that environment only; the key's secret never reaches the
// Envoy resources.
func TestSignedAPIIsCheckedByExtAuthz(t *testing.T) {
	const secret = "never_in_xds_0123456789"
	mk := func(id, path string) []proto.Message {
		api := &apigwv1.Api{Id: id, Name: "api_" + id, GroupId: "g1", ReqMethod: "GET", ReqUri: path, ReqProtocol: "HTTP",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/", ReqProtocol: "HTTP"}}
		return []proto.Message{api, &apigwv1.Publication{Id: "p" + id, ApiId: id, EnvId: model.ReleaseEnvID, Api: api},
			&apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: "p" + id}}
	}
	objs := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "group", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}},
		&apigwv1.Environment{Id: "test", Name: "TEST"},
		&apigwv1.SignatureKey{Id: "sk1", Name: "sig_key", SignType: model.SignHMAC, SignKey: "gw_key_01", SignSecret: secret},
		&apigwv1.SignatureBinding{Id: "sb1", ApiId: "signed", EnvId: model.ReleaseEnvID, SignId: "sk1"},
		&apigwv1.SignatureBinding{Id: "sb2", ApiId: "plain", EnvId: "test", SignId: "sk1"},
	}
	objs = append(objs, mk("signed", "/signed")...)
	objs = append(objs, mk("plain", "/plain")...)
	for _, o := range objs {
		model.Normalize(o)
	}
	res, err := Build(model.NewInstance("default", objs), Options{HTTPRouting: RoutingSingle})
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.GetRoute() == nil {
					continue
				}
				var per extauthzv3.ExtAuthzPerRoute
				if err := r.TypedPerFilterConfig[filterExtAuthz].UnmarshalTo(&per); err != nil {
					t.Fatal(err)
				}
				checked[r.GetMatch().GetPath()] = per.GetCheckSettings() != nil
			}
		}
	}
	if !checked["/signed"] {
		t.Error("the API with a signature key in RELEASE is not checked by ext_authz")
	}
	if v, ok := checked["/plain"]; !ok || v {
		t.Errorf("the API signed only in TEST: RELEASE route present %v, checked %v", ok, v)
	}
	var all []proto.Message
	for _, l := range res.Listeners {
		all = append(all, l)
	}
	for _, r := range res.Routes {
		all = append(all, r)
	}
	for _, c := range res.Clusters {
		all = append(all, c)
	}
	for _, s := range res.Secrets {
		all = append(all, s)
	}
	for _, m := range all {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("the signature secret is in an Envoy resource: %T", m)
		}
	}
}
