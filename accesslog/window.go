package accesslog

import (
	"time"
)

// Windows are the rolling windows an API's figures are kept for.
var windowSpans = []namedSpan{{"1m", time.Minute}, {"5m", 5 * time.Minute}, {"1h", time.Hour}, {"24h", 24 * time.Hour}}

// WindowNames lists the windows, shortest first.
func WindowNames() []string {
	out := make([]string, len(windowSpans))
	for i, w := range windowSpans {
		out[i] = w.name
	}
	return out
}

// latencyBounds are the upper bounds (ms) of the latency histogram of
// the windows; the quantiles are interpolated inside a bucket.
var latencyBounds = [...]float64{1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
	1000, 1500, 2000, 3000, 5000, 10000, 30000, 60000}

type histogram [len(latencyBounds) + 1]uint32

// latencyIndex is the histogram bucket of a latency in ms.
func latencyIndex(ms float64) int {
	i := 0
	for i < len(latencyBounds) && ms > latencyBounds[i] {
		i++
	}
	return i
}

func (h *histogram) merge(o *histogram) {
	for i := range h {
		h[i] += o[i]
	}
}

// quantile estimates the q-quantile (0 < q < 1) in ms; 0 without samples.
func (h *histogram) quantile(q float64) float64 {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var seen float64
	for i, c := range h {
		if c == 0 || seen+float64(c) < rank {
			seen += float64(c)
			continue
		}
		if i == len(latencyBounds) {
			return latencyBounds[len(latencyBounds)-1]
		}
		lo := 0.0
		if i > 0 {
			lo = latencyBounds[i-1]
		}
		return lo + (latencyBounds[i]-lo)*(rank-seen)/float64(c)
	}
	return latencyBounds[len(latencyBounds)-1]
}

// figures are the counts of one bucket or window.
type figures struct {
	calls     uint64
	classes   [6]uint64 // by statusClass
	denied    uint64
	throttled uint64
	codes     map[string]uint64
	latSumMs  float64
	upCalls   uint64
	upSumMs   float64
	lat, up   histogram
}

// sample is a record reduced to what the windows count, computed before
// the API's lock is taken.
type sample struct {
	class, lat, up   int
	latMs, upMs      float64
	denied, throttle bool
	hasUp            bool
	code             string
}

func sampleOf(r *Record) sample {
	s := sample{class: statusClass(r.Status), latMs: float64(r.Duration) / float64(time.Millisecond),
		denied: r.Denied, throttle: r.Throttled, hasUp: r.HasUpstream, code: r.ErrorCode}
	s.lat = latencyIndex(s.latMs)
	if s.hasUp {
		s.upMs = float64(r.Upstream) / float64(time.Millisecond)
		s.up = latencyIndex(s.upMs)
	}
	return s
}

func (f *figures) add(s *sample) {
	f.calls++
	f.classes[s.class]++
	if s.denied {
		f.denied++
	}
	if s.throttle {
		f.throttled++
	}
	if s.code != "" {
		if f.codes == nil {
			f.codes = map[string]uint64{}
		}
		f.codes[s.code]++
	}
	f.latSumMs += s.latMs
	f.lat[s.lat]++
	if s.hasUp {
		f.upCalls++
		f.upSumMs += s.upMs
		f.up[s.up]++
	}
}

func (f *figures) merge(o *figures) {
	f.calls += o.calls
	for i := range f.classes {
		f.classes[i] += o.classes[i]
	}
	f.denied += o.denied
	f.throttled += o.throttled
	if len(o.codes) > 0 && f.codes == nil {
		f.codes = map[string]uint64{}
	}
	for k, v := range o.codes {
		f.codes[k] += v
	}
	f.latSumMs += o.latSumMs
	f.upCalls += o.upCalls
	f.upSumMs += o.upSumMs
	f.lat.merge(&o.lat)
	f.up.merge(&o.up)
}

type bucket struct {
	start int64 // unix seconds; 0 = empty
	figures
}

// ring holds the last len(b) buckets of width seconds.
type ring struct {
	width int64
	b     []bucket
}

func newRing(width time.Duration, n int) ring {
	return ring{width: int64(width / time.Second), b: make([]bucket, n)}
}

func (r *ring) at(unix int64) *bucket {
	start := unix - unix%r.width
	b := &r.b[(unix/r.width)%int64(len(r.b))]
	if b.start < start { // a late record (b.start > start) joins the newer bucket
		*b = bucket{start: start}
	}
	return b
}

// sum adds the buckets that started within span before now (the current
// bucket included) into f.
func (r *ring) sum(now int64, span time.Duration, f *figures) {
	from := now - int64(span/time.Second)
	for i := range r.b {
		b := &r.b[i]
		if b.start != 0 && b.start > from && b.start <= now {
			f.merge(&b.figures)
		}
	}
}

// windows keeps an API's figures for the rolling windows: 10-second
// buckets for 1 and 5 minutes, minutes for the hour, hours for the day.
// A window therefore ends now and starts up to one bucket width before
// its span.
type windows struct {
	sec, min, hour ring
}

func newWindows() *windows {
	return &windows{sec: newRing(10*time.Second, 30), min: newRing(time.Minute, 60), hour: newRing(time.Hour, 24)}
}

func (w *windows) add(unix int64, s *sample) {
	w.sec.at(unix).add(s)
	w.min.at(unix).add(s)
	w.hour.at(unix).add(s)
}

// window returns the figures of a window ending at now.
func (w *windows) window(now int64, span time.Duration) figures {
	var f figures
	switch {
	case span <= 5*time.Minute:
		w.sec.sum(now, span, &f)
	case span <= time.Hour:
		w.min.sum(now, span, &f)
	default:
		w.hour.sum(now, span, &f)
	}
	return f
}

// lastActive is the start of the newest non-empty bucket (0 if none).
func (w *windows) lastActive() int64 {
	var last int64
	for i := range w.hour.b {
		if b := &w.hour.b[i]; b.calls > 0 {
			last = max(last, b.start)
		}
	}
	for i := range w.sec.b {
		if b := &w.sec.b[i]; b.calls > 0 {
			last = max(last, b.start)
		}
	}
	return last
}
