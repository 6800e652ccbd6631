package extauth

import (
	"sync"
	"time"

	"github.com/apigw/apigw/model"
)

// maxThirdFailKeys bounds the brute-force counters kept (plug-in, client
// IP) pairs.
const maxThirdFailKeys = 100_000

// thirdFails counts third_auth failures per (plug-in, client IP) in fixed
// 5-minute windows (docs/plugins.md#third_auth). The counts live in this
// ext_authz process: each replica counts the requests it checks.
type thirdFails struct {
	mu sync.Mutex
	m  map[thirdFailKey]thirdFailCount
}

type thirdFailKey struct{ plugin, ip string }

type thirdFailCount struct {
	window int64
	n      int
}

func newThirdFails() *thirdFails { return &thirdFails{m: map[thirdFailKey]thirdFailCount{}} }

func thirdWindow(now time.Time) int64 { return now.Unix() / model.ThirdAuthForbidWindow }

// blocked reports whether ip has had limit failures or more in the
// current window.
func (t *thirdFails) blocked(plugin, ip string, limit int, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[thirdFailKey{plugin, ip}]
	return ok && c.window == thirdWindow(now) && c.n >= limit
}

// fail records a failure of ip.
func (t *thirdFails) fail(plugin, ip string, now time.Time) {
	w := thirdWindow(now)
	k := thirdFailKey{plugin, ip}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.m[k]
	if c.window != w {
		c = thirdFailCount{window: w}
	}
	c.n++
	if _, ok := t.m[k]; !ok && len(t.m) >= maxThirdFailKeys {
		for kk, cc := range t.m {
			if cc.window != w {
				delete(t.m, kk)
			}
		}
		if len(t.m) >= maxThirdFailKeys {
			return // full of counts of this window: the new IP is not tracked
		}
	}
	t.m[k] = c
}
