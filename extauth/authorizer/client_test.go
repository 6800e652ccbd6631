package authorizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw/apigw/extauth/authorizer"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type src struct{ h, q map[string]string }

func (s src) Header(n string) (string, bool) { v, ok := s.h[n]; return v, ok }
func (s src) Query(n string) (string, bool)  { v, ok := s.q[n]; return v, ok }

// server answers with the handler's body/status and records events.
type server struct {
	*httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	events []authorizer.Event
	reply  func(w http.ResponseWriter, ev authorizer.Event)
}

func newServer(t *testing.T, reply func(w http.ResponseWriter, ev authorizer.Event)) *server {
	s := &server{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		var ev authorizer.Event
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &ev) != nil {
			http.Error(w, "bad request", 400)
			return
		}
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
		s.reply(w, ev)
	}))
	t.Cleanup(s.Close)
	return s
}

func reply(body string) func(http.ResponseWriter, authorizer.Event) {
	return func(w http.ResponseWriter, _ authorizer.Event) { io.WriteString(w, body) }
}

func spec(t *testing.T, a *apigwv1.Authorizer) *authorizer.Spec {
	t.Helper()
	s, err := authorizer.Compile("default", a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func def(uri string) *apigwv1.Authorizer {
	return &apigwv1.Authorizer{Id: "az1", Name: "auth", Type: "FRONTEND", AuthorizerUri: uri, Ttl: 60, Timeout: 2000,
		UserData: "ud", Identities: []*apigwv1.Identity{{Name: "Authorization", Location: "HEADER"}, {Name: "tenant", Location: "QUERY", Validation: "^[a-z]+$"}}}
}

var goodSrc = src{h: map[string]string{"authorization": "Bearer t1"}, q: map[string]string{"tenant": "acme"}}

func newEvent() *authorizer.Event {
	return &authorizer.Event{HTTPMethod: "GET", Path: "/p", Headers: map[string]string{"authorization": "Bearer t1"}}
}

func TestAuthorizeResponses(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		relaxed bool
		allow   bool
		ctx     map[string]string
		callErr bool
		downgr  bool
	}{
		{name: "allow-context", body: `{"status":"allow","context":{"user":"abc","n":12,"ok":true}}`, allow: true, ctx: map[string]string{"user": "abc", "n": "12", "ok": "true"}},
		{name: "deny", body: `{"status":"deny"}`},
		{name: "allow-upper", body: `{"status":"ALLOW"}`, allow: true},
		{name: "functiongraph", body: `{"statusCode":200,"body":"{\"status\":\"allow\",\"context\":{\"user\":\"u1\"}}"}`, allow: true, ctx: map[string]string{"user": "u1"}},
		{name: "functiongraph-base64", body: `{"statusCode":200,"isBase64Encoded":true,"body":"eyJzdGF0dXMiOiJhbGxvdyJ9"}`, allow: true},
		{name: "functiongraph-non200", body: `{"statusCode":500,"body":"{\"status\":\"allow\"}"}`, callErr: true},
		{name: "missing-status", body: `{"context":{}}`, callErr: true},
		{name: "bad-status", body: `{"status":"maybe"}`, callErr: true},
		{name: "nested-context", body: `{"status":"allow","context":{"a":{"b":1}}}`, callErr: true},
		{name: "bad-context-key", body: `{"status":"allow","context":{"1a":"x"}}`, callErr: true},
		{name: "not-json", body: `allow`, callErr: true},
		{name: "http-403", status: 403, body: `{"status":"allow"}`, callErr: true},
		{name: "http-500", status: 500, body: `oops`, callErr: true},
		{name: "http-500-relaxed", status: 500, body: `oops`, relaxed: true, allow: true, downgr: true},
		{name: "bad-body-relaxed-still-fails", body: `nope`, relaxed: true, callErr: true},
		{name: "too-large", body: `{"status":"allow","context":{"k":"` + strings.Repeat("x", authorizer.MaxResponseSize) + `"}}`, callErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ authorizer.Event) {
				if c.status != 0 {
					w.WriteHeader(c.status)
				}
				io.WriteString(w, c.body)
			})
			d := def(srv.URL)
			d.AuthDowngradeEnabled = c.relaxed
			cl := authorizer.NewClient(srv.Client(), time.Now, 10)
			res, err := cl.Authorize(context.Background(), spec(t, d), goodSrc, newEvent)
			if c.callErr {
				var ce *authorizer.CallError
				if !errors.As(err, &ce) {
					t.Fatalf("got %+v, %v; want CallError", res, err)
				}
				if cl.Len() != 0 {
					t.Error("a failed call was cached")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Allow != c.allow || res.Downgraded != c.downgr {
				t.Errorf("got %+v", res)
			}
			if c.ctx != nil && !equalMaps(res.Context, c.ctx) {
				t.Errorf("context %v, want %v", res.Context, c.ctx)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestIdentitySources(t *testing.T) {
	srv := newServer(t, reply(`{"status":"allow"}`))
	cl := authorizer.NewClient(srv.Client(), time.Now, 10)
	s := spec(t, def(srv.URL))
	cases := []struct {
		name    string
		src     src
		invalid bool
		ident   string
	}{
		{name: "header-missing", src: src{q: map[string]string{"tenant": "acme"}}, ident: "Authorization"},
		{name: "header-empty", src: src{h: map[string]string{"authorization": ""}, q: map[string]string{"tenant": "acme"}}, ident: "Authorization"},
		{name: "query-missing", src: src{h: map[string]string{"authorization": "x"}}, ident: "tenant"},
		{name: "query-invalid", src: src{h: map[string]string{"authorization": "x"}, q: map[string]string{"tenant": "ACME1"}}, ident: "tenant", invalid: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cl.Authorize(context.Background(), s, c.src, newEvent)
			var ie *authorizer.IdentityError
			if !errors.As(err, &ie) || ie.Name != c.ident || ie.Invalid != c.invalid {
				t.Fatalf("got %v", err)
			}
		})
	}
	if n := srv.calls.Load(); n != 0 {
		t.Errorf("authorizer called %d times for requests without identities", n)
	}
}

func TestCacheTTLWithInjectedClock(t *testing.T) {
	var n atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, _ authorizer.Event) {
		if n.Add(1) == 1 {
			io.WriteString(w, `{"status":"allow","context":{"user":"first"}}`)
			return
		}
		io.WriteString(w, `{"status":"deny"}`)
	})
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cl := authorizer.NewClient(srv.Client(), clk.Now, 10)
	s := spec(t, def(srv.URL))
	ctx := context.Background()

	r1, err := cl.Authorize(ctx, s, goodSrc, newEvent)
	if err != nil || !r1.Allow || r1.Cached {
		t.Fatalf("first: %+v %v", r1, err)
	}
	clk.Add(59 * time.Second)
	r2, err := cl.Authorize(ctx, s, goodSrc, newEvent)
	if err != nil || !r2.Allow || !r2.Cached || r2.Context["user"] != "first" {
		t.Fatalf("within TTL: %+v %v", r2, err)
	}
	other := src{h: map[string]string{"authorization": "Bearer t2"}, q: goodSrc.q}
	if r, _ := cl.Authorize(ctx, s, other, newEvent); r.Cached || r.Allow {
		t.Fatalf("other identity shared the cache entry: %+v", r)
	}
	clk.Add(time.Second)
	r3, err := cl.Authorize(ctx, s, goodSrc, newEvent)
	if err != nil || r3.Cached || r3.Allow {
		t.Fatalf("after TTL: %+v %v", r3, err)
	}
	if got := srv.calls.Load(); got != 3 {
		t.Errorf("calls = %d, want 3", got)
	}

	// A changed definition does not reuse decisions of the old one.
	d2 := def(srv.URL)
	d2.UserData = "changed"
	if r, _ := cl.Authorize(ctx, spec(t, d2), goodSrc, newEvent); r.Cached {
		t.Error("changed authorizer answered from the old cache")
	}
	// TTL 0 never caches.
	d0 := def(srv.URL)
	d0.Ttl = 0
	s0 := spec(t, d0)
	before := srv.calls.Load()
	cl.Authorize(ctx, s0, goodSrc, newEvent)
	cl.Authorize(ctx, s0, goodSrc, newEvent)
	if got := srv.calls.Load() - before; got != 2 {
		t.Errorf("ttl 0: %d calls, want 2", got)
	}
}

func TestEventContentAndTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, ev authorizer.Event) {
		if ev.Path == "/slow" {
			<-block
		}
		io.WriteString(w, `{"status":"allow"}`)
	})
	t.Cleanup(func() { close(block) }) // runs before srv.Close
	cl := authorizer.NewClient(srv.Client(), time.Now, 10)
	d := def(srv.URL)
	d.Ttl = 0
	if _, err := cl.Authorize(context.Background(), spec(t, d), goodSrc, newEvent); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	ev := srv.events[0]
	srv.mu.Unlock()
	if ev.Type != "FRONTEND" || ev.UserData != "ud" || ev.HTTPMethod != "GET" || ev.Headers["authorization"] != "Bearer t1" {
		t.Errorf("event %+v", ev)
	}

	d.Timeout = 50
	slow := func() *authorizer.Event { return &authorizer.Event{Path: "/slow"} }
	_, err := cl.Authorize(context.Background(), spec(t, d), goodSrc, slow)
	var ce *authorizer.CallError
	if !errors.As(err, &ce) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: got %v", err)
	}
	d.AuthDowngradeEnabled = true
	res, err := cl.Authorize(context.Background(), spec(t, d), goodSrc, slow)
	if err != nil || !res.Allow || !res.Downgraded || len(res.Context) != 0 {
		t.Fatalf("relaxed timeout: %+v %v", res, err)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cl := authorizer.NewClient(nil, time.Now, 10)
	_, err := cl.Authorize(context.Background(), spec(t, def(url)), goodSrc, newEvent)
	var ce *authorizer.CallError
	if !errors.As(err, &ce) || ce.Status != 0 {
		t.Fatalf("got %v", err)
	}
}
