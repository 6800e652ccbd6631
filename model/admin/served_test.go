package admin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// TestWhatTheDataPlaneCannotServeIsRefusedWhenWritten: definitions the
// translator would leave out of Envoy's configuration (function backends,
// backend client certificates without the instance's certificate, paths
// Envoy's URI templates cannot match)
// are refused by Create and by Apply with the field path, and nothing is
// stored.
func TestWhatTheDataPlaneCannotServeIsRefusedWhenWritten(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	api := func(mut func(a *apigwv1.Api)) proto.Message {
		a := &apigwv1.Api{Name: "get_pet", GroupId: "pets", ReqMethod: "GET", ReqUri: "/pets/{id}", AuthType: "NONE",
			BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTPS", UrlDomain: "10.0.0.1:8443", ReqUri: "/v1/pets/{id}", Timeout: 3000}}
		mut(a)
		return a
	}
	httpsPolicy := &apigwv1.PolicyHttp{Name: "beta", EffectMode: "ANY", ReqProtocol: "HTTPS", ReqMethod: "GET", ReqUri: "/beta", UrlDomain: "10.0.0.2:8443", Timeout: 3000,
		Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}}
	tests := []struct {
		name  string
		doc   proto.Message
		field string
		why   string
	}{
		{"function backend", api(func(a *apigwv1.Api) {
			a.BackendType, a.BackendApi = "FUNCTION", nil
			a.FuncInfo = &apigwv1.FuncInfo{FunctionUrn: "urn:fss:cn-north-4:p1:function:default:f1", InvocationType: "sync", NetworkType: "V2", Timeout: 5000}
		}), "func_info.function_urn", "not in the instance's function registry"},
		{"function policy backend", api(func(a *apigwv1.Api) {
			a.BackendType, a.BackendApi = "FUNCTION", nil
			a.FuncInfo = &apigwv1.FuncInfo{FunctionUrn: "urn:fss:cn-north-4:p1:function:default:f1", InvocationType: "sync", NetworkType: "V2", Timeout: 5000}
			a.PolicyFunctions = []*apigwv1.PolicyFunction{{Name: "async", EffectMode: "ANY", FunctionUrn: "urn:fss:cn-north-4:p1:function:default:f2", InvocationType: "async", NetworkType: "V2", Timeout: 5000,
				Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}}}
		}), "policy_functions[0].function_urn", "not in the instance's function registry"},
		{"backend client certificate", api(func(a *apigwv1.Api) { a.BackendApi.EnableClientSsl = true }), "backend_api.enable_client_ssl", "backend client certificate"},
		{"client certificate over HTTP", api(func(a *apigwv1.Api) { a.BackendApi.EnableClientSsl, a.BackendApi.ReqProtocol = true, "HTTP" }), "backend_api.enable_client_ssl", "needs req_protocol HTTPS"},
		{"policy backend client certificate", api(func(a *apigwv1.Api) {
			p := proto.Clone(httpsPolicy).(*apigwv1.PolicyHttp)
			p.EnableClientSsl = true
			a.PolicyHttps = []*apigwv1.PolicyHttp{p}
		}), "policy_https[0].enable_client_ssl", "backend client certificate"},
		{"too many path parameters for a prefix match", api(func(a *apigwv1.Api) {
			a.ReqUri, a.MatchMode, a.BackendApi.ReqUri = "/{a}/{b}/{c}/{d}/{e}", "SWA", "/v1"
		}), "req_uri", "uses one for the rest of the path"},
		{"template literal Envoy refuses", api(func(a *apigwv1.Api) { a.ReqUri, a.BackendApi.ReqUri = "/pets*/{id}", "/v1" }), "req_uri", "URI templates do not accept"},
		{"health check client certificate", &apigwv1.VpcChannel{Name: "pool", Port: 443, MemberType: "ip",
			Members:         []*apigwv1.Member{{Host: "10.0.0.3"}},
			VpcHealthConfig: &apigwv1.VpcHealthConfig{Protocol: "HTTPS", Path: "/health", HttpCode: "200", EnableClientSsl: true}},
			"vpc_health_config.enable_client_ssl", "backend client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.keys(t)
			_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(tt.doc)})
			if !hasViolation(t, err, tt.field, tt.why) {
				t.Errorf("create: no violation %q at %s in %v", tt.why, tt.field, err)
			}
			_, err = e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(tt.doc)}})
			if !hasViolation(t, err, "resources[0]."+tt.field, tt.why) {
				t.Errorf("apply: no violation %q at resources[0].%s in %v", tt.why, tt.field, err)
			}
			if after := e.keys(t); len(after) != len(before) {
				t.Errorf("a refused definition was stored: %d → %d keys", len(before), len(after))
			}
		})
	}
	// The same API without the unservable part is accepted.
	e.create(t, api(func(a *apigwv1.Api) { a.PolicyHttps = []*apigwv1.PolicyHttp{httpsPolicy} }))
}

