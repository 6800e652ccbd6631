package accesslog

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the series that do not name one API. Neither can be an
// API id (ids are [A-Za-z0-9_-]).
const (
	// OtherAPI holds the calls of the APIs beyond an instance's limit.
	OtherAPI = "(other)"
	// NoAPI holds the calls that matched no API (404 APIG.0101, ...).
	NoAPI = "(none)"
	// OtherApp holds the calls of the apps beyond the limit.
	OtherApp = "(other)"
)

// StatsOptions bound what Stats tracks.
type StatsOptions struct {
	// MaxAPIs is the number of (API, environment) pairs tracked one by one
	// per instance (default 200): each has its own Prometheus series and
	// windows. The calls of the others are counted under OtherAPI.
	MaxAPIs int
	// MaxApps is the number of apps counted one by one per instance
	// (default 200); the others are counted under OtherApp.
	MaxApps int
	// Idle is how long a tracked API may go without calls before its
	// place is given to another API when the instance is at MaxAPIs
	// (default 1h). An API without calls for 24 hours is dropped anyway
	// (its windows are empty).
	Idle time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

func (o StatsOptions) withDefaults() StatsOptions {
	if o.MaxAPIs <= 0 {
		o.MaxAPIs = 200
	}
	if o.MaxApps <= 0 {
		o.MaxApps = 200
	}
	if o.Idle <= 0 {
		o.Idle = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Stats turns access-log records into per-API Prometheus series and
// rolling windows. It is safe for concurrent use.
type Stats struct {
	opts StatsOptions
	vec  vecs

	mu        sync.RWMutex
	apis      map[apiKey]*apiStats
	tracked   map[string]int // tracked APIs per instance (OtherAPI and NoAPI excluded)
	apps      map[appKey]prometheus.Counter
	appCount  map[string]int
	lastEvict map[string]int64
}

type apiKey struct{ instance, api, env string }

type appKey struct{ instance, app string }

// apiStats is one tracked (API, environment) of an instance.
type apiStats struct {
	key     apiKey
	classes [6]prometheus.Counter
	latency prometheus.Observer
	backend prometheus.Observer

	// group is the API's group, fixed when the API is first seen (it is
	// a label of every series).
	group string

	mu      sync.Mutex
	apiName string
	win     *windows
	codes   map[string]prometheus.Counter
}

// vecs are the metric families.
type vecs struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	backend  *prometheus.HistogramVec
	apps     *prometheus.CounterVec
	tracked  *prometheus.GaugeVec
}

// promBuckets are the latency buckets of the Prometheus histograms
// (seconds), fewer than the windows' to keep the series count down.
var promBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewStats returns an empty Stats.
func NewStats(opts StatsOptions) (*Stats, error) {
	opts = opts.withDefaults()
	// "gateway" is the apigw instance: Prometheus sets "instance" to the
	// scraped target.
	labels := []string{"gateway", "group", "api", "env"}
	v := vecs{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "api", Name: "requests_total",
			Help: "Requests served by Envoy per API and environment, by status class (from the access-log stream)."}, append(labels, "class")),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "api", Name: "errors_total",
			Help: "Responses with an APIG error code per API and environment (denials, throttling, gateway failures)."}, append(labels, "code")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "apigw", Subsystem: "api", Name: "request_duration_seconds",
			Help: "Gateway latency (first request byte to last response byte) per API and environment.", Buckets: promBuckets}, labels),
		backend: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "apigw", Subsystem: "api", Name: "backend_duration_seconds",
			Help: "Backend latency (request sent to last response byte) per API and environment; calls that reached a backend only.", Buckets: promBuckets}, labels),
		apps: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "app", Name: "requests_total",
			Help: "Requests per authenticated app."}, []string{"gateway", "app"}),
		tracked: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "apigw", Subsystem: "api", Name: "tracked",
			Help: "(API, environment) pairs with their own series, per apigw instance (at most --api-metrics-max-apis)."}, []string{"gateway"}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{v.requests, v.errors, v.latency, v.backend, v.apps, v.tracked} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("accesslog: registering metrics: %w", err)
			}
		}
	}
	return &Stats{opts: opts, vec: v, apis: map[apiKey]*apiStats{}, tracked: map[string]int{},
		apps: map[appKey]prometheus.Counter{}, appCount: map[string]int{}, lastEvict: map[string]int64{}}, nil
}

// Add counts one record.
func (s *Stats) Add(r *Record) {
	now := s.opts.Now()
	a := s.api(r, now.Unix())
	cls := statusClass(r.Status)
	a.classes[cls].Inc()
	a.latency.Observe(r.Duration.Seconds())
	if r.HasUpstream {
		a.backend.Observe(r.Upstream.Seconds())
	}
	smp := sampleOf(r)
	a.mu.Lock()
	if r.APIName != "" && a.apiName != r.APIName {
		a.apiName = r.APIName
	}
	a.win.add(now.Unix(), &smp)
	var code prometheus.Counter
	if r.ErrorCode != "" {
		if code = a.codes[r.ErrorCode]; code == nil {
			code = s.vec.errors.WithLabelValues(a.key.instance, a.group, a.key.api, a.key.env, r.ErrorCode)
			a.codes[r.ErrorCode] = code
		}
	}
	a.mu.Unlock()
	if code != nil {
		code.Inc()
	}
	if r.App != "" {
		s.app(r.Instance, r.App).Inc()
	}
}

