package breaker_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const condCounter = `{"scope":%q,"breaker_condition":{"breaker_type":"condition","breaker_mode":"counter",` +
	`"unhealthy_condition":"[\"OR\",[\"$context.statusCode\",\"in\",\"500,502\"],[\"$context.backendResponseTime\",\">\",2000]]",` +
	`"unhealthy_threshold":2,"time_window":10,"open_breaker_time":30},` +
	`"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"degraded","headers":[{"key":"X-Degraded","value":"1"}]}}}`

// world is an instance with two APIs bound to one breaker plug-in.
func world(content string) *model.Instance { return worldBound(content, true) }

// worldBound is world, with the plug-in bound or not.
func worldBound(content string, bound bool) *model.Instance {
	objs := []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance},
		&apigwv1.ApiGroup{Id: "g1", Name: "shop"},
		&apigwv1.Api{Id: "a1", Name: "a1", GroupId: "g1", ReqMethod: "GET", ReqUri: "/a1", BackendApi: &apigwv1.BackendApi{UrlDomain: "b:80", ReqUri: "/"}},
		&apigwv1.Api{Id: "a2", Name: "a2", GroupId: "g1", ReqMethod: "GET", ReqUri: "/a2", BackendApi: &apigwv1.BackendApi{UrlDomain: "b:80", ReqUri: "/"}},
		&apigwv1.Api{Id: "a3", Name: "a3", GroupId: "g1", ReqMethod: "GET", ReqUri: "/a3", BackendApi: &apigwv1.BackendApi{UrlDomain: "b:80", ReqUri: "/"}},
		&apigwv1.Plugin{Id: "brk", PluginName: "brk", PluginType: model.PluginBreaker, PluginContent: content},
	}
	if bound {
		objs = append(objs, &apigwv1.PluginBinding{Id: "pb1", ApiId: "a1", EnvId: model.ReleaseEnvID, PluginId: "brk"},
			&apigwv1.PluginBinding{Id: "pb2", ApiId: "a2", EnvId: model.ReleaseEnvID, PluginId: "brk"})
	}
	for _, o := range objs {
		model.Normalize(o)
	}
	return model.NewInstance(model.DefaultInstance, objs)
}

func newRegistry(t testing.TB, in *model.Instance) (*breaker.Registry, *live.Feed, *clock) {
	t.Helper()
	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	c := &clock{t: t0}
	return breaker.New(feed, nil, breaker.WithClock(c.Now)), feed, c
}

func rec(api string, status int, backend time.Duration) *breaker.Call {
	return &breaker.Call{Instance: model.DefaultInstance, API: api, Env: model.ReleaseEnvID, Status: status,
		Upstream: backend, HasUpstream: true, Duration: backend + time.Millisecond}
}

func state(t *testing.T, r *breaker.Registry, api string) breaker.State {
	t.Helper()
	s, ok := r.State(model.DefaultInstance, api, model.ReleaseEnvID)
	if !ok {
		t.Fatalf("API %s has no breaker", api)
	}
	return s
}

// Basic scope: each API has its own breaker; the condition classifies by
// status and backend time; calls that never reached the backend (ext_authz
// denials, throttled calls) are not counted.
func TestRegistryBasicScope(t *testing.T) {
	r, feed, _ := newRegistry(t, world(fmt.Sprintf(condCounter, "basic")))
	r.Add(rec("a1", 502, 10*time.Millisecond))
	r.Add(rec("a2", 200, 2500*time.Millisecond)) // slow: unhealthy, but a2's own breaker
	denied := rec("a1", 503, 0)
	denied.Denied, denied.HasUpstream = true, false
	r.Add(denied)
	throttled := rec("a1", 429, 0)
	throttled.Throttled, throttled.HasUpstream = true, false
	r.Add(throttled)
	r.Add(rec("a1", 404, 10*time.Millisecond)) // healthy
	if state(t, r, "a1") != breaker.Closed || state(t, r, "a2") != breaker.Closed {
		t.Fatal("a breaker opened before its threshold")
	}
	r.Add(rec("a1", 500, 10*time.Millisecond))
	if state(t, r, "a1") != breaker.Open || state(t, r, "a2") != breaker.Closed {
		t.Fatalf("a1 %v, a2 %v: want open, closed", state(t, r, "a1"), state(t, r, "a2"))
	}
	d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, nil)
	if !d.Open || d.Mock.GetResultContent() != "degraded" || d.Mock.GetHeaders()[0].GetKey() != "X-Degraded" {
		t.Fatalf("decision %+v, want the mock downgrade", d)
	}
	if d := r.Decide(feed.Current(), model.DefaultInstance, "a3", model.ReleaseEnvID, nil); d.Open {
		t.Fatal("an API without a breaker got a downgrade")
	}
	if _, ok := r.State(model.DefaultInstance, "a3", model.ReleaseEnvID); ok {
		t.Fatal("a3 has no breaker plug-in bound")
	}
}

