package accesslog

import (
	"fmt"
	"slices"
	"time"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// APIMetrics returns the windows of the tracked APIs of an instance
// (filtered by API and environment id when not empty) with the figures of
// the named windows (all when empty). Names of environments are left to
// the caller.
func (s *Stats) APIMetrics(instance, apiID, envID string, windows []string) ([]*adminv1.ApiMetrics, error) {
	spans, err := spansOf(windows)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().Unix()
	s.mu.RLock()
	var list []*apiStats
	for k, a := range s.apis {
		if k.instance == instance && (apiID == "" || k.api == apiID) && (envID == "" || k.env == envID) {
			list = append(list, a)
		}
	}
	s.mu.RUnlock()
	out := make([]*adminv1.ApiMetrics, 0, len(list))
	for _, a := range list {
		m := &adminv1.ApiMetrics{Instance: a.key.instance, GroupId: a.group, ApiId: a.key.api, EnvId: a.key.env}
		a.mu.Lock()
		m.ApiName = a.apiName
		for _, w := range spans {
			f := a.win.window(now, w.span)
			m.Windows = append(m.Windows, windowMetrics(w.name, &f))
		}
		a.mu.Unlock()
		if apiID == "" && !anyCalls(m) {
			continue
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *adminv1.ApiMetrics) int {
		if c := b.Windows[0].Calls - a.Windows[0].Calls; c != 0 {
			if c > 0 {
				return 1
			}
			return -1
		}
		if a.ApiId != b.ApiId {
			if a.ApiId < b.ApiId {
				return -1
			}
			return 1
		}
		if a.EnvId < b.EnvId {
			return -1
		}
		if a.EnvId > b.EnvId {
			return 1
		}
		return 0
	})
	return out, nil
}

// MaxAPIs is the per-instance tracking limit.
func (s *Stats) MaxAPIs() int { return s.opts.MaxAPIs }

func anyCalls(m *adminv1.ApiMetrics) bool {
	for _, w := range m.Windows {
		if w.Calls > 0 {
			return true
		}
	}
	return false
}

type namedSpan struct {
	name string
	span time.Duration
}

func spansOf(names []string) ([]namedSpan, error) {
	if len(names) == 0 {
		names = WindowNames()
	}
	out := make([]namedSpan, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(windowSpans, func(w namedSpan) bool { return w.name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown window %q (1m, 5m, 1h or 24h)", n)
		}
		out = append(out, namedSpan{n, windowSpans[i].span})
	}
	return out, nil
}

func windowMetrics(name string, f *figures) *adminv1.WindowMetrics {
	w := &adminv1.WindowMetrics{
		Window: name, Calls: int64(f.calls),
		Status_1Xx: int64(f.classes[1]), Status_2Xx: int64(f.classes[2]), Status_3Xx: int64(f.classes[3]),
		Status_4Xx: int64(f.classes[4]), Status_5Xx: int64(f.classes[5]),
		Denied: int64(f.denied), Throttled: int64(f.throttled),
		BackendCalls: int64(f.upCalls),
	}
	if len(f.codes) > 0 {
		w.ErrorCodes = make(map[string]int64, len(f.codes))
		for k, v := range f.codes {
			w.ErrorCodes[k] = int64(v)
		}
	}
	if f.calls > 0 {
		w.LatencyAvgMs = f.latSumMs / float64(f.calls)
		w.LatencyP50Ms, w.LatencyP90Ms, w.LatencyP99Ms = f.lat.quantile(.5), f.lat.quantile(.9), f.lat.quantile(.99)
	}
	if f.upCalls > 0 {
		w.BackendAvgMs = f.upSumMs / float64(f.upCalls)
		w.BackendP50Ms, w.BackendP90Ms, w.BackendP99Ms = f.up.quantile(.5), f.up.quantile(.9), f.up.quantile(.99)
	}
	return w
}
