// Package snapshot holds the xDS resources apigw serves, per instance, and
// answers the watches of the ADS server (SotW and delta). Envoys are
// grouped by node.cluster (the instance name). Each instance keeps one
// go-control-plane LinearCache per resource type, so that:
//
//   - an update touches only the resources that changed (per-resource
//     versions; delta clients receive only those, SotW clients receive the
//     changed RouteConfigurations and full CDS/LDS state, as the protocol
//     requires);
//   - a NACKed version is not resent: the cache answers from what it last
//     sent, not from the version the client reports, so the client keeps
//     its last accepted version until the resource changes again;
//   - Envoys that connect before the instance's resources exist (apigw
//     restarting) are held until the first Set instead of being told that
//     nothing exists.
package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/xds/translate"
)

// Types are the resource types apigw serves, in the order an update is
// applied: secrets and clusters before the listeners and routes that use
// them (make-before-break).
var Types = []string{resource.SecretType, resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.ScopedRouteType, resource.RouteType}

// fullState lists the types a SotW client treats as complete in every
// response although go-control-plane does not (Envoy removes the routing
// scopes a SRDS response leaves out): any change resends all of them.
var fullState = map[string]bool{resource.ScopedRouteType: true}

// deferredDelete lists the types whose removals wait for the next update,
// so that routes stop using a cluster before it disappears.
var deferredDelete = map[string]bool{resource.SecretType: true, resource.ClusterType: true, resource.EndpointType: true}

// Cache is the per-instance xDS cache. It implements go-control-plane's
// cache.Cache and is safe for concurrent use.
type Cache struct {
	log    *slog.Logger
	prefix string

	mu        sync.Mutex
	instances map[string]*instance
	fallback  *content
}

var _ cachev3.Cache = (*Cache)(nil)

// Option configures a Cache.
type Option func(*Cache)

// WithVersionPrefix sets the prefix of the versions the cache sends
// (default: random per process, so that a restarted apigw resends
// everything to SotW clients).
func WithVersionPrefix(p string) Option { return func(c *Cache) { c.prefix = p } }

// New returns an empty cache.
func New(logger *slog.Logger, opts ...Option) *Cache {
	c := &Cache{log: logger.With("component", "xds-cache"), instances: map[string]*instance{}}
	for _, o := range opts {
		o(c)
	}
	if c.prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.prefix = hex.EncodeToString(b[:]) + "."
	}
	return c
}

// content is a set of resources by type and name, at a revision.
type content struct {
	rev    int64
	byType map[string]map[string]types.Resource
}

