package ratelimit_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/internal/redistest"
)

func redisEnv(t *testing.T, srv *redistest.Server) *env {
	t.Helper()
	c, err := counter.OpenRedis(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return start(t, c)
}

func cacheAnswers(t *testing.T, e *env) float64 {
	t.Helper()
	return metric(t, e.reg, "apigw_ratelimit_over_limit_cache_answers_total", nil)
}

// A refusal by Redis is answered from memory until the refused counter's
// oldest hit leaves the window, with the counter's answer; then Redis
// decides again.
func TestOverLimitCacheAnswersUntilTheWindowRolls(t *testing.T) {
	srv := redistest.Start(t)
	e := redisEnv(t, srv)
	c := call{api: fx.APIExclusive, app: fx.AppSpecialLow, ip: "192.0.2.7", requestID: "req-42", method: "GET", path: "/pets/1"}
	// descriptors: api, app, ip, app_quota, request; the app's special
	// quota (2 per minute) runs out first.
	if r := e.do(t, c); r.OverallCode != OK {
		t.Fatalf("first call: %v", codes(r))
	}
	e.clock.Advance(30 * time.Second) // the second hit lands in a later bucket
	first := e.okUntil(t, 1, c)
	if first.OverallCode != OVER || cacheAnswers(t, e) != 0 {
		t.Fatalf("third call: %v, cache answers %v; want the counter's refusal", first.OverallCode, cacheAnswers(t, e))
	}
	e.clock.Advance(time.Second)
	cached := e.do(t, c)
	if cacheAnswers(t, e) != 1 {
		t.Fatal("the fourth call was not answered from the cache")
	}
	if cached.OverallCode != OVER || !eqCodes(codes(cached), OK, OVER, OK, OK, OK) {
		t.Fatalf("cached answer %v", codes(cached))
	}
	if string(cached.RawBody) != string(first.RawBody) || !proto.Equal(cached.DynamicMetadata, first.DynamicMetadata) ||
		len(cached.ResponseHeadersToAdd) != len(first.ResponseHeadersToAdd) {
		t.Errorf("cached answer differs from the counter's:\n%s %v\n%s %v", cached.RawBody, cached.DynamicMetadata, first.RawBody, first.DynamicMetadata)
	}
	app, was := cached.Statuses[1], first.Statuses[1]
	if !proto.Equal(app.CurrentLimit, was.CurrentLimit) || app.LimitRemaining != 0 ||
		app.DurationUntilReset.AsDuration() != was.DurationUntilReset.AsDuration()-time.Second {
		t.Errorf("cached app status %v, counter said %v a second earlier", app, was)
	}
	// The statuses the cache knows nothing of carry no limit.
	if cached.Statuses[0].CurrentLimit != nil || cached.Statuses[2].CurrentLimit != nil {
		t.Errorf("statuses of limits not asked: %v %v", cached.Statuses[0], cached.Statuses[2])
	}

	// The first hit (at 0) stops counting when its bucket leaves the
	// window: at 66s (a minute in 6s buckets plus one bucket).
	reset := e.clock.Now().Add(app.DurationUntilReset.AsDuration())
	e.clock.Set(reset.Sub(epoch) - time.Millisecond)
	if r := e.do(t, c); r.OverallCode != OVER || cacheAnswers(t, e) != 2 {
		t.Fatalf("just before the reset: %v (cache answers %v), want a cached refusal", r.OverallCode, cacheAnswers(t, e))
	}
	e.clock.Set(reset.Sub(epoch))
	if r := e.do(t, c); r.OverallCode != OK {
		t.Fatalf("at the reset: %v, want the call admitted", codes(r))
	}
	if got := cacheAnswers(t, e); got != 2 {
		t.Errorf("cache answers %v at the reset, want still 2", got)
	}

	// Only memory answers now: with Redis gone (and failing open) the
	// refusal is still a refusal.
	if r := e.do(t, c); r.OverallCode != OVER {
		t.Fatalf("second call of the new window: %v", codes(r))
	}
	srv.Stop()
	if r := e.do(t, c); r.OverallCode != OVER || cacheAnswers(t, e) != 3 {
		t.Fatalf("with Redis down: %v (cache answers %v), want the cached refusal", r.OverallCode, cacheAnswers(t, e))
	}
}

// A limit raised after a refusal applies on the next call: the cache
// keeps counts, not verdicts.
func TestOverLimitCacheHonoursEditedLimits(t *testing.T) {
	e := redisEnv(t, redistest.Start(t))
	c := call{api: fx.APIExclusive, app: fx.AppPlain}
	e.feed.Publish(fx.Edit(2, e.feed.Current().Instance(fx.Instance), exclusive(100, 0, 2, 0)))
	e.okUntil(t, 2, c)
	if r := e.do(t, c); r.OverallCode != OVER || cacheAnswers(t, e) != 1 {
		t.Fatalf("refusal from memory: %v, %v", r.OverallCode, cacheAnswers(t, e))
	}
	e.feed.Publish(fx.Edit(3, e.feed.Current().Instance(fx.Instance), exclusive(100, 0, 3, 0)))
	if r := e.do(t, c); r.OverallCode != OK {
		t.Fatalf("after raising the app limit to 3: %v", codes(r))
	}
	if r := e.do(t, c); r.OverallCode != OVER {
		t.Fatalf("fourth call with a limit of 3: %v", codes(r))
	}
}

// A known refusal of the credential quota (APIG.0501) does not decide a
// call whose api limit, ranked first, may be over too with another
// response; debug calls always ask the counter.
func TestOverLimitCacheKeepsTheCountersAnswer(t *testing.T) {
	e := redisEnv(t, redistest.Start(t))
	// APIDefault: the instance default on the api; AppPlain's credential
	// quota allows 5 per hour.
	c := call{api: fx.APIDefault, app: fx.AppPlain}
	r := e.okUntil(t, 5, c)
	if code := r.DynamicMetadata.GetFields()["error_code"].GetStringValue(); code != "APIG.0501" {
		t.Fatalf("refusal %s, want the credential quota's", code)
	}
	r = e.do(t, c)
	if cacheAnswers(t, e) != 0 || r.DynamicMetadata.GetFields()["error_code"].GetStringValue() != "APIG.0501" {
		t.Fatalf("cache answered (%v) over an api limit it knows nothing of", cacheAnswers(t, e))
	}
	// The app limit of an exclusive policy and the api limit share the
	// throttling response: the cache decides.
	e.feed.Publish(fx.Edit(2, e.feed.Current().Instance(fx.Instance), exclusive(100, 0, 1, 0)))
	c = call{api: fx.APIExclusive, app: "app-other"}
	e.okUntil(t, 1, c)
	if e.do(t, c); cacheAnswers(t, e) != 1 {
		t.Fatal("app refusal not answered from the cache")
	}
	c.debug = true
	if r := e.do(t, c); r.OverallCode != OVER || cacheAnswers(t, e) != 1 {
		t.Fatalf("debug call: %v, cache answers %v", r.OverallCode, cacheAnswers(t, e))
	}
}

// With the cache, a Redis replica answers exactly what a counter without
// one answers, call for call, over random traffic with small limits
// (most calls refused) and random clock steps.
func TestOverLimitCacheChangesNoAnswer(t *testing.T) {
	cached := redisEnv(t, redistest.Start(t))
	plain := start(t, counter.NewMemory()) // no cache: the memory counter answers itself
	edit := []proto.Message{exclusive(40, 0, 6, 9), &apigwv1.Throttle{Id: fx.Shared, Name: "shared_policy", ApiCallLimits: 5,
		IpCallLimits: 2, TimeInterval: 10, TimeUnit: model.UnitSecond, Type: model.ThrottleShared}}
	for _, e := range []*env{cached, plain} {
		e.feed.Publish(fx.Edit(2, e.feed.Current().Instance(fx.Instance), edit...))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	apis := []string{fx.APIExclusive, fx.APIShared1, fx.APIShared2, fx.APIDefault}
	apps := []string{fx.AppPlain, fx.AppSpecialLow, fx.AppSpecialHigh, "app-other", ""}
	over := 0
	for i := range 1500 {
		step := time.Duration(rng.IntN(400)) * time.Millisecond
		if rng.IntN(50) == 0 {
			step = time.Duration(rng.IntN(90)) * time.Second
		}
		cached.clock.Advance(step)
		plain.clock.Advance(step)
		c := call{api: apis[rng.IntN(len(apis))], app: apps[rng.IntN(len(apps))], ip: "10.0.0." + strconv.Itoa(rng.IntN(3))}
		a, b := cached.do(t, c), plain.do(t, c)
		if a.OverallCode != b.OverallCode {
			t.Fatalf("call %d %+v: %v with the cache, %v without", i, c, codes(a), codes(b))
		}
		if a.OverallCode == OVER {
			over++
			if string(a.RawBody) != string(b.RawBody) {
				t.Fatalf("call %d: body %s, without the cache %s", i, a.RawBody, b.RawBody)
			}
		}
	}
	if over < 500 || cacheAnswers(t, cached) < 200 {
		t.Fatalf("%d refusals, %v from the cache: the test exercised too little", over, cacheAnswers(t, cached))
	}
}
