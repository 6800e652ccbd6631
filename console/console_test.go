package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rpcStub stands for the transcoder: it records that it was reached.
type rpcStub struct{ called int }

func (s *rpcStub) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.called++
	w.WriteHeader(http.StatusNoContent)
}

func do(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The app is served from the embedded build with validators and a
// content security policy; service paths go to the RPC handler.
func TestAssetsAndRPCPaths(t *testing.T) {
	rpc := &rpcStub{}
	h := Handler(rpc, Options{})
	w := do(h, "GET", "http://127.0.0.1:18006/", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<div id="app">`) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("index: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("validators: %v", w.Header())
	}
	if w := do(h, "GET", "http://127.0.0.1:18006/", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", w.Code)
	}
	if w := do(h, "GET", "http://127.0.0.1:18006/app.js", nil); w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w := do(h, "GET", "http://127.0.0.1:18006/nope.js", nil); w.Code != 404 {
		t.Errorf("missing asset: %d", w.Code)
	}
	if w := do(h, "POST", "http://127.0.0.1:18006/", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", w.Code)
	}
	if w := do(h, "POST", "http://127.0.0.1:18006/apigw.admin.v1.AdminService/List", nil); w.Code != http.StatusNoContent || rpc.called != 1 {
		t.Errorf("RPC path: %d, rpc called %d", w.Code, rpc.called)
	}
}

// Without authentication only loopback hosts are served (a rebound DNS
// name is refused), and cross-origin API calls are refused always.
func TestGuards(t *testing.T) {
	rpc := &rpcStub{}
	open := Handler(rpc, Options{Hosts: []string{"console.internal"}})
	for host, want := range map[string]int{"127.0.0.1:18006": 200, "localhost:18006": 200, "[::1]:18006": 200, "console.internal:18006": 200, "evil.example:18006": http.StatusMisdirectedRequest} {
		if w := do(open, "GET", "http://x/", map[string]string{"Host": host}); w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
	if w := do(Handler(rpc, Options{AnyHost: true}), "GET", "http://x/", map[string]string{"Host": "apigw.example.com"}); w.Code != 200 {
		t.Errorf("open console by name: %d", w.Code)
	}
	authed := Handler(rpc, Options{Authenticated: true})
	if w := do(authed, "GET", "http://x/", map[string]string{"Host": "apigw.example.com"}); w.Code != 200 {
		t.Errorf("authenticated console by name: %d", w.Code)
	}
	path := "http://127.0.0.1:18006/apigw.admin.v1.AdminService/Delete"
	if w := do(authed, "POST", path, map[string]string{"Host": "127.0.0.1:18006", "Origin": "https://evil.example"}); w.Code != http.StatusForbidden {
		t.Errorf("cross-origin call: %d, want 403", w.Code)
	}
	if w := do(authed, "POST", path, map[string]string{"Host": "127.0.0.1:18006", "Origin": "http://127.0.0.1:18006"}); w.Code != http.StatusNoContent {
		t.Errorf("same-origin call: %d", w.Code)
	}
	if rpc.called != 1 {
		t.Errorf("rpc reached %d times, want 1", rpc.called)
	}
}

// The committed build stays small: the whole app loads in one round of
// three requests.
func TestAssetSize(t *testing.T) {
	a := newAssets()
	for _, f := range []string{"/index.html", "/app.js", "/app.css"} {
		if _, ok := a.files[f]; !ok {
			t.Fatalf("%s is not embedded (make console)", f)
		}
	}
	n := Size()
	t.Logf("embedded assets: %d bytes", n)
	if n > 512<<10 {
		t.Fatalf("assets are %d bytes, over 512 KiB", n)
	}
}
