package counter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apigw/apigw/ratelimit/internal/redistest"
)

func openRedis(t *testing.T, spec string, opts ...RedisOption) *Redis {
	t.Helper()
	r, err := OpenRedis(spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// slowMachine lets round trips of the conformance suite take longer than
// in production: what it checks does not depend on the timeout, and a
// loaded CI machine must not fail it.
var slowMachine = WithTimeout(5 * time.Second)

func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	conformance(t, func(t *testing.T) Counter {
		r := openRedis(t, "redis://"+srv.Addr, slowMachine)
		if err := r.client.FlushAll(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		return r
	})
}

// The cluster code path (one script call per hash slot, taking back hits
// when another slot refuses) on a standalone server.
func TestRedisConformanceSplitBySlot(t *testing.T) {
	srv := redistest.Start(t)
	conformance(t, func(t *testing.T) Counter {
		r := openRedis(t, srv.Addr, withSplit(), slowMachine)
		if err := r.client.FlushAll(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		return r
	})
}

func TestRedisCluster(t *testing.T) {
	addrs := redistest.Cluster(t, 3)
	r := openRedis(t, strings.Join(addrs, ","), slowMachine)
	if !r.split {
		t.Fatal("several addresses did not make a cluster client")
	}
	// A prefix per subtest instead of FLUSHALL on every node.
	conformance(t, func(t *testing.T) Counter {
		return openRedis(t, strings.Join(addrs, ","), WithPrefix("apigw:rl:"+t.Name()+":"), slowMachine)
	})
	take(t, r, at(0), item("{t}a", 5, Sliding(time.Second, 10)), item("{t}b", 5, Sliding(time.Second, 10)), item("{q}c", 5, Fixed(time.Hour, 0)))
	// The keys of one scope share a hash slot, so they landed on one node
	// together; the quota key may live elsewhere.
	ctx := t.Context()
	c := r.client.(*redis.ClusterClient)
	var found []string
	err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		keys, err := n.Keys(ctx, DefaultPrefix+"{t}*").Result()
		if len(keys) > 0 {
			found = append(found, n.Options().Addr)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("keys of tag {t} on nodes %v (%v), want exactly one node", found, err)
	}
}

func TestRedisURLForms(t *testing.T) {
	for _, spec := range []string{"redis://127.0.0.1:1/0", "rediss://u:p@h:6380", "h1:1,h2:2", "redis+cluster://h:1", "redis://h:1?addr=h:2"} {
		r, err := OpenRedis(spec)
		if err != nil {
			t.Errorf("%s: %v", spec, err)
			continue
		}
		_ = r.Close()
	}
	for _, spec := range []string{"", "ftp://h:1", "%zz://"} {
		if _, err := OpenRedis(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
	if _, err := OpenRedis("h:1", WithPrefix("a{b}")); err == nil {
		t.Error("prefix with braces accepted")
	}
}

func TestRedisKeysExpire(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv.Addr, slowMachine)
	now := time.Now()
	take(t, r, now, item("{t}exp", 5, Sliding(time.Second, 10)), item("{q}exp", 5, Fixed(time.Hour, 0)))
	ctx := t.Context()
	keys, err := r.client.Keys(ctx, DefaultPrefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v", keys, err)
	}
	for _, k := range keys {
		ttl, err := r.client.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		max := 1100 * time.Millisecond
		if strings.Contains(k, "{q}") {
			max = time.Hour
		}
		if ttl <= 0 || ttl > max {
			t.Errorf("%s: ttl %v, want (0, %v]", k, ttl, max)
		}
	}
}

// After Redis restarts (script cache gone) the counter reloads the script.
func TestRedisScriptReload(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv.Addr, slowMachine)
	take(t, r, at(0), item("{t}reload", 5, Sliding(time.Minute, 6)))
	if err := r.client.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if res := take(t, r, at(0), item("{t}reload", 5, Sliding(time.Minute, 6)))[0]; res.Count != 2 {
		t.Fatalf("after SCRIPT FLUSH: %+v", res)
	}
}

// An outage is an error, quickly, and the counter recovers when Redis is
// back.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv.Addr)
	take(t, r, at(0), item("{t}outage", 5, Sliding(time.Minute, 6)))
	srv.Stop()
	out := make([]Result, 1)
	start := time.Now()
	err := r.Take(context.Background(), at(0), []Item{item("{t}outage", 5, Sliding(time.Minute, 6))}, out)
	if err == nil {
		t.Fatal("Take succeeded with Redis down")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failing took %v", d)
	}
	// A deadline bounds a Take against an unresponsive server too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if err := r.Take(ctx, at(0), []Item{item("{t}outage", 5, Sliding(time.Minute, 6))}, out); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
}

func TestRedisClose(t *testing.T) {
	srv := redistest.Start(t)
	r, err := OpenRedis(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	take(t, r, at(0), item("{t}close", 5, Sliding(time.Minute, 6)))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	out := make([]Result, 1)
	if err := r.Take(context.Background(), at(0), []Item{item("{t}close", 5, Sliding(time.Minute, 6))}, out); !errors.Is(err, ErrClosed) {
		t.Fatalf("Take after Close: %v", err)
	}
}
