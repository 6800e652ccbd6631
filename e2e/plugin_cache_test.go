package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// cacheItems is the proxy_cache plug-in of cacheDefs with a ttl.
func cacheItems(ttl string) string {
	return `kind: plugin
plugin_name: cache_items
plugin_type: proxy_cache
plugin_content: '{"cache_key":{"system_params":["$context.stage"],"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":` + ttl + `}],"client_cache_control":{"mode":"all"}}'
`
}

// cacheDefs bind a proxy_cache plug-in (key: the X-Tenant header, and the
// whole query string as always; 200 kept 60 s) and a set_resp_headers plug-in
// with $context.cacheStatus to one API; another API on a path of its own
// has no cache.
var cacheDefs = fsGroup + "---\n" + cacheItems("60") + `---
kind: plugin
plugin_name: cache_status
plugin_type: set_resp_headers
plugin_content: '{"response_headers":[{"name":"X-Cache","value":"$context.cacheStatus","value_type":"system_parameter","action":"add"}]}'
` + fsAPI("cached_api", "/cached", "") + fsAPI("uncached_api", "/uncached", "") + cacheMock("mock_plain", "/mockplain", "X-Mock") + cacheMock("mock_cookie", "/mockcookie", "Set-Cookie") + `---
kind: plugin_binding
api_id: cached_api
env_id: RELEASE
plugin_id: cache_items
---
kind: plugin_binding
api_id: cached_api
env_id: RELEASE
plugin_id: cache_status
---
kind: plugin_binding
api_id: uncached_api
env_id: RELEASE
plugin_id: cache_status
`

// cacheMock is a mock API answering with one header, bound to both
// plug-ins.
func cacheMock(name, uri, header string) string {
	return `---
kind: api
name: ` + name + `
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: ` + uri + `
backend_type: MOCK
mock_info: {status_code: 200, result_content: "mocked", headers: [{key: ` + header + `, value: "a=b"}]}
---
kind: plugin_binding
api_id: ` + name + `
env_id: RELEASE
plugin_id: cache_items
---
kind: plugin_binding
api_id: ` + name + `
env_id: RELEASE
plugin_id: cache_status
`
}

