package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
)

// cacheItemsContent is a proxy_cache content Envoy's cache could key and
// time if it fetched misses through the route (key: X-Tenant, 200 kept
// 60 s).
const cacheItemsContent = `{"cache_key":{"system_params":["$context.stage"],"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"client_cache_control":{"mode":"all"}}`

// cacheDefs bind a set_resp_headers plug-in with $context.cacheStatus to
// two APIs and a mock; no API can have a proxy_cache plug-in.
var cacheDefs = fsGroup + `---
kind: plugin
plugin_name: cache_status
plugin_type: set_resp_headers
plugin_content: '{"response_headers":[{"name":"X-Cache","value":"$context.cacheStatus","value_type":"system_parameter","action":"add"}]}'
` + fsAPI("cached_api", "/cached", "") + fsAPI("uncached_api", "/uncached", "") + `---
kind: api
name: mock_plain
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /mockplain
backend_type: MOCK
mock_info: {status_code: 200, result_content: "mocked", headers: [{key: X-Mock, value: "a=b"}]}
` + cacheStatusBinding("cached_api") + cacheStatusBinding("uncached_api") + cacheStatusBinding("mock_plain")

func cacheStatusBinding(api string) string {
	return `---
kind: plugin_binding
api_id: ` + api + `
env_id: RELEASE
plugin_id: cache_status
`
}

// proxy_cache plug-ins are refused (docs/plugins.md#proxy_cache: since
// Envoy 1.33 the cache filter fetches misses itself, without the route's
// rewrites, header changes and the filters after it). Writing one is
// refused with the field path and changes nothing; one that reached etcd
// around the admin API holds the API it is bound to closed (APIG.0601)
// rather than serving it with a cache apigw cannot configure; without a
// cache, $context.cacheStatus is the route's literal.
func TestProxyCachePluginThroughEnvoy(t *testing.T) {
	w := startFS(t, cacheDefs)

	status := func(t *testing.T, path, want string) {
		t.Helper()
		for range 2 {
			r := w.call(t, call{path: path})
			wantStatus(t, r, http.StatusOK)
			if got := r.header.Get("X-Cache"); got != want || r.header.Get("Age") != "" {
				t.Errorf("%s: X-Cache %q (age %q), want %s", path, got, r.header.Get("Age"), want)
			}
		}
	}
	status(t, "/cached", "via_upstream")
	status(t, "/uncached", "via_upstream")
	status(t, "/mockplain", "direct_response")

	// Refused at write, with the reason; nothing changes.
	f := filepath.Join(t.TempDir(), "cache.yaml")
	doc := "kind: plugin\nplugin_name: cache_items\nplugin_type: proxy_cache\nplugin_content: '" + cacheItemsContent + "'\n---\nkind: plugin_binding\napi_id: cached_api\nenv_id: RELEASE\nplugin_id: cache_items\n"
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := w.g.apigctlCode(t, "apply", "-f", f)
	if code == 0 || !strings.Contains(out, "plugin_type: proxy_cache plug-ins are not supported") || !strings.Contains(out, "straight from the route's cluster") {
		t.Fatalf("apply of a proxy_cache plug-in: exit %d\n%s", code, out)
	}
	if _, ok := w.ids(t, model.KindPlugin)["cache_items"]; ok {
		t.Fatal("the refused plug-in was created")
	}
	r := w.call(t, call{path: "/cached"})
	wantStatus(t, r, http.StatusOK)
	if _, _, ok := w.be.find(r.requestID); !ok {
		t.Fatalf("/cached no longer reaches its backend: %s", r)
	}

	// Around the admin API, straight into etcd: the plug-in cannot be
	// read (it does not validate), so the API bound to it is held closed.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{w.g.etcd}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefix := store.InstancePrefix(model.DefaultInstance)
	envID := bindingEnv(ctx, t, cli, prefix, w.ids(t, model.KindAPI)["cached_api"])
	plugin, _ := json.Marshal(map[string]string{"id": "pc1", "plugin_name": "cache_items", "plugin_type": model.PluginProxyCache, "plugin_scope": "global", "plugin_content": cacheItemsContent})
	binding, _ := json.Marshal(map[string]string{"id": "pcb1", "api_id": w.ids(t, model.KindAPI)["cached_api"], "env_id": envID, "plugin_id": "pc1"})
	for k, v := range map[string][]byte{prefix + "plugins/pc1": plugin, prefix + "plugin-bindings/pcb1": binding} {
		if _, err := cli.Put(ctx, k, string(v)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, func() error {
		r := w.call(t, call{path: "/cached", header: http.Header{"X-Tenant": {"a"}}})
		if b, _, ok := w.be.find(r.requestID); ok {
			return fmt.Errorf("served by backend %s", b.name)
		}
		if r.status != http.StatusInternalServerError {
			return fmt.Errorf("status %d, want 500 APIG.0601: %s", r.status, r)
		}
		return nil
	})
	apigError(t, w.call(t, call{path: "/cached"}), http.StatusInternalServerError, "APIG.0601")
	status(t, "/uncached", "via_upstream")
}

// bindingEnv is the environment id of the stored plug-in bindings of an
// API (the RELEASE environment's).
func bindingEnv(ctx context.Context, t *testing.T, cli *clientv3.Client, prefix, apiID string) string {
	t.Helper()
	resp, err := cli.Get(ctx, prefix+"plugin-bindings/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		var b struct {
			APIID string `json:"api_id"`
			EnvID string `json:"env_id"`
		}
		if json.Unmarshal(kv.Value, &b) == nil && b.APIID == apiID {
			return b.EnvID
		}
	}
	t.Fatalf("no stored plug-in binding of API %s", apiID)
	return ""
}
