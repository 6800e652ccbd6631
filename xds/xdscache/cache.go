// Package xdscache holds the xDS resources apigw serves, per instance, as
// versions that the ADS server (xds/ads) sends. Envoys are grouped by
// node.cluster (the instance name). For each instance and resource type
// (a feed) the cache keeps the current Version: the resources by name,
// each encoded once and shared by every stream, so that what a connected
// Envoy costs is its subscription state, not a copy of the configuration.
//
//   - An update installs a new Version of a feed only when some resource
//     of it changed (unchanged resources keep their identity: the same
//     Resource, the same encoding).
//   - Removed clusters, endpoints and secrets stay for one more update, so
//     that the routes using them go first; a changed EDS cluster gets its
//     endpoints resent (Envoy warms a changed cluster until it gets them).
//   - Envoys that connect before their instance's resources exist (apigw
//     restarting) are held until the first Set (Current returns nil)
//     instead of being told that nothing exists.
//   - In scoped routing the listeners exist in two variants: the scoped
//     one and the single-RDS one (FeedSingleListeners) for Envoys that
//     cannot use scoped routes.
package xdscache

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/xds/translate"
)

// Types returns the resource types apigw serves, in the order an update
// is applied and sent: secrets and clusters before the listeners and
// routes that use them (make-before-break).
func Types() [6]string {
	return [...]string{resource.SecretType, resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.ScopedRouteType, resource.RouteType}
}

// FeedSingleListeners is the feed of the listeners served to Envoys that
// use a single RouteConfiguration while the instance uses scoped routes.
const FeedSingleListeners = resource.ListenerType + "#single"

// feedOrder returns every feed of an instance, in apply order.
func feedOrder() [7]string {
	return [...]string{resource.SecretType, resource.ClusterType, resource.EndpointType, resource.ListenerType, FeedSingleListeners, resource.ScopedRouteType, resource.RouteType}
}

// FullState reports whether a SotW response of a type carries every
// resource of the subscription: Envoy removes the listeners, clusters
// and routing scopes a response leaves out.
func FullState(typeURL string) bool {
	return typeURL == resource.ListenerType || typeURL == resource.ClusterType || typeURL == resource.ScopedRouteType
}

// Served reports whether apigw serves a resource type.
func Served(typeURL string) bool {
	for _, t := range Types() {
		if t == typeURL {
			return true
		}
	}
	return false
}

// deferredDelete lists the types whose removals wait for the next update,
// so that routes stop using a cluster before it disappears.
var deferredDelete = map[string]bool{resource.SecretType: true, resource.ClusterType: true, resource.EndpointType: true}

// Cache is the per-instance xDS cache. It is safe for concurrent use.
type Cache struct {
	log    *slog.Logger
	prefix string
	reg    prometheus.Registerer
	setDur prometheus.Histogram

	mu        sync.Mutex
	instances map[string]*Instance
	fallback  *content
}

// Option configures a Cache.
type Option func(*Cache)

// WithVersionPrefix sets the prefix of the versions the cache sends
// (default: random per process, so that a restarted apigw resends
// everything to SotW clients).
func WithVersionPrefix(p string) Option { return func(c *Cache) { c.prefix = p } }

// WithRegisterer registers the cache's metrics.
func WithRegisterer(reg prometheus.Registerer) Option { return func(c *Cache) { c.reg = reg } }

// New returns an empty cache.
func New(logger *slog.Logger, opts ...Option) *Cache {
	c := &Cache{log: logger.With("component", "xds-cache"), instances: map[string]*Instance{}}
	for _, o := range opts {
		o(c)
	}
	if c.prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.prefix = hex.EncodeToString(b[:]) + "."
	}
	c.setDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "apigw_xds_cache_update_seconds", Help: "Time to install an instance's translated resources in the xDS cache (comparison and encoding of what changed).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	if c.reg != nil {
		c.reg.MustRegister(c.setDur)
	}
	return c
}

// content is a set of resources by feed and name, at a revision.
type content struct {
	rev       int64
	byFeed    map[string]map[string]proto.Message
	hasSingle bool
}

