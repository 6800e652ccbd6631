package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// tfProxyCache is the proxy_cache content of Huawei's Terraform provider
// examples, with a header instead of the query parameter in the key.
const tfProxyCache = `{"cache_key":{"system_params":[],"parameters":[],"headers":["X-Tenant"]},` +
	`"cache_http_status_and_ttl":[{"http_status":[200,203],"ttl":5}],` +
	`"client_cache_control":{"mode":"off","datas":[]},"cacheable_headers":["X-Custom-Header"]}`

// tfProxyCacheWithParameter is the Terraform example as Huawei writes it:
// its key selects the query parameter custom_param (accepted: apigw's
// cache keys on the listed parameters).
const tfProxyCacheWithParameter = `{"cache_key":{"system_params":[],"parameters":["custom_param"],"headers":[]},` +
	`"cache_http_status_and_ttl":[{"http_status":[200,203],"ttl":5}],` +
	`"client_cache_control":{"mode":"off","datas":[]},"cacheable_headers":["X-Custom-Header"]}`

func TestProxyCacheContentValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	for _, tc := range []struct {
		name, content string
		want          string // a violated field path; "" = valid
	}{
		{"terraform example", tfProxyCache, ""},
		{"headers and system params", `{"cache_key":{"system_params":["$context.stage","$context.apiId","$context.apiName"],"headers":["X-Tenant","Accept-Language"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60},{"http_status":[404],"ttl":5}],"client_cache_control":{"mode":"ALL"}}`, ""},
		{"no key", `{"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`, "plugin_content.cache_key"},
		{"empty key", `{"cache_key":{"system_params":[],"parameters":[],"headers":[]}}`, "plugin_content.cache_key"},
		{"source ip in key", `{"cache_key":{"system_params":["$context.stage","$context.sourceIp"]}}`, "plugin_content.cache_key.system_params[1]"},
		{"app in key", `{"cache_key":{"system_params":["$context.appId"]}}`, "plugin_content.cache_key.system_params[0]"},
		{"unknown system param", `{"cache_key":{"system_params":["stage"]}}`, "plugin_content.cache_key.system_params[0]"},
		{"terraform example selecting a query parameter", tfProxyCacheWithParameter, ""},
		{"query parameter beside a header", `{"cache_key":{"headers":["X-Tenant"],"parameters":["page","size"]}}`, ""},
		{"only query parameters", `{"cache_key":{"parameters":["page"]}}`, ""},
		{"query parameter twice", `{"cache_key":{"parameters":["page","page"]}}`, "plugin_content.cache_key.parameters[1]"},
		{"bad query name", `{"cache_key":{"parameters":["a=b"]}}`, "plugin_content.cache_key.parameters[0]"},
		{"bad header name", `{"cache_key":{"headers":["X Tenant"]}}`, "plugin_content.cache_key.headers[0]"},
		{"authorization in key", `{"cache_key":{"headers":["Authorization"]}}`, "plugin_content.cache_key.headers[0]"},
		{"header twice", `{"cache_key":{"headers":["X-A","x-a"]}}`, "plugin_content.cache_key.headers[1]"},
		{"too many headers", `{"cache_key":{"headers":["H` + strings.Repeat(`","H`, 20) + `"]}}`, "plugin_content.cache_key.headers"},
		{"status Envoy cannot cache", `{"cache_key":{"headers":["X-A"]},"cache_http_status_and_ttl":[{"http_status":[200,202],"ttl":5}]}`, "plugin_content.cache_http_status_and_ttl[0].http_status[1]"},
		{"status in two rules", `{"cache_key":{"headers":["X-A"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":5},{"http_status":[200],"ttl":6}]}`, "plugin_content.cache_http_status_and_ttl[1].http_status[0]"},
		{"rule without status", `{"cache_key":{"headers":["X-A"]},"cache_http_status_and_ttl":[{"ttl":5}]}`, "plugin_content.cache_http_status_and_ttl[0].http_status"},
		{"ttl zero", `{"cache_key":{"headers":["X-A"]},"cache_http_status_and_ttl":[{"http_status":[200]}]}`, "plugin_content.cache_http_status_and_ttl[0].ttl"},
		{"ttl too long", `{"cache_key":{"headers":["X-A"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":31536001}]}`, "plugin_content.cache_http_status_and_ttl[0].ttl"},
		{"mode apps", `{"cache_key":{"headers":["X-A"]},"client_cache_control":{"mode":"apps","datas":["app1"]}}`, "plugin_content.client_cache_control.mode"},
		{"mode unknown", `{"cache_key":{"headers":["X-A"]},"client_cache_control":{"mode":"some"}}`, "plugin_content.client_cache_control.mode"},
		{"datas without apps", `{"cache_key":{"headers":["X-A"]},"client_cache_control":{"mode":"all","datas":["app1"]}}`, "plugin_content.client_cache_control.datas"},
		{"cacheable gateway header", `{"cache_key":{"headers":["X-A"]},"cacheable_headers":["X-Apig-Mode"]}`, "plugin_content.cacheable_headers[0]"},
		{"cacheable bad name", `{"cache_key":{"headers":["X-A"]},"cacheable_headers":["a b"]}`, "plugin_content.cacheable_headers[0]"},
		{"unknown field", `{"cache_key":{"headers":["X-A"]},"cache_ttl":5}`, "plugin_content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(plugin("p1", model.PluginProxyCache, tc.content), lim)
			if tc.want == "" {
				if len(vs) > 0 {
					t.Fatalf("unexpected violations:\n%s", fieldsOf(vs))
				}
				return
			}
			found := false
			for _, v := range vs {
				found = found || v.Field == tc.want
			}
			if !found {
				t.Fatalf("want a violation of %s, got:\n%s", tc.want, fieldsOf(vs))
			}
		})
	}
}

