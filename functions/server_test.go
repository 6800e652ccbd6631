package functions_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/functions"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// timeoutMS is the API's function timeout.
const timeoutMS = 300

// fnFeed is a feed with one instance serving API a1 in RELEASE with a
// FUNCTION backend mapped by the registry onto url.
func fnFeed(t testing.TB, url, invocation, auth string) *live.Feed {
	t.Helper()
	const urn = "urn:fss:cn-north-4:p1:function:default:f1"
	api := &apigwv1.Api{Id: "a1", Name: "call_fn", GroupId: "g1", ReqMethod: "ANY", ReqUri: "/pets/{id}", BackendType: model.BackendFunction,
		FuncInfo: &apigwv1.FuncInfo{FunctionUrn: urn, Version: "v1", InvocationType: invocation, NetworkType: "V2", Timeout: timeoutMS}}
	objs := []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{
			{Urn: urn, Url: "http://127.0.0.1:1/unused"},
			{Urn: urn + ":v1", Url: url, Authorization: auth},
		}}},
		&apigwv1.ApiGroup{Id: "g1", Name: "shop"},
		api,
		&apigwv1.Publication{Id: "p1", ApiId: "a1", EnvId: model.ReleaseEnvID, Api: api},
		&apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"},
	}
	f := live.NewFeed()
	f.Publish(live.NewSnapshot(1, map[string]*model.Instance{model.DefaultInstance: model.NewInstance(model.DefaultInstance, objs)}, nil))
	return f
}

func call(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/pets/42?q=1", strings.NewReader(body))
	r.Header.Set(dataplane.FunctionInstanceHeader, model.DefaultInstance)
	r.Header.Set(dataplane.FunctionAPIHeader, "a1")
	r.Header.Set(dataplane.FunctionEnvHeader, model.ReleaseEnvID)
	r.Header.Set("X-Request-Id", "rq-9")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Sync: the versioned registry entry is called with the event and the
// registry's credential; its reply becomes the response.
func TestSyncInvocation(t *testing.T) {
	var got functions.Event
	var auth string
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = io.WriteString(w, `{"statusCode":207,"headers":{"X-Fn":"yes"},"body":"`+base64.StdEncoding.EncodeToString([]byte("pet "+got.PathParameters["id"]))+`","isBase64Encoded":true}`)
	}))
	defer fn.Close()
	s := functions.New(context.Background(), fnFeed(t, fn.URL, "sync", "Bearer k"), slog.New(slog.DiscardHandler), functions.Options{})
	w := call(s, "payload")
	if w.Code != 207 || w.Header().Get("X-Fn") != "yes" || w.Body.String() != "pet 42" {
		t.Fatalf("response %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	if auth != "Bearer k" || got.RequestContext.Stage != model.ReleaseEnvName || got.RequestContext.RequestID != "rq-9" || got.QueryStringParameters["q"] != "1" {
		t.Errorf("auth %q event %+v", auth, got)
	}
	if b, _ := base64.StdEncoding.DecodeString(got.Body); string(b) != "payload" || !got.IsBase64Encoded {
		t.Errorf("event body %q", got.Body)
	}
}

// A reply without statusCode or an unreachable function gives 502 with
// APIG's error code; an unknown API gives 502 too.
func TestSyncFailures(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"body":"x"}`) }))
	defer fn.Close()
	s := functions.New(context.Background(), fnFeed(t, fn.URL, "sync", ""), slog.New(slog.DiscardHandler), functions.Options{})
	if w := call(s, ""); w.Code != 502 || !strings.Contains(w.Body.String(), "APIG.0202") {
		t.Errorf("no statusCode: %d %s", w.Code, w.Body.String())
	}
	r := httptest.NewRequest("GET", "/pets/1", nil)
	r.Header.Set(dataplane.FunctionInstanceHeader, model.DefaultInstance)
	r.Header.Set(dataplane.FunctionAPIHeader, "nope")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 502 {
		t.Errorf("unknown API: %d", w.Code)
	}
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer slow.Close()
	defer close(stop)
	s = functions.New(context.Background(), fnFeed(t, slow.URL, "sync", ""), slog.New(slog.DiscardHandler), functions.Options{})
	if w := call(s, ""); w.Code != 504 || !strings.Contains(w.Body.String(), "APIG.0203") {
		t.Errorf("timeout: %d %s", w.Code, w.Body.String())
	}
}

// Async: the response comes at once, the function is called in the
// background, and calls beyond the bound are dropped and counted.
func TestAsyncInvocation(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var bodies []string
	started := make(chan struct{}, 10)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev functions.Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		bodies = append(bodies, ev.Body)
		mu.Unlock()
		started <- struct{}{}
		<-release
		_, _ = io.WriteString(w, `{"statusCode":200,"body":""}`)
	}))
	defer fn.Close()
	defer close(release)
	s := functions.New(context.Background(), fnFeed(t, fn.URL, "async", ""), slog.New(slog.DiscardHandler), functions.Options{MaxAsync: 2})
	for i := 0; i < 3; i++ {
		start := time.Now()
		w := call(s, "x")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"request_id":"rq-9"`) || time.Since(start) > time.Second {
			t.Fatalf("async call %d: %d %q after %v", i, w.Code, w.Body.String(), time.Since(start))
		}
	}
	for i := 0; i < 2; i++ {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("the function was not called in the background")
		}
	}
	if d := s.Dropped(); d != 1 {
		t.Errorf("dropped %d, want 1 (bound 2, 3 calls in flight)", d)
	}
}