// api returns the tracked entry of a record's API: its own, or the
// instance's OtherAPI or NoAPI entry.
func (s *Stats) api(r *Record, now int64) *apiStats {
	k := apiKey{r.Instance, r.API, r.Env}
	if r.API == "" {
		k = apiKey{r.Instance, NoAPI, ""}
	}
	s.mu.RLock()
	a := s.apis[k]
	s.mu.RUnlock()
	if a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a = s.apis[k]; a != nil {
		return a
	}
	if k.api != NoAPI && s.tracked[k.instance] >= s.opts.MaxAPIs && !s.evictIdle(k.instance, now) {
		k = apiKey{r.Instance, OtherAPI, ""}
		if a = s.apis[k]; a != nil {
			return a
		}
	}
	a = s.newAPI(k, r.Group)
	s.apis[k] = a
	if k.api != NoAPI && k.api != OtherAPI {
		s.tracked[k.instance]++
		s.vec.tracked.WithLabelValues(k.instance).Set(float64(s.tracked[k.instance]))
	}
	return a
}

func (s *Stats) newAPI(k apiKey, group string) *apiStats {
	if k.api == OtherAPI || k.api == NoAPI {
		group = ""
	}
	a := &apiStats{key: k, group: group, win: newWindows(), codes: map[string]prometheus.Counter{}}
	for i := range a.classes {
		a.classes[i] = s.vec.requests.WithLabelValues(k.instance, group, k.api, k.env, classLabel(i))
	}
	a.latency = s.vec.latency.WithLabelValues(k.instance, group, k.api, k.env)
	a.backend = s.vec.backend.WithLabelValues(k.instance, group, k.api, k.env)
	return a
}

func classLabel(i int) string {
	if i == 0 {
		return "none"
	}
	return strconv.Itoa(i) + "xx"
}

// evictIdle frees the place of the instance's longest idle API if it has
// had no call for opts.Idle; it scans at most once a second per instance.
// s.mu is held.
func (s *Stats) evictIdle(instance string, now int64) bool {
	if s.lastEvict[instance] == now {
		return false
	}
	s.lastEvict[instance] = now
	var oldest *apiStats
	var oldestAt int64
	for k, a := range s.apis {
		if k.instance != instance || k.api == OtherAPI || k.api == NoAPI {
			continue
		}
		a.mu.Lock()
		at := a.win.lastActive()
		a.mu.Unlock()
		if oldest == nil || at < oldestAt {
			oldest, oldestAt = a, at
		}
	}
	if oldest == nil || now-oldestAt < int64(s.opts.Idle/time.Second) {
		return false
	}
	s.drop(oldest)
	return true
}

// drop forgets a tracked API and deletes its series. s.mu is held.
func (s *Stats) drop(a *apiStats) {
	k := a.key
	delete(s.apis, k)
	if k.api != OtherAPI && k.api != NoAPI {
		s.tracked[k.instance]--
		s.vec.tracked.WithLabelValues(k.instance).Set(float64(s.tracked[k.instance]))
	}
	a.mu.Lock()
	group := a.group
	codes := make([]string, 0, len(a.codes))
	for c := range a.codes {
		codes = append(codes, c)
	}
	a.mu.Unlock()
	for i := range a.classes {
		s.vec.requests.DeleteLabelValues(k.instance, group, k.api, k.env, classLabel(i))
	}
	s.vec.latency.DeleteLabelValues(k.instance, group, k.api, k.env)
	s.vec.backend.DeleteLabelValues(k.instance, group, k.api, k.env)
	for _, c := range codes {
		s.vec.errors.DeleteLabelValues(k.instance, group, k.api, k.env, c)
	}
}

// Expire drops the APIs without a call for 24 hours (their windows are
// empty). Run calls it every minute.
func (s *Stats) Expire() {
	now := s.opts.Now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apis {
		a.mu.Lock()
		at := a.win.lastActive()
		a.mu.Unlock()
		if now-at > int64(24*time.Hour/time.Second)+3600 {
			s.drop(a)
		}
	}
}

func (s *Stats) app(instance, app string) prometheus.Counter {
	k := appKey{instance, app}
	s.mu.RLock()
	c := s.apps[k]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c = s.apps[k]; c != nil {
		return c
	}
	if s.appCount[instance] >= s.opts.MaxApps {
		k.app = OtherApp
		if c = s.apps[k]; c != nil {
			return c
		}
	} else {
		s.appCount[instance]++
	}
	c = s.vec.apps.WithLabelValues(instance, k.app)
	s.apps[k] = c
	return c
}
