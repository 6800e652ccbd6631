package store

import (
	"context"
	"errors"
	"slices"
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
	// bad stands for the unusable value in the view when no good
	// version is in force.
	bad model.Placeholder
	// served is the version in the last snapshot (nil when left out): a
	// good version that breaks a uniqueness rule is replaced by it.
	served proto.Message
}

// watcher turns the etcd keyspace into model snapshots.
type watcher struct {
	s         *Store
	feed      *model.Feed
	entries   map[string]*entry
	instances map[string]*model.Instance
	gens      map[string]generation
	// cross are the objects of each instance that break rules involving
	// other objects (stored.go), as reported in the last snapshot.
	cross map[string][]model.InvalidObject
}

// Watch lists every definition at a revision, publishes a snapshot, then
// watches from the next revision and publishes a new snapshot after each
// batch of changes. On compaction or a broken watch it lists again. An
// object that fails validation is skipped and reported; its last good
// version stays in force, and when there is none (after a restart) the
// view gets a placeholder for it, which holds closed the APIs it would
// restrict (model.Placeholder). Watch returns when ctx ends.
func (s *Store) Watch(ctx context.Context, feed *model.Feed) error {
	w := &watcher{s: s, feed: feed, entries: map[string]*entry{}, gens: map[string]generation{}, cross: map[string][]model.InvalidObject{}}
	go s.probe(ctx)
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
	w.cross = map[string][]model.InvalidObject{}
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
		direct := newDirectWrites(&w.s.direct)
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			if inst, g, ok := parseGeneration(key, ev.Kv.Value, ev.Kv.ModRevision); ok {
				direct.generation(inst, ev.Kv.ModRevision)
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
			direct.object(pk, ev.Kv.ModRevision, ev.Type == clientv3.EventTypeDelete)
			if ev.Type == clientv3.EventTypeDelete {
				delete(w.entries, key)
				continue
			}
			w.apply(key, ev.Kv.Value, ev.Kv.ModRevision)
		}
		direct.report()
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
		e.bad = placeholderOf(pk, value, e.reason)
		return
	}
	e.good, e.goodRev, e.badRev, e.reason, e.bad = m, modRev, 0, "", model.Placeholder{}
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
	holds := map[string][]model.Placeholder{}
	var invalid []model.InvalidObject
	for key, e := range w.entries {
		if e.reason != "" {
			invalid = append(invalid, model.InvalidObject{Key: key, ModRevision: e.badRev, Reason: e.reason, InForce: e.good != nil})
		}
		switch {
		case !changed[e.pk.Instance]:
		case e.good != nil:
			byInst[e.pk.Instance] = append(byInst[e.pk.Instance], e.good)
		case e.reason != "" && len(model.CheckInstanceName("instance", e.pk.Instance)) == 0:
			// A key under a name apigw refuses builds no instance: it is
			// only reported.
			holds[e.pk.Instance] = append(holds[e.pk.Instance], e.bad)
		}
	}
	for name := range changed {
		objs, ok := byInst[name]
		if ph := holds[name]; ok || len(ph) > 0 {
			w.instances[name] = w.build(name, objs, ph)
		} else {
			delete(w.instances, name)
			delete(w.cross, name)
		}
	}
	for _, c := range w.cross {
		invalid = append(invalid, c...)
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

// build makes the view of a changed instance, enforcing the rules between
// objects (model.BuildStored): a good version that conflicts with an
// object written before it gives way to the version served so far.
func (w *watcher) build(name string, objs []proto.Message, placeholders []model.Placeholder) *model.Instance {
	entryOf := func(kind, id string) *entry { return w.entries[ObjectKey(name, model.KindByName(kind), id)] }
	in, problems := model.BuildStored(name, objs, placeholders, func(kind, id string) proto.Message {
		if e := entryOf(kind, id); e != nil {
			return e.served
		}
		return nil
	})
	for _, o := range objs {
		k := model.KindOf(o)
		e := entryOf(k.Name, model.IDOf(o))
		if e == nil {
			continue
		}
		if k.Name == model.KindInstance {
			e.served = in.Def
		} else {
			e.served = in.Get(k.Name, model.IDOf(o))
		}
	}
	var cross []model.InvalidObject
	for _, p := range problems {
		key := ObjectKey(name, model.KindByName(p.Kind), p.ID)
		io := model.InvalidObject{Key: key, Reason: p.Reason, InForce: !p.Dropped}
		if e := w.entries[key]; e != nil {
			io.ModRevision = e.goodRev
		}
		cross = append(cross, io)
		if !slices.ContainsFunc(w.cross[name], func(o model.InvalidObject) bool { return o == io }) {
			w.s.log.Warn("object breaks a rule involving other objects", "key", key, "mod_revision", io.ModRevision,
				"reason", p.Reason, "served", !p.Dropped, "earlier_version", p.Previous)
		}
	}
	if len(cross) > 0 {
		w.cross[name] = cross
	} else {
		delete(w.cross, name)
	}
	return in
}
