package store

import (
	"context"
	"errors"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
)

// entry is the state of one key: the last good object and, when the
// current value is unusable, why.
type entry struct {
	pk      ParsedKey
	good    proto.Message
	goodRev int64
	badRev  int64
	reason  string
}

// watcher turns the etcd keyspace into model snapshots.
type watcher struct {
	s         *Store
	feed      *model.Feed
	entries   map[string]*entry
	instances map[string]*model.Instance
	gens      map[string]generation
}

// Watch lists every definition at a revision, publishes a snapshot, then
// watches from the next revision and publishes a new snapshot after each
// batch of changes. On compaction or a broken watch it lists again. An
// object that fails validation is skipped and reported; its last good
// version stays in force. Watch returns when ctx ends.
func (s *Store) Watch(ctx context.Context, feed *model.Feed) error {
	w := &watcher{s: s, feed: feed, entries: map[string]*entry{}, gens: map[string]generation{}}
	backoff := 100 * time.Millisecond
	for {
		rev, err := w.list(ctx)
		if err == nil {
			backoff = 100 * time.Millisecond
			err = w.watch(ctx, rev)
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("etcd watch interrupted; resyncing", "err", err)
		s.m.resyncs.Inc()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// list loads the whole keyspace page by page at one revision.
func (w *watcher) list(ctx context.Context) (int64, error) {
	const page = 1000
	var rev int64
	seen := map[string]bool{}
	w.gens = map[string]generation{}
	key, end := Prefix, clientv3.GetPrefixRangeEnd(Prefix)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := w.s.cli.Get(ctx, key, opts...)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			seen[string(kv.Key)] = true
			if inst, g, ok := parseGeneration(string(kv.Key), kv.Value, kv.ModRevision); ok {
				w.gens[inst] = g
				continue
			}
			w.apply(string(kv.Key), kv.Value, kv.ModRevision)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	for k := range w.entries {
		if !seen[k] {
			delete(w.entries, k)
		}
	}
	w.instances = map[string]*model.Instance{}
	w.publish(rev, w.allInstances())
	return rev, nil
}

func (w *watcher) watch(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := w.s.cli.Watch(wctx, Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return err
		}
		if len(resp.Events) == 0 {
			continue
		}
		received := time.Now()
		w.s.commitTimes.events(resp.Events, received, w.s.m.watchDelay)
		changed := map[string]bool{}
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			if inst, g, ok := parseGeneration(key, ev.Kv.Value, ev.Kv.ModRevision); ok {
				if ev.Type == clientv3.EventTypeDelete {
					delete(w.gens, inst)
				} else {
					w.gens[inst] = g
				}
				changed[inst] = true
				continue
			}
			pk, ok := ParseKey(key)
			if !ok {
				continue
			}
			changed[pk.Instance] = true
			if ev.Type == clientv3.EventTypeDelete {
				delete(w.entries, key)
				continue
			}
			w.apply(key, ev.Kv.Value, ev.Kv.ModRevision)
		}
		if len(changed) > 0 {
			w.publish(resp.Header.Revision, changed)
			w.s.m.viewUpdate.Observe(time.Since(received).Seconds())
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New("watch channel closed")
}

// apply records a new value of key, keeping the last good version when the
// value is unusable.
func (w *watcher) apply(key string, value []byte, modRev int64) {
	pk, ok := ParseKey(key)
	if !ok {
		return
	}
	e := w.entries[key]
	if e == nil {
		e = &entry{pk: pk}
		w.entries[key] = e
	}
	m, err := w.s.codec.Decode(pk, value, modRev)
	if err != nil {
		if e.badRev != modRev {
			w.s.log.Warn("skipping invalid object", "key", key, "mod_revision", modRev, "reason", err.Error(), "in_force", e.good != nil)
		}
		e.badRev, e.reason = modRev, err.Error()
		return
	}
	e.good, e.goodRev, e.badRev, e.reason = m, modRev, 0, ""
}

func (w *watcher) allInstances() map[string]bool {
	out := map[string]bool{}
	for _, e := range w.entries {
		out[e.pk.Instance] = true
	}
	return out
}

// publish rebuilds the changed instances and publishes a snapshot.
func (w *watcher) publish(rev int64, changed map[string]bool) {
	byInst := map[string][]proto.Message{}
	var invalid []model.InvalidObject
	for key, e := range w.entries {
		if e.reason != "" {
			invalid = append(invalid, model.InvalidObject{Key: key, ModRevision: e.badRev, Reason: e.reason, InForce: e.good != nil})
		}
		if e.good != nil && changed[e.pk.Instance] {
			byInst[e.pk.Instance] = append(byInst[e.pk.Instance], e.good)
		}
	}
	for name := range changed {
		if objs, ok := byInst[name]; ok {
			w.instances[name] = model.NewInstance(name, objs)
		} else {
			delete(w.instances, name)
		}
	}
	sort.Slice(invalid, func(i, j int) bool { return invalid[i].Key < invalid[j].Key })
	w.s.m.invalid.Set(float64(len(invalid)))
	w.s.m.revision.Set(float64(rev))
	snap := model.NewSnapshot(rev, w.instances, invalid)
	gens := make(map[string]generation, len(w.gens))
	for k, g := range w.gens {
		gens[k] = g
	}
	w.s.cache.publish(&cachedView{snap: snap, gens: gens})
	w.feed.Publish(snap)
}
