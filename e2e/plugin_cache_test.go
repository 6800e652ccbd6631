package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
)

// cacheItemsContent keys by the query parameter page and X-Tenant, keeps
// 200 answers 60 s and replays X-Backend.
const cacheItemsContent = `{"cache_key":{"system_params":["$context.stage"],"parameters":["page"],"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"client_cache_control":{"mode":"off"},"cacheable_headers":["X-Backend"]}`

// cacheShortContent keeps 200 answers 1 s.
const cacheShortContent = `{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":1}]}`

func cachePlugin(name, content string) string {
	return "---\nkind: plugin\nplugin_name: " + name + "\nplugin_type: proxy_cache\nplugin_content: '" + content + "'\n"
}

func pluginBinding(api, plugin string) string {
	return "---\nkind: plugin_binding\napi_id: " + api + "\nenv_id: RELEASE\nplugin_id: " + plugin + "\n"
}

// cacheDefs: cached_api and short_api have proxy_cache plug-ins,
// uncached_api none; a set_resp_headers plug-in renders
// $context.cacheStatus on cached_api and uncached_api.
var cacheDefs = fsGroup + `---
kind: plugin
plugin_name: cache_status
plugin_type: set_resp_headers
plugin_content: '{"response_headers":[{"name":"X-Cache","value":"$context.cacheStatus","value_type":"system_parameter","action":"add"}]}'
` + fsAPI("cached_api", "/cached", "") + fsAPI("short_api", "/short", "") + fsAPI("uncached_api", "/uncached", "") +
	cachePlugin("cache_items", cacheItemsContent) + cachePlugin("cache_short", cacheShortContent) +
	pluginBinding("cached_api", "cache_items") + pluginBinding("short_api", "cache_short") +
	pluginBinding("cached_api", "cache_status") + pluginBinding("uncached_api", "cache_status")