// The emulated Envoy runs the generated cache filters (internal/envoysim
// cache.go follows Envoy's cacheability rules): a miss reaches the backend
// and is stored with the plug-in's ttl, the same request is answered from
// the cache, and the key's header and the query string (any parameter),
// the client's no-cache (mode all) and Authorization each make a miss.
// Responses over 1 MiB or without Content-Length are not stored, and a
// change of the plug-in's content makes the old entries unreachable.
func TestProxyCachePluginThroughEnvoy(t *testing.T) {
	w := startFS(t, cacheDefs)
	tenant := func(v string) http.Header { return http.Header{"X-Tenant": {v}} }
	reached := func(t *testing.T, r *result, want bool) {
		t.Helper()
		b, got, ok := w.be.find(r.requestID)
		if ok != want {
			t.Fatalf("backend reached = %v, want %v (%s)", ok, want, r)
		}
		if ok && (b.name != "release" || got.Header.Get("X-Apigw-Cache-Scope") != "") {
			t.Errorf("backend %s got the cache scope header %q", b.name, got.Header.Get("X-Apigw-Cache-Scope"))
		}
	}

	miss := w.call(t, call{path: "/cached?page=1", header: tenant("a")})
	wantStatus(t, miss, http.StatusOK)
	reached(t, miss, true)
	if got := miss.header.Get("X-Cache"); got != "via_upstream" {
		t.Errorf("miss: X-Cache = %q, want via_upstream", got)
	}
	if got := miss.header.Get("Cache-Control"); got != "max-age=60" {
		t.Errorf("miss: Cache-Control = %q, want the plug-in's max-age=60", got)
	}

	hit := w.call(t, call{path: "/cached?page=1", header: tenant("a")})
	wantStatus(t, hit, http.StatusOK)
	reached(t, hit, false)
	if got := hit.header.Get("X-Cache"); got != "cache.response_from_cache_filter" {
		t.Errorf("hit: X-Cache = %q, want cache.response_from_cache_filter", got)
	}
	if hit.header.Get("Age") == "" || string(hit.body) != string(miss.body) {
		t.Errorf("hit: age %q, body %s (miss body %s)", hit.header.Get("Age"), hit.body, miss.body)
	}
	if hit.requestID == miss.requestID || hit.header.Get("X-Request-Id") != hit.requestID {
		t.Errorf("hit: x-request-id %q is not its own (miss %q)", hit.header.Get("X-Request-Id"), miss.requestID)
	}

	for name, c := range map[string]call{
		"other tenant":    {path: "/cached?page=1", header: tenant("b")},
		"no tenant":       {path: "/cached?page=1"},
		"other page":      {path: "/cached?page=2", header: tenant("a")},
		"other parameter": {path: "/cached?page=1&x=1", header: tenant("a")},
		"client no-cache": {path: "/cached?page=1", header: http.Header{"X-Tenant": {"a"}, "Cache-Control": {"no-cache"}}},
		"authorization":   {path: "/cached?page=1", header: http.Header{"X-Tenant": {"a"}, "Authorization": {"Basic eDp5"}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := w.call(t, c)
			wantStatus(t, r, http.StatusOK)
			reached(t, r, true)
			if got := r.header.Get("X-Cache"); got != "via_upstream" {
				t.Errorf("X-Cache = %q, want via_upstream", got)
			}
		})
	}

	// A response that sets a cookie gets no-store and is never answered
	// from the cache; the same mock without the cookie is.
	for _, tc := range []struct {
		path, second string
	}{{"/mockplain", "cache.response_from_cache_filter"}, {"/mockcookie", "direct_response"}} {
		first := w.call(t, call{path: tc.path})
		second := w.call(t, call{path: tc.path})
		wantStatus(t, second, http.StatusOK)
		if first.header.Get("X-Cache") != "direct_response" || second.header.Get("X-Cache") != tc.second {
			t.Errorf("%s: X-Cache %q then %q, want direct_response then %s", tc.path, first.header.Get("X-Cache"), second.header.Get("X-Cache"), tc.second)
		}
		if tc.path == "/mockcookie" && second.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tc.path, second.header.Get("Cache-Control"))
		}
	}

	// At most 1 MiB with a Content-Length is stored; more, or a chunked
	// body, gets no-store and reaches the backend every time.
	for _, tc := range []struct {
		name, path string
		stored     bool
	}{
		{"1 MiB", "/cached?pad_bytes=1048576", true},
		{"1 MiB and a byte", "/cached?pad_bytes=1048577", false},
		{"chunked", "/cached?pad_bytes=10&chunked", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := w.call(t, call{path: tc.path})
			second := w.call(t, call{path: tc.path})
			wantStatus(t, second, http.StatusOK)
			reached(t, first, true)
			reached(t, second, !tc.stored)
			// The size filter acts before the ttl filter on the way
			// back, whose max-age is then not added.
			want := "max-age=60"
			if !tc.stored {
				want = "no-store"
			}
			if cc := strings.Join(first.header.Values("Cache-Control"), ","); cc != want {
				t.Errorf("Cache-Control %q, want %q", cc, want)
			}
			if len(second.body) != len(first.body) {
				t.Errorf("body of %d bytes, then %d", len(first.body), len(second.body))
			}
		})
	}

	// A new content of the plug-in (ttl 120): the entry stored under the
	// old content is never answered again, the first request reaches the
	// backend and is stored with the new ttl.
	again := w.call(t, call{path: "/cached?page=1", header: tenant("a")})
	reached(t, again, false)
	w.apply(t, cacheItems("120"))
	eventually(t, 20*time.Second, func() error {
		r := w.call(t, call{path: "/cached?page=1", header: tenant("a")})
		if got := r.header.Get("Cache-Control"); got != "max-age=120" {
			return fmt.Errorf("Cache-Control %q, X-Cache %q: the old entry is still answered", got, r.header.Get("X-Cache"))
		}
		if got := r.header.Get("X-Cache"); got != "via_upstream" {
			return fmt.Errorf("first answer under the new content: X-Cache %q, want via_upstream", got)
		}
		reached(t, r, true)
		return nil
	})
	hitNew := w.call(t, call{path: "/cached?page=1", header: tenant("a")})
	reached(t, hitNew, false)
	if hitNew.header.Get("Cache-Control") != "max-age=120" {
		t.Errorf("hit under the new content: Cache-Control %q", hitNew.header.Get("Cache-Control"))
	}

	// The API without the plug-in is never cached; its cacheStatus header
	// is set by the route.
	for range 2 {
		r := w.call(t, call{path: "/uncached"})
		wantStatus(t, r, http.StatusOK)
		reached(t, r, true)
		if got := r.header.Get("X-Cache"); got != "via_upstream" || r.header.Get("Cache-Control") != "" {
			t.Errorf("uncached: X-Cache %q, Cache-Control %q", got, r.header.Get("Cache-Control"))
		}
	}
}