// A proxy_cache plug-in caches GET and ANY APIs: binding it to a
// PUT or a HEAD API is refused, and so is changing a cached API's
// method to POST.
func TestProxyCacheBindingNeedsACacheableMethod(t *testing.T) {
	pc := plugin("pc1", model.PluginProxyCache, tfProxyCache)
	put := &apigwv1.PluginBinding{Id: "b1", ApiId: "a2", EnvId: "e1", PluginId: "pc1"}
	in := pluginWorld(pc, put)
	if vs := in.Check(put); len(vs) == 0 || vs[0].Field != "api_id" {
		t.Errorf("binding to PUT: want an api_id violation, got %v", vs)
	}
	headAPI := &apigwv1.Api{Id: "a8", Name: "head_pet", GroupId: "g1", ReqMethod: "HEAD", ReqUri: "/heads", BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/"}}
	head := &apigwv1.PluginBinding{Id: "b3", ApiId: "a8", EnvId: "e1", PluginId: "pc1"}
	in = pluginWorld(pc, headAPI, head)
	if vs := in.Check(head); len(vs) == 0 || vs[0].Field != "api_id" {
		t.Errorf("binding to HEAD: want an api_id violation, got %v", vs)
	}
	get := &apigwv1.PluginBinding{Id: "b2", ApiId: "a1", EnvId: "e1", PluginId: "pc1"}
	in = pluginWorld(pc, get)
	if vs := in.Check(get); len(vs) > 0 {
		t.Fatalf("binding to GET: %v", vs)
	}
	api := in.API("a1")
	if api == nil {
		t.Fatal("no API a1")
	}
	changed := proto.Clone(api).(*apigwv1.Api)
	changed.ReqMethod = "POST"
	found := false
	for _, v := range in.Check(changed) {
		found = found || v.Field == "req_method"
	}
	if !found {
		t.Errorf("changing a cached API to POST: want a req_method violation, got %v", in.Check(changed))
	}
}

// A proxy_cache plug-in is accepted (apigw's cache serves it through
// Envoy's ext_proc filter); the caller's app in the key stays refused.
func TestProxyCachePluginIsAccepted(t *testing.T) {
	for _, c := range []string{tfProxyCache, tfProxyCacheWithParameter} {
		if vs := model.Validate(plugin("p1", model.PluginProxyCache, c), model.AbsoluteLimits()); len(vs) > 0 {
			t.Fatalf("refused:\n%s", fieldsOf(vs))
		}
	}
	vs := model.Validate(plugin("p1", model.PluginProxyCache, `{"cache_key":{"system_params":["$context.appId"]}}`), model.AbsoluteLimits())
	if len(vs) != 1 || vs[0].Field != "plugin_content.cache_key.system_params[0]" || !strings.Contains(vs[0].Description, "not sent to apigw's cache") {
		t.Fatalf("want the appId refusal, got:\n%s", fieldsOf(vs))
	}
}