func newContent(rev int64, res *translate.Resources) *content {
	c := &content{rev: rev, byFeed: map[string]map[string]proto.Message{}, hasSingle: res.SingleListeners != nil}
	for _, f := range feedOrder() {
		c.byFeed[f] = map[string]proto.Message{}
	}
	for _, r := range res.Listeners {
		c.byFeed[resource.ListenerType][r.Name] = r
	}
	for _, r := range res.SingleListeners {
		c.byFeed[FeedSingleListeners][r.Name] = r
	}
	for _, r := range res.Routes {
		c.byFeed[resource.RouteType][r.Name] = r
	}
	for _, r := range res.SingleRoutes {
		c.byFeed[resource.RouteType][r.Name] = r
	}
	for _, r := range res.Clusters {
		c.byFeed[resource.ClusterType][r.Name] = r
	}
	for _, r := range res.Endpoints {
		c.byFeed[resource.EndpointType][r.ClusterName] = r
	}
	for _, r := range res.Secrets {
		c.byFeed[resource.SecretType][r.Name] = r
	}
	for _, r := range res.Scopes {
		c.byFeed[resource.ScopedRouteType][r.Name] = r
	}
	return c
}

// Stats describe what an update changed.
type Stats struct {
	Updated, Deleted int
}

// Set installs the resources of an instance, translated at etcd revision
// rev. Only resources that differ from the current ones are updated.
func (c *Cache) Set(name string, rev int64, res *translate.Resources) Stats {
	start := time.Now()
	ic := c.Instance(name)
	ic.mu.Lock()
	ic.defined = true
	st := ic.apply(newContent(rev, res), c.log)
	ic.ready.Store(true)
	ic.mu.Unlock()
	ic.notify()
	c.setDur.Observe(time.Since(start).Seconds())
	return st
}

// SetDefault installs the resources served to instances that have no
// definitions (the translation of an empty instance: listeners answering
// 404). Until the first SetDefault, such Envoys are held.
func (c *Cache) SetDefault(rev int64, res *translate.Resources) {
	fb := newContent(rev, res)
	c.mu.Lock()
	c.fallback = fb
	all := make([]*Instance, 0, len(c.instances))
	for _, ic := range c.instances {
		all = append(all, ic)
	}
	c.mu.Unlock()
	for _, ic := range all {
		ic.mu.Lock()
		if ic.defined {
			ic.mu.Unlock()
			continue
		}
		ic.apply(fb, c.log)
		ic.ready.Store(true)
		ic.mu.Unlock()
		ic.notify()
	}
}

// Revision returns the latest etcd revision that a version the cache sent
// for an instance's resources of a type carries (false if unknown or too
// old).
func (c *Cache) Revision(name, typeURL, version string) (int64, bool) {
	c.mu.Lock()
	ic := c.instances[name]
	c.mu.Unlock()
	if ic == nil {
		return 0, false
	}
	return ic.Revision(typeURL, version)
}

// Instance returns the cache of an instance, creating it (seeded with the
// fallback resources when there are any).
func (c *Cache) Instance(name string) *Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	ic := c.instances[name]
	if ic != nil {
		return ic
	}
	ic = newInstance(name, c.prefix)
	c.instances[name] = ic
	if c.fallback != nil {
		ic.apply(c.fallback, c.log)
		ic.ready.Store(true)
	}
	return ic
}

// Instance is the cache of one instance.
type Instance struct {
	name      string
	ready     atomic.Bool
	hasSingle atomic.Bool
	feeds     map[string]*feed // fixed at creation

	mu       sync.Mutex
	defined  bool
	watchers map[chan<- struct{}]struct{}
}

// feed is the sequence of versions of one feed of an instance.
type feed struct {
	typeURL  string
	idPrefix string
	counter  uint64
	cur      atomic.Pointer[Version]
	pending  map[string]bool // removed resources kept for one update
	versions *versionLog
}