// proxy_cache through the admin API, xDS and the emulated Envoy's ext_proc
// filter to apigw's cache: a miss reaches the backend and is stored, the
// same key is answered without it; the key selects the listed query
// parameter and header; ttl expiry; what is not stored (over 1 MiB,
// Set-Cookie, a status without a rule); a changed content misses; a cache
// that is down lets the backend answer.
func TestProxyCachePluginThroughEnvoy(t *testing.T) {
	w := startFS(t, cacheDefs)
	tenant := func(v string) http.Header { return http.Header{"X-Tenant": {v}} }
	// get calls path and reports whether the backend answered.
	get := func(t *testing.T, path string, h http.Header) (*result, bool) {
		t.Helper()
		r := w.call(t, call{path: path, header: h})
		_, _, ok := w.be.find(r.requestID)
		return r, ok
	}
	// missThenHit: the first call reaches the backend, the second not.
	missThenHit := func(t *testing.T, path string, h http.Header) {
		t.Helper()
		first, backend := get(t, path, h)
		wantStatus(t, first, http.StatusOK)
		if !backend {
			t.Fatalf("%s: first call not served by the backend: %s", path, first)
		}
		second, backend := get(t, path, h)
		wantStatus(t, second, http.StatusOK)
		if backend {
			t.Fatalf("%s: second call reached the backend: %s", path, second)
		}
		// Replayed: Content-Type, and X-Backend where it is in
		// cacheable_headers (cache_items), nothing else.
		wantBackend := ""
		if strings.HasPrefix(path, "/cached") {
			wantBackend = "release"
		}
		if string(second.body) != string(first.body) || second.header.Get("Content-Type") != "application/json" || second.header.Get("X-Backend") != wantBackend {
			t.Fatalf("%s: cached answer %q %v, want %q", path, second.body, second.header, first.body)
		}
	}
	notStored := func(t *testing.T, path string, h http.Header) {
		t.Helper()
		for i := range 2 {
			if r, backend := get(t, path, h); !backend {
				t.Fatalf("%s: call %d answered from the cache: %s", path, i+1, r)
			}
		}
	}

	// Miss then hit; $context.cacheStatus: the route's literal on the
	// backend's answer, the cache's on its own.
	missThenHit(t, "/cached?page=1", tenant("a"))
	if r, _ := get(t, "/cached?page=1", tenant("a")); r.header.Get("X-Cache") != "proxy_cache_hit" {
		t.Errorf("hit X-Cache %q", r.header.Get("X-Cache"))
	}
	if r, _ := get(t, "/cached?page=cs", tenant("a")); r.header.Get("X-Cache") != "via_upstream" {
		t.Errorf("miss X-Cache %q", r.header.Get("X-Cache"))
	}
	if r := w.call(t, call{path: "/uncached"}); r.header.Get("X-Cache") != "via_upstream" {
		t.Errorf("uncached X-Cache %q", r.header.Get("X-Cache"))
	}
	// Query parameter key: page selects, other parameters do not.
	if _, backend := get(t, "/cached?page=1&other=9", tenant("a")); backend {
		t.Error("an unlisted query parameter changed the key")
	}
	missThenHit(t, "/cached?page=2", tenant("a"))
	// Header key.
	missThenHit(t, "/cached?page=1", tenant("b"))
	missThenHit(t, "/cached?page=1", nil)
	// Not stored: over 1 MiB, Set-Cookie, a status without a ttl rule, a
	// backend's no-store.
	notStored(t, fmt.Sprintf("/cached?page=big&pad_bytes=%d", 1<<20+1), nil)
	notStored(t, "/cached?page=cookie&set_cookie=s%3D1", nil)
	notStored(t, "/cached?page=nf&status=404", nil)
	notStored(t, "/cached?page=ns&cache_control=no-store", nil)
	missThenHit(t, fmt.Sprintf("/cached?page=small&pad_bytes=%d", 1<<20), nil)
	// No plug-in: never cached.
	notStored(t, "/uncached", nil)

	// ttl 1 s.
	missThenHit(t, "/short", nil)
	time.Sleep(1100 * time.Millisecond)
	if _, backend := get(t, "/short", nil); !backend {
		t.Error("/short answered from the cache after its ttl")
	}

	m := w.g.Metrics(t)
	if m["apigw_proxy_cache_hits_total"] < 7 || m["apigw_proxy_cache_stores_total"] < 6 {
		t.Errorf("metrics: hits %v stores %v", m["apigw_proxy_cache_hits_total"], m["apigw_proxy_cache_stores_total"])
	}

	// A changed content: the route's scope changes, the stored answer is
	// no longer given.
	changed := strings.Replace(cacheItemsContent, `"ttl":60`, `"ttl":61`, 1)
	f := filepath.Join(t.TempDir(), "cache.yaml")
	if err := os.WriteFile(f, []byte(cachePlugin("cache_items", changed)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := w.cacheScope(t, w.ads.Config())
	if before == "" {
		t.Fatal("cached_api's route has no cache scope")
	}
	w.g.apigctl(t, "apply", "-f", f)
	// Until Envoy has the route with the new scope, its requests carry
	// the old one, which apigw's cache no longer knows: they go to the
	// backend uncached. Wait for the new route before counting misses.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		if now := w.cacheScope(t, c); now == before {
			return fmt.Errorf("cached_api's cache scope is still %s", now)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r, backend := get(t, "/cached?page=1", tenant("a")); !backend {
		t.Fatalf("still answered from the old content's entry: %s", r)
	}
	missThenHit(t, "/cached?page=3", tenant("a"))

	// The cache (in the apigw process) down: failure_mode_allow lets the
	// backend answer (the emulated Envoy keeps its configuration; these
	// APIs need no ext_authz).
	w.g.Stop(t)
	for range 2 {
		r, backend := get(t, "/cached?page=3", tenant("a"))
		wantStatus(t, r, http.StatusOK)
		if !backend {
			t.Fatalf("cache down: not served by the backend: %s", r)
		}
	}
}

// cacheScope is the cache scope Envoy sends apigw's cache for cached_api's
// RELEASE route in c ("" when the route has none).
func (w *fsWorld) cacheScope(t *testing.T, c *envoysim.Config) string {
	t.Helper()
	name := routeName(w.ids(t, model.KindAPI)["cached_api"], "RELEASE")
	for _, rc := range c.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if !strings.HasPrefix(r.GetName(), name) {
					continue
				}
				if m := cacheScopeRE.FindString(prototext.Format(r)); m != "" {
					return m
				}
			}
		}
	}
	return ""
}

var cacheScopeRE = regexp.MustCompile(`content=[0-9a-f]+`)
