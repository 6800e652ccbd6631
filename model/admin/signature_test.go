package admin_test

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func TestSignatureKeyValidation(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		key   *apigwv1.SignatureKey
		field string
		why   string
	}{
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "hmac", SignKey: "short", SignSecret: "0123456789abcdef"}, "sign_key", "8-32"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "hmac", SignKey: "key_0001", SignSecret: "tooshort"}, "sign_secret", "16-64"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "hmac", SignKey: "key_0001"}, "sign_secret", "required"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "basic", SignKey: "1user", SignSecret: "password1"}, "sign_key", "starting with a letter"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "aes", SignKey: "0123456789abcdef", SignSecret: "0123456789abcdef", SignAlgorithm: "aes-128-cfb"}, "sign_type", "not supported"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "public_key", SignKey: "k", SignSecret: "s"}, "sign_type", "not supported"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "rsa", SignKey: "key_0001", SignSecret: "0123456789abcdef"}, "sign_type", "one of"},
		{&apigwv1.SignatureKey{Name: "sig_a", SignType: "hmac", SignKey: "key_0001", SignSecret: "0123456789abcdef", SignAlgorithm: "aes-128-cfb"}, "sign_algorithm", "only for"},
	} {
		_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(tc.key)})
		vs := violations(t, err)
		found := false
		for _, v := range vs {
			if v.Field == tc.field && strings.Contains(v.Description, tc.why) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s/%s: want violation on %s (%q), got %v", tc.key.SignType, tc.field, tc.field, tc.why, vs)
		}
	}
}

func TestSignatureKeyBindingAndSecret(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	e.create(t, petsAPI("pets"))
	const secret = "s3cret_value_0123456789"
	e.create(t, &apigwv1.SignatureKey{Name: "sig_hmac", SignType: "hmac", SignKey: "gw_key_01", SignSecret: secret})
	e.create(t, &apigwv1.SignatureKey{Name: "sig_basic", SignType: "basic", SignKey: "gateway", SignSecret: "password_01"})

	// Reads never return the secret; etcd holds it sealed.
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "signature", Id: "sig_hmac"})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Resource.GetSignature(); s.SignSecret != "" || s.SignKey != "gw_key_01" {
		t.Fatalf("get must redact the secret: %v", s)
	}
	l, err := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "signature"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range l.Resources {
		if r.GetSignature().SignSecret != "" {
			t.Fatalf("list must redact the secret: %v", r)
		}
	}
	kv, err := e.etcd.Get(e.ctx, store.Prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range kv.Kvs {
		if strings.Contains(string(x.Value), secret) {
			t.Fatalf("the secret is stored in clear under %s", x.Key)
		}
	}
	// An update with the redacted object keeps the secret.
	s := got.Resource.GetSignature()
	s.Remark, s.Meta = "rotated later", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(s)}); err != nil {
		t.Fatal(err)
	}

	bind := func(policy string) error {
		_, err := e.c.Bind(e.ctx, &adminv1.BindRequest{PolicyKind: "signature", PolicyId: policy, ApiIds: []string{"get_pet"}})
		return err
	}
	if err := bind("sig_hmac"); err != nil {
		t.Fatal(err)
	}
	if err := bind("sig_hmac"); err != nil {
		t.Errorf("binding again must be a no-op: %v", err)
	}
	// At most one key per (API, environment): refused with the field path.
	err = bind("sig_basic")
	vs := violations(t, err)
	if len(vs) == 0 || vs[0].Field != "api_ids[0].sign_id" || !strings.Contains(vs[0].Description, "signature key binding for this API and environment") {
		t.Errorf("second key: %v", vs)
	}
	// A bound key cannot be deleted.
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "signature", Id: "sig_hmac"}); code(err) != codes.FailedPrecondition {
		t.Errorf("delete of a bound key: %v", err)
	}
	sn := waitRevision(t, e, 0, func(s *live.Snapshot) bool {
		k := s.Instance("default").SignatureFor(apiID(s, "get_pet"), model.ReleaseEnvID)
		return k != nil && k.SignSecret == secret && k.Remark == "rotated later"
	})
	_ = sn
	r, err := e.c.Unbind(e.ctx, &adminv1.UnbindRequest{PolicyKind: "signature", PolicyId: "sig_hmac", ApiIds: []string{"get_pet"}})
	if err != nil || r.Removed != 1 {
		t.Fatalf("unbind: %v %v", r, err)
	}
	if err := bind("sig_basic"); err != nil {
		t.Errorf("bind after unbind: %v", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "signature", Id: "sig_hmac"}); err != nil {
		t.Errorf("delete of an unbound key: %v", err)
	}
}

func apiID(s *live.Snapshot, name string) string {
	for _, a := range model.List[*apigwv1.Api](s.Instance("default"), model.KindAPI) {
		if a.Name == name {
			return a.Id
		}
	}
	return ""
}