func newContent(rev int64, res *translate.Resources) *content {
	c := &content{rev: rev, byType: map[string]map[string]types.Resource{}}
	add := func(t, name string, r types.Resource) {
		if c.byType[t] == nil {
			c.byType[t] = map[string]types.Resource{}
		}
		c.byType[t][name] = r
	}
	for _, r := range res.Listeners {
		add(resource.ListenerType, r.Name, r)
	}
	for _, r := range res.Routes {
		add(resource.RouteType, r.Name, r)
	}
	for _, r := range res.Clusters {
		add(resource.ClusterType, r.Name, r)
	}
	for _, r := range res.Endpoints {
		add(resource.EndpointType, r.ClusterName, r)
	}
	for _, r := range res.Secrets {
		add(resource.SecretType, r.Name, r)
	}
	for _, r := range res.Scopes {
		add(resource.ScopedRouteType, r.Name, r)
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
	ic := c.instance(name)
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.defined = true
	st := ic.apply(newContent(rev, res), c.log)
	ic.makeReady(c.log)
	return st
}

// SetDefault installs the resources served to instances that have no
// definitions (the translation of an empty instance: listeners answering
// 404). Until the first SetDefault, such Envoys are held.
func (c *Cache) SetDefault(rev int64, res *translate.Resources) {
	fb := newContent(rev, res)
	c.mu.Lock()
	c.fallback = fb
	var undefined []*instance
	for _, ic := range c.instances {
		undefined = append(undefined, ic)
	}
	c.mu.Unlock()
	for _, ic := range undefined {
		ic.mu.Lock()
		if !ic.defined {
			ic.apply(fb, c.log)
			ic.makeReady(c.log)
		}
		ic.mu.Unlock()
	}
}

// Revision returns the latest etcd revision whose resources of a type a
// version the cache sent for an instance carries (false if unknown or too
// old).
func (c *Cache) Revision(name, typeURL, version string) (int64, bool) {
	c.mu.Lock()
	ic := c.instances[name]
	c.mu.Unlock()
	if ic == nil {
		return 0, false
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	rev, ok := ic.versions[typeURL].get(version)
	return rev, ok
}

// instance returns the cache of an instance, creating it (seeded with the
// fallback resources when there are any).
func (c *Cache) instance(name string) *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	ic := c.instances[name]
	if ic != nil {
		return ic
	}
	ic = newInstance(name, c.prefix, c.log)
	c.instances[name] = ic
	if c.fallback != nil {
		ic.apply(c.fallback, c.log)
		ic.ready = true
	}
	return ic
}

// CreateWatch implements cache.ConfigWatcher for SotW streams.
func (c *Cache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	if !served(req.GetTypeUrl()) {
		return func() {}, nil
	}
	ic := c.instance(NodeHash{}.ID(req.GetNode()))
	return ic.watch(&parkedWatch{sotw: &sotwWatch{req: req, sub: sub, ch: ch}})
}

// CreateDeltaWatch implements cache.ConfigWatcher for delta streams.
func (c *Cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	if !served(req.GetTypeUrl()) {
		return func() {}, nil
	}
	ic := c.instance(NodeHash{}.ID(req.GetNode()))
	return ic.watch(&parkedWatch{delta: &deltaWatch{req: req, sub: sub, ch: ch}})
}

// Fetch implements cache.ConfigFetcher; REST xDS is not served.
func (c *Cache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errors.New("apigw serves xDS over gRPC only")
}

func served(typeURL string) bool {
	for _, t := range Types {
		if t == typeURL {
			return true
		}
	}
	return false
}

// instance is the cache of one instance.
type instance struct {
	name     string
	mu       sync.Mutex
	ready    bool
	defined  bool
	caches   map[string]*cachev3.LinearCache
	counters map[string]uint64
	prefix   string
	current  map[string]map[string]types.Resource
	pending  map[string]map[string]bool
	versions map[string]*versionLog
	parked   map[*parkedWatch]struct{}
}

func newInstance(name, prefix string, log *slog.Logger) *instance {
	ic := &instance{
		name: name, prefix: prefix, caches: map[string]*cachev3.LinearCache{}, counters: map[string]uint64{},
		current: map[string]map[string]types.Resource{}, pending: map[string]map[string]bool{},
		versions: map[string]*versionLog{}, parked: map[*parkedWatch]struct{}{},
	}
	for _, t := range Types {
		ic.caches[t] = cachev3.NewLinearCache(t, cachev3.WithVersionPrefix(prefix), cachev3.WithLogger(Logger(log.With("instance", name))))
		ic.current[t] = map[string]types.Resource{}
		ic.versions[t] = newVersionLog(64)
	}
	return ic
}

// apply moves the instance to next: changed and new resources are
// updated, removed routes and listeners deleted, removed clusters,
// endpoints and secrets deleted on the following apply. A cluster that
// changes gets its endpoints resent (Envoy warms a changed cluster until
// it receives them). Callers hold ic.mu.
func (ic *instance) apply(next *content, log *slog.Logger) Stats {
	var st Stats
	changedClusters := map[string]bool{}
	for _, t := range Types {
		cur, nxt := ic.current[t], next.byType[t]
		upd := map[string]types.Resource{}
		for name, r := range nxt {
			old, ok := cur[name]
			if !ok || (old != r && !proto.Equal(old, r)) {
				upd[name] = r
			}
		}
		switch t {
		case resource.ClusterType:
			for name := range upd {
				changedClusters[name] = true
			}
		case resource.EndpointType:
			for name := range changedClusters {
				if r, ok := nxt[name]; ok {
					upd[name] = r
				}
			}
		}
		var del []string
		pend := map[string]bool{}
		for name := range cur {
			if _, ok := nxt[name]; ok {
				continue
			}
			if deferredDelete[t] && !ic.pending[t][name] {
				pend[name] = true
				continue
			}
			del = append(del, name)
		}
		ic.pending[t] = pend
		if fullState[t] && len(upd)+len(del) > 0 {
			for name, r := range nxt {
				upd[name] = r
			}
		}
		if len(upd) == 0 && len(del) == 0 {
			// The type's current version now also stands for rev.
			if ic.counters[t] > 0 {
				ic.versions[t].touch(ic.prefix+strconv.FormatUint(ic.counters[t], 10), next.rev)
			}
			continue
		}
		for name, r := range upd {
			cur[name] = r
		}
		for _, name := range del {
			delete(cur, name)
		}
		if err := ic.caches[t].UpdateResources(upd, del); err != nil {
			log.Error("xds cache update failed", "instance", ic.name, "type", t, "err", err)
		}
		ic.counters[t]++
		ic.versions[t].add(ic.prefix+strconv.FormatUint(ic.counters[t], 10), next.rev)
		st.Updated += len(upd)
		st.Deleted += len(del)
	}
	return st
}