func newInstance(name, prefix string) *Instance {
	ic := &Instance{name: name, feeds: map[string]*feed{}, watchers: map[chan<- struct{}]struct{}{}}
	for _, key := range feedOrder() {
		f := &feed{typeURL: key, idPrefix: prefix, pending: map[string]bool{}, versions: newVersionLog(64)}
		if key == FeedSingleListeners {
			f.typeURL, f.idPrefix = resource.ListenerType, prefix+"s"
		}
		ic.feeds[key] = f
	}
	return ic
}

// Name returns the instance name.
func (ic *Instance) Name() string { return ic.name }

// Current returns the current version of a feed (a type URL or
// FeedSingleListeners), or nil while the instance is held: its resources
// do not exist yet.
func (ic *Instance) Current(key string) *Version {
	if !ic.ready.Load() {
		return nil
	}
	if key == FeedSingleListeners && !ic.hasSingle.Load() {
		key = resource.ListenerType
	}
	f := ic.feeds[key]
	if f == nil {
		return nil
	}
	return f.cur.Load()
}

// Watch registers ch, which receives a value (without blocking: a full
// channel already has one pending) whenever the instance's resources
// change or become available. cancel unregisters it.
func (ic *Instance) Watch(ch chan<- struct{}) (cancel func()) {
	ic.mu.Lock()
	ic.watchers[ch] = struct{}{}
	ic.mu.Unlock()
	return func() {
		ic.mu.Lock()
		delete(ic.watchers, ch)
		ic.mu.Unlock()
	}
}

func (ic *Instance) notify() {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for ch := range ic.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Revision returns the latest etcd revision a version of a type carries.
func (ic *Instance) Revision(typeURL, version string) (int64, bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if f := ic.feeds[typeURL]; f != nil {
		if rev, ok := f.versions.get(version); ok {
			return rev, true
		}
	}
	if typeURL == resource.ListenerType {
		return ic.feeds[FeedSingleListeners].versions.get(version)
	}
	return 0, false
}

// apply moves the instance to next. Callers hold ic.mu.
func (ic *Instance) apply(next *content, log *slog.Logger) Stats {
	var st Stats
	now := time.Now()
	changedClusters := map[string]bool{}
	ic.hasSingle.Store(next.hasSingle)
	for _, key := range feedOrder() {
		f := ic.feeds[key]
		cur := f.cur.Load()
		var curRes map[string]*Resource
		if cur != nil {
			curRes = cur.Resources
		}
		nxt := next.byFeed[key]
		res := make(map[string]*Resource, len(nxt))
		updated, deleted := 0, 0
		for name, m := range nxt {
			old := curRes[name]
			forced := key == resource.EndpointType && changedClusters[name]
			switch {
			case old != nil && old.Msg == m && !forced:
				res[name] = old
				continue
			case old != nil && old.encoded() && !forced:
				// Someone was sent the old one: compare encodings (the
				// new one is needed anyway).
				r := newResource(name, m)
				ob, oerr := old.Body()
				nb, nerr := r.Body()
				if oerr == nil && nerr == nil && bytes.Equal(ob, nb) {
					res[name] = old.withMsg(m)
					continue
				}
				res[name] = r
			default:
				res[name] = newResource(name, m)
			}
			updated++
			if key == resource.ClusterType {
				changedClusters[name] = true
			}
		}
		pend := map[string]bool{}
		for name, old := range curRes {
			if _, ok := nxt[name]; ok {
				continue
			}
			if deferredDelete[key] && !f.pending[name] {
				pend[name] = true
				res[name] = old
				continue
			}
			deleted++
		}
		f.pending = pend
		if cur != nil && updated == 0 && deleted == 0 {
			// The current version now also stands for next.rev.
			f.versions.touch(cur.ID, next.rev)
			continue
		}
		f.counter++
		v := &Version{TypeURL: f.typeURL, ID: f.idPrefix + strconv.FormatUint(f.counter, 10), Resources: res, Installed: now}
		f.cur.Store(v)
		f.versions.add(v.ID, next.rev)
		st.Updated += updated
		st.Deleted += deleted
		log.Debug("xds feed updated", "instance", ic.name, "feed", key, "version", v.ID, "updated", updated, "deleted", deleted)
	}
	return st
}