// Share scope: the APIs bound to the plug-in count together.
func TestRegistryShareScope(t *testing.T) {
	r, _, _ := newRegistry(t, world(fmt.Sprintf(condCounter, "share")))
	r.Add(rec("a1", 502, time.Millisecond))
	r.Add(rec("a2", 502, time.Millisecond))
	if state(t, r, "a1") != breaker.Open || state(t, r, "a2") != breaker.Open {
		t.Fatal("a shared breaker did not open for both APIs")
	}
}

// A new snapshot keeps the state of an unchanged plug-in; a changed
// content starts a new, closed breaker.
func TestRegistryAcrossSnapshots(t *testing.T) {
	r, feed, _ := newRegistry(t, world(fmt.Sprintf(condCounter, "basic")))
	r.Add(rec("a1", 502, time.Millisecond))
	r.Add(rec("a1", 502, time.Millisecond))
	feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{model.DefaultInstance: world(fmt.Sprintf(condCounter, "basic"))}, nil))
	if state(t, r, "a1") != breaker.Open {
		t.Fatal("the breaker's state was lost by a new snapshot")
	}
	changed := fmt.Sprintf(condCounter, "basic") + " " // same settings, another content
	feed.Publish(live.NewSnapshot(3, map[string]*model.Instance{model.DefaultInstance: world(changed)}, nil))
	if state(t, r, "a1") != breaker.Closed {
		t.Fatal("a changed plug-in kept the old breaker")
	}
}

// Timeout breakers count Envoy's upstream timeouts, whether or not Envoy
// timed the backend.
func TestRegistryTimeoutType(t *testing.T) {
	content := `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":2,"time_window":10,"open_breaker_time":5}}`
	r, feed, c := newRegistry(t, world(content))
	slow := rec("a1", 200, 5*time.Second) // slow but answered: healthy
	r.Add(slow)
	to := &breaker.Call{Instance: model.DefaultInstance, API: "a1", Env: model.ReleaseEnvID, Status: 504, Flags: []string{"UT"}, ErrorCode: "APIG.0203"}
	r.Add(to)
	if state(t, r, "a1") != breaker.Closed {
		t.Fatal("opened after one timeout")
	}
	r.Add(to)
	if state(t, r, "a1") != breaker.Open {
		t.Fatal("two timeouts did not open the breaker")
	}
	d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, nil)
	if !d.Open || d.Mock != nil {
		t.Fatalf("decision %+v: want open without a mock (503)", d)
	}
	c.Add(5 * time.Second)
	if state(t, r, "a1") != breaker.HalfOpen {
		t.Fatal("not half-open after open_breaker_time")
	}
	if d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, nil); d.Open {
		t.Fatal("a half-open breaker must let a probe through")
	}
	if d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, nil); !d.Open {
		t.Fatal("a half-open breaker let a second request through before the probe's result")
	}
	r.Add(rec("a1", 200, time.Millisecond))
	if state(t, r, "a1") != breaker.Closed {
		t.Fatal("a healthy call did not close the half-open breaker")
	}
}

// Unbound plug-ins' breakers are forgotten; bound again, the breaker
// starts closed.
func TestRegistryForget(t *testing.T) {
	r, feed, _ := newRegistry(t, world(fmt.Sprintf(condCounter, "basic")))
	r.Add(rec("a1", 502, time.Millisecond))
	r.Add(rec("a1", 502, time.Millisecond))
	if state(t, r, "a1") != breaker.Open {
		t.Fatal("not open")
	}
	r.Forget() // still bound: kept
	if state(t, r, "a1") != breaker.Open {
		t.Fatal("Forget dropped a bound breaker")
	}
	feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{model.DefaultInstance: worldBound(fmt.Sprintf(condCounter, "basic"), false)}, nil))
	if _, ok := r.State(model.DefaultInstance, "a1", model.ReleaseEnvID); ok {
		t.Fatal("an unbound API still has a breaker")
	}
	r.Forget()
	feed.Publish(live.NewSnapshot(3, map[string]*model.Instance{model.DefaultInstance: world(fmt.Sprintf(condCounter, "basic"))}, nil))
	if state(t, r, "a1") != breaker.Closed {
		t.Fatal("a breaker bound again kept its old state")
	}
}

// Results and decisions run concurrently (run with -race).
func TestRegistryConcurrent(t *testing.T) {
	r, feed, c := newRegistry(t, world(fmt.Sprintf(condCounter, "share")))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.Add(rec("a1", 500+i%3, time.Millisecond))
				if i%100 == 0 {
					c.Add(time.Second)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.Decide(feed.Current(), model.DefaultInstance, "a2", model.ReleaseEnvID, nil)
			}
		}()
	}
	wg.Wait()
}
