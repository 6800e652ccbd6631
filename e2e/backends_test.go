package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// received is one request as a backend got it.
type received struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         string
}

// backend is a real local HTTP backend that records what reaches it.
type backend struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), Body: string(body)}
		b.mu.Lock()
		b.got = append(b.got, rec)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		// Response headers and status a test asks for (proxy_cache).
		for q, h := range map[string]string{"set_cookie": "Set-Cookie", "cache_control": "Cache-Control"} {
			if v := r.URL.Query().Get(q); v != "" {
				w.Header().Set(h, v)
			}
		}
		if s, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil && s >= 200 && s <= 599 {
			w.WriteHeader(s)
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("pad_bytes")); err == nil && n >= 0 {
			// A body of n bytes, with its Content-Length unless the
			// query asks for chunked encoding.
			if r.URL.Query().Has("chunked") {
				w.(http.Flusher).Flush()
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			_, _ = w.Write([]byte(strings.Repeat("x", n)))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"backend": name, "path": rec.Path})
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// addr is host:port.
func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// request returns the request carrying x-request-id id, if it arrived.
func (b *backend) request(id string) (received, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.got {
		if r.Header.Get("X-Request-Id") == id {
			return r, true
		}
	}
	return received{}, false
}

// authorizer is a custom authorizer (docs/extauth.md) that allows the
// bearer tokens it knows and counts its calls per token.
type authorizer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int
}

func newAuthorizer(t *testing.T, users map[string]string) *authorizer {
	t.Helper()
	a := &authorizer{calls: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type    string            `json:"type"`
			Headers map[string]string `json:"headers"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || r.Method != http.MethodPost || ev.Type != "FRONTEND" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		tok := ev.Headers["authorization"]
		a.mu.Lock()
		a.calls[tok]++
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if u, ok := users[tok]; ok {
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "allow", "context": map[string]string{"user": u}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "deny"})
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authorizer) callsFor(token string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[token]
}

// backends are the pet store's backends for one test.
type backends struct {
	release, test, poolA, poolB, canary *backend
	auth                                *authorizer
}

func newBackends(t *testing.T) *backends {
	return &backends{
		release: newBackend(t, "release"), test: newBackend(t, "test"),
		poolA: newBackend(t, "pool-a"), poolB: newBackend(t, "pool-b"), canary: newBackend(t, "canary"),
		auth: newAuthorizer(t, map[string]string{"Bearer demo-token-alice": "alice", "Bearer demo-token-bob": "bob"}),
	}
}

func (b *backends) all() []*backend { return []*backend{b.release, b.test, b.poolA, b.poolB, b.canary} }

// find returns the backend that received request id.
func (b *backends) find(id string) (*backend, received, bool) {
	for _, be := range b.all() {
		if r, ok := be.request(id); ok {
			return be, r, true
		}
	}
	return nil, received{}, false
}
