package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A signature binding whose key is missing holds the API closed in that
// environment (it is never served unsigned); with the key present the
// binding resolves to it.
func TestSignatureBindingHoldsClosedWithoutItsKey(t *testing.T) {
	key := &apigwv1.SignatureKey{Id: "sk1", Name: "sig_key", SignType: model.SignHMAC, SignKey: "gw_key_01", SignSecret: "0123456789abcdefXYZ"}
	binding := &apigwv1.SignatureBinding{Id: "sb1", ApiId: "a1", EnvId: model.ReleaseEnvID, SignId: "sk1"}
	base := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "group1"}, &apigwv1.Api{Id: "a1", Name: "api1", GroupId: "g1"}, binding}

	in := model.NewInstance(model.DefaultInstance, append(base, key))
	if got := in.SignatureFor("a1", model.ReleaseEnvID); got != key {
		t.Fatalf("SignatureFor = %v", got)
	}
	if why := in.Blocked("a1", model.ReleaseEnvID); why != "" {
		t.Fatalf("held closed with its key present: %s", why)
	}
	missing := model.NewInstance(model.DefaultInstance, base)
	if why := missing.Blocked("a1", model.ReleaseEnvID); !strings.Contains(why, "signature key sk1") {
		t.Errorf("a binding to a missing key must hold the API closed, got %q", why)
	}
	if why := missing.Blocked("a1", "other"); why != "" {
		t.Errorf("another environment is held closed: %s", why)
	}
}

func TestBackendSignHeaderValidation(t *testing.T) {
	for h, ok := range map[string]bool{"X-Backend-Sign": true, "": true, "X-Sdk-Date": false, "host": false, "bad header": false} {
		in := &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{CustomAuthHeader: &apigwv1.CustomAuthHeader{BackendSignHeader: h}}}
		vs := model.Validate(in, model.AbsoluteLimits())
		found := false
		for _, v := range vs {
			found = found || strings.HasSuffix(v.Field, "custom_auth_header.backend_sign_header")
		}
		if found == ok {
			t.Errorf("backend_sign_header %q: violations %v", h, vs)
		}
	}
}
