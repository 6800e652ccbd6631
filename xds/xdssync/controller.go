// Package xdssync keeps the xDS cache in step with the definitions: it
// subscribes to the model feed, debounces bursts of changes, translates
// each instance with an incremental translate.Builder and installs the
// result in the xDS cache (xds/xdscache), reporting the APIs left out.
package xdssync

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdscache"
)

// Options configure a Controller.
type Options struct {
	// Translate are the deployment settings of the translation.
	Translate translate.Options
	// A snapshot arriving after Holdoff (default 10ms) without any is
	// applied at once; one arriving sooner waits for Holdoff of quiet,
	// at most MaxHoldoff (default 100ms) under a stream of changes.
	Holdoff, MaxHoldoff time.Duration
	// OnSync, when set, is called after each snapshot is installed.
	OnSync func(rev int64)
	// Registerer, when set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Controller translates snapshots into the xDS cache.
type Controller struct {
	feed     *live.Feed
	cache    *xdscache.Cache
	status   ProblemRecorder
	log      *slog.Logger
	opts     Options
	m        *metrics
	builders map[string]*translate.Builder
	fallback bool
}

// ProblemRecorder is where the controller reports, per instance, the APIs
// the translation left out (live.Status implements it).
type ProblemRecorder interface {
	SetAPIProblems(instance string, ps []model.APIProblem)
}

// New returns a controller; Run starts it. status may be nil.
func New(feed *live.Feed, cache *xdscache.Cache, status ProblemRecorder, logger *slog.Logger, opts Options) *Controller {
	if opts.Holdoff <= 0 {
		opts.Holdoff = 10 * time.Millisecond
	}
	if opts.MaxHoldoff < opts.Holdoff {
		opts.MaxHoldoff = max(100*time.Millisecond, opts.Holdoff)
	}
	return &Controller{
		feed: feed, cache: cache, status: status, log: logger.With("component", "xds-sync"), opts: opts,
		m: newMetrics(opts.Registerer), builders: map[string]*translate.Builder{},
	}
}

// Run applies snapshots until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	snaps := c.feed.Subscribe(ctx)
	var (
		pending   *live.Snapshot
		since     time.Time // arrival of the oldest snapshot pending
		lastApply time.Time // end of the last apply
		timer     = time.NewTimer(time.Hour)
		deadline  time.Time
	)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-snaps:
			if !ok {
				return nil
			}
			now := time.Now()
			if pending == nil && now.Sub(lastApply) >= c.opts.Holdoff {
				c.apply(s, now)
				lastApply = time.Now()
				continue
			}
			if pending == nil {
				since, deadline = now, now.Add(c.opts.MaxHoldoff)
			}
			pending = s
			timer.Reset(min(c.opts.Holdoff, max(deadline.Sub(now), 0)))
		case <-timer.C:
			if pending != nil {
				c.apply(pending, since)
				lastApply = time.Now()
				pending = nil
			}
		}
	}
}

// apply translates every instance of a snapshot, which arrived at
// arrived, and installs it.
func (c *Controller) apply(s *live.Snapshot, arrived time.Time) {
	start := time.Now()
	c.m.wait.Observe(start.Sub(arrived).Seconds())
	seen := map[string]bool{}
	problems := 0
	for _, in := range s.Instances() {
		seen[in.Name] = true
		problems += c.install(in, s.Revision)
	}
	for name := range c.builders {
		if !seen[name] {
			// A deleted instance keeps its Envoys answering 404.
			c.install(model.NewInstance(name, nil), s.Revision)
			delete(c.builders, name)
		}
	}
	if !c.fallback {
		res, err := translate.Build(model.NewInstance("", nil), c.opts.Translate)
		if err != nil {
			c.log.Error("cannot translate the empty instance", "err", err)
		} else {
			c.cache.SetDefault(s.Revision, res)
			c.fallback = true
		}
	}
	d := time.Since(start)
	c.m.duration.Observe(d.Seconds())
	c.m.revision.Set(float64(s.Revision))
	c.m.problems.Set(float64(problems))
	c.log.Debug("xds resources updated", "revision", s.Revision, "instances", len(seen), "problems", problems, "duration", d)
	if c.opts.OnSync != nil {
		c.opts.OnSync(s.Revision)
	}
}

func (c *Controller) install(in *model.Instance, rev int64) int {
	b := c.builders[in.Name]
	if b == nil {
		b = translate.NewBuilder(c.opts.Translate)
		c.builders[in.Name] = b
	}
	start := time.Now()
	res, err := b.Build(in)
	c.m.translate.Observe(time.Since(start).Seconds())
	if err != nil {
		// A resource failed validation: an apigw bug. Keep serving the
		// last good resources.
		c.log.Error("translation failed; the instance keeps its previous configuration", "instance", in.Name, "revision", rev, "err", err)
		c.m.failures.Inc()
		delete(c.builders, in.Name)
		return 0
	}
	st := c.cache.Set(in.Name, rev, res)
	if c.status != nil {
		c.status.SetAPIProblems(in.Name, res.Problems)
	}
	for _, p := range res.Problems {
		c.log.Debug("published API left out", "instance", in.Name, "api", p.APIID, "env", p.EnvID, "reason", p.Reason)
	}
	if st.Updated+st.Deleted > 0 {
		c.log.Info("instance configuration changed", "instance", in.Name, "revision", rev, "updated", st.Updated, "deleted", st.Deleted)
	}
	return len(res.Problems)
}
