package admin_test

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// The client secret of an oidc_auth plug-in is write-only: returned by the
// call that sets it, blank on reads, sealed in etcd, kept by an update
// that leaves it empty, and present in the instance the translator reads.
func TestOIDCPluginClientSecret(t *testing.T) {
	e := setup(t)
	const secret = "oidc-client-secret-0123"
	content := `{"client_id":"web","authorization_endpoint":"https://idp.example.com/a","token_endpoint":"https://idp.example.com/t","redirect_uri":"https://api.example.com/cb"}`
	created := e.create(t, &apigwv1.Plugin{PluginName: "oidc_web", PluginType: model.PluginOIDCAuth, PluginContent: content, ClientSecret: secret}).(*apigwv1.Plugin)
	if created.ClientSecret != secret {
		t.Fatalf("create must return the secret it set once, got %q", created.ClientSecret)
	}
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: model.KindPlugin, Id: "oidc_web"})
	if err != nil {
		t.Fatal(err)
	}
	p := got.Resource.GetPlugin()
	if p.ClientSecret != "" {
		t.Fatalf("get must redact the client secret: %v", p)
	}
	kv, err := e.etcd.Get(e.ctx, store.Prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range kv.Kvs {
		if strings.Contains(string(x.Value), secret) {
			t.Fatalf("the client secret is stored in clear under %s", x.Key)
		}
	}
	p.Remark, p.Meta = "edited", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(p)}); err != nil {
		t.Fatalf("update without the secret: %v", err)
	}
	waitRevision(t, e, 0, func(s *live.Snapshot) bool {
		q, _ := s.Instance("default").Get(model.KindPlugin, p.Id).(*apigwv1.Plugin)
		return q.GetRemark() == "edited" && q.GetClientSecret() == secret
	})
	// Without a client secret an oidc_auth plug-in is refused by field.
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Plugin{PluginName: "oidc_other", PluginType: model.PluginOIDCAuth, PluginContent: content})})
	if vs := violations(t, err); len(vs) == 0 || vs[0].Field != "client_secret" {
		t.Errorf("create without a client secret: %v", vs)
	}
}