func hasViolation(t *testing.T, err error, field, why string) bool {
	t.Helper()
	if err == nil {
		return false
	}
	for _, v := range violations(t, err) {
		if v.Field == field && strings.Contains(v.Description, why) {
			return true
		}
	}
	return false
}

// enable_client_ssl is accepted once the instance has a backend client
// certificate, and the certificate cannot be removed while an API uses it.
func TestClientSSLNeedsTheInstanceCertificate(t *testing.T) {
	e := setup(t)
	pki := certgentest.PKI(t)
	read := func(parts ...string) string {
		b, err := os.ReadFile(filepath.Join(append([]string{pki}, parts...)...))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bt := &apigwv1.BackendTls{ClientCertificate: read("envoy", dataplane.TLSCertFile), ClientPrivateKey: read("envoy", dataplane.TLSKeyFile), Ca: read(dataplane.TLSCAFile)}
	upsert := func(cfg *apigwv1.InstanceConfig) error {
		_, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Instance{Name: "default", Config: cfg})}})
		return err
	}
	// A key that does not match is refused.
	bad := proto.Clone(bt).(*apigwv1.BackendTls)
	bad.ClientPrivateKey = read("apigw", dataplane.TLSKeyFile)
	if err := upsert(&apigwv1.InstanceConfig{BackendTls: bad}); !hasViolation(t, err, "resources[0].config.backend_tls.client_private_key", "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	if err := upsert(&apigwv1.InstanceConfig{BackendTls: bt}); err != nil {
		t.Fatal(err)
	}
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.Api{Name: "get_pet", GroupId: "pets", ReqMethod: "GET", ReqUri: "/pets", AuthType: "NONE",
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTPS", UrlDomain: "10.0.0.1:8443", ReqUri: "/v1/pets", Timeout: 3000, EnableClientSsl: true}})
	e.create(t, &apigwv1.VpcChannel{Name: "pool", Port: 443, MemberType: "ip", Members: []*apigwv1.Member{{Host: "10.0.0.3"}},
		VpcHealthConfig: &apigwv1.VpcHealthConfig{Protocol: "HTTPS", Path: "/health", HttpCode: "200", EnableClientSsl: true}})
	// The key is kept when an update leaves it empty, and never read back.
	kept := proto.Clone(bt).(*apigwv1.BackendTls)
	kept.ClientPrivateKey = ""
	if err := upsert(&apigwv1.InstanceConfig{BackendTls: kept}); err != nil {
		t.Errorf("update without the key: %v", err)
	}
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "instance", Id: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if k := got.GetResource().GetInstance().GetConfig().GetBackendTls().GetClientPrivateKey(); k != "" {
		t.Errorf("the private key is returned by Get (%d bytes)", len(k))
	}
	err = upsert(&apigwv1.InstanceConfig{})
	if !hasViolation(t, err, "resources[0].config.backend_tls.client_certificate", "api ") || !hasViolation(t, err, "resources[0].config.backend_tls.client_certificate", "channel ") {
		t.Errorf("removing the certificate an API and a channel use: %v", err)
	}
}
