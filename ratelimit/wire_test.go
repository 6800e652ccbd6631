package ratelimit_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// Served over gRPC the service reads and writes the messages' wire form
// itself; the answers are those ShouldRateLimit gives as messages, call
// for call, over traffic of every shape: limits hit in every dimension,
// custom gateway responses, debug headers, request descriptors,
// hits_addend, unknown descriptors and domains.
func TestWireMatchesMessages(t *testing.T) {
	served := start(t, nil)
	clock := newClock()
	feed := live.NewFeed()
	feed.Publish(fx.Snapshot(1))
	direct, err := ratelimit.New(feed, counter.NewMemory(), nil, ratelimit.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 8))
	apis := []string{fx.APIExclusive, fx.APIShared1, fx.APIDefault, fx.APIOffline, "ghost"}
	apps := []string{fx.AppPlain, fx.AppSpecialLow, fx.AppSpecialHigh, "", "app-x"}
	over := 0
	for i := range 600 {
		step := time.Duration(rng.IntN(3000)) * time.Millisecond
		served.clock.Advance(step)
		clock.Advance(step)
		c := call{api: apis[rng.IntN(len(apis))], app: apps[rng.IntN(len(apps))], account: []string{"", "acct-1", fx.AccountSpecial}[rng.IntN(3)],
			ip: "10.0.0." + strconv.Itoa(rng.IntN(4)), debug: rng.IntN(4) == 0, hits: uint32(rng.IntN(3))}
		if rng.IntN(2) == 0 {
			c.requestID, c.method, c.path = "req-"+strconv.Itoa(i), "GET", "/pets/\"1\"?q=<x>"
		}
		req := c.request()
		if rng.IntN(20) == 0 {
			req.Domain = "other"
		}
		got, err := served.client.ShouldRateLimit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := direct.ShouldRateLimit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("call %d %+v:\nwire    %v\nmessage %v", i, c, got, want)
		}
		if got.OverallCode == OVER {
			over++
		}
	}
	if over < 100 {
		t.Fatalf("%d over-limit answers: the test exercised too little", over)
	}
}
