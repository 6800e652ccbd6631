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
	// bad stands for the unusable value in the view when no good
	// version is in force.
	bad model.Placeholder
}

// present says whether the entry has a place in its instance's view: a
// good version, or a placeholder.
func (e *entry) present() bool { return e.good != nil || e.reason != "" }

// watcher turns the etcd keyspace into model snapshots.
type watcher struct {
	s         *Store
	feed      *model.Feed
	entries   map[string]*entry
	instances map[string]*model.Instance
	gens      map[string]generation
	// edits holds, per instance, the view being derived from the events
	// of the current batch (O(change): see model.Edit).
	edits map[string]*model.Edit
	// objects counts the good objects of each instance.
	objects map[string]int
	// invalid lists the unusable values; invalidList is it sorted, rebuilt
	// only when it changes.
	invalid      map[string]model.InvalidObject
	invalidList  []model.InvalidObject
	invalidDirty bool
}

// Watch lists every definition at a revision, publishes a snapshot, then
// watches from the next revision and publishes a new snapshot after each
// batch of changes. On compaction or a broken watch it lists again. An
// object that fails validation is skipped and reported; its last good
// version stays in force, and when there is none (after a restart) the
// view gets a placeholder for it, which holds closed the APIs it would
// restrict (model.Placeholder). Watch returns when ctx ends.
func (s *Store) Watch(ctx context.Context, feed *model.Feed) error {
	w := &watcher{s: s, feed: feed, entries: map[string]*entry{}, gens: map[string]generation{}, instances: map[string]*model.Instance{}}
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
	w.edits, w.invalid = nil, nil // rebuild derives them from the entries
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
	w.rebuild()
	w.publish(rev)
	return rev, nil
}

// rebuild builds every instance view and the invalid list from the
// entries (after a list).
func (w *watcher) rebuild() {
	byInst := map[string][]proto.Message{}
	holds := map[string][]model.Placeholder{}
	w.invalid = map[string]model.InvalidObject{}
	w.objects = map[string]int{}
	for key, e := range w.entries {
		if e.reason != "" {
			w.invalid[key] = e.invalidObject(key)
		}
		switch {
		case e.good != nil:
			byInst[e.pk.Instance] = append(byInst[e.pk.Instance], e.good)
		case e.reason != "":
			holds[e.pk.Instance] = append(holds[e.pk.Instance], e.bad)
		}
		if e.present() {
			w.objects[e.pk.Instance]++
		}
	}
	w.instances = map[string]*model.Instance{}
	for name := range w.objects {
		w.instances[name] = model.NewInstanceWith(name, byInst[name], holds[name])
	}
	w.edits = map[string]*model.Edit{}
	w.invalidDirty = true
}

func (e *entry) invalidObject(key string) model.InvalidObject {
	return model.InvalidObject{Key: key, ModRevision: e.badRev, Reason: e.reason, InForce: e.good != nil}
}

// edit returns the view of an instance being changed by this batch.
func (w *watcher) edit(instance string) *model.Edit {
	e := w.edits[instance]
	if e == nil {
		prev := w.instances[instance]
		if prev == nil {
			prev = model.NewInstance(instance, nil)
		}
		e = prev.Edit()
		w.edits[instance] = e
	}
	return e
}

// stage puts into the instance's view what an entry now holds: its good
// version, else a placeholder for its unusable value, else nothing (the
// key is gone). wasPresent is whether the view had it before.
func (w *watcher) stage(e *entry, wasPresent bool) {
	if w.edits == nil { // during a list, rebuild does it all
		return
	}
	switch now := e.present(); {
	case now && !wasPresent:
		w.objects[e.pk.Instance]++
	case !now && wasPresent:
		w.objects[e.pk.Instance]--
	}
	ed := w.edit(e.pk.Instance)
	switch {
	case e.good != nil:
		ed.Put(e.good)
	case e.reason != "":
		ed.SetPlaceholder(e.bad)
	default:
		ed.Delete(e.pk.Kind.Name, e.pk.ID)
	}
}

// setInvalid records whether a key's current value is unusable.
func (w *watcher) setInvalid(key string, e *entry) {
	if w.invalid == nil {
		return
	}
	old, had := w.invalid[key]
	switch {
	case e == nil || e.reason == "":
		if had {
			delete(w.invalid, key)
			w.invalidDirty = true
		}
	default:
		if o := e.invalidObject(key); !had || o != old {
			w.invalid[key] = o
			w.invalidDirty = true
		}
	}
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
				if e := w.entries[key]; e != nil {
					was := e.present()
					delete(w.entries, key)
					e.good, e.reason = nil, ""
					w.stage(e, was)
					w.setInvalid(key, nil)
				}
				continue
			}
			w.apply(key, ev.Kv.Value, ev.Kv.ModRevision)
		}
		if len(changed) > 0 {
			w.publish(resp.Header.Revision)
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
	was := e.present()
	m, err := w.s.codec.Decode(pk, value, modRev)
	if err != nil {
		if e.badRev != modRev {
			w.s.log.Warn("skipping invalid object", "key", key, "mod_revision", modRev, "reason", err.Error(), "in_force", e.good != nil)
		}
		e.badRev, e.reason = modRev, err.Error()
		e.bad = placeholderOf(pk, value, e.reason)
		w.setInvalid(key, e)
		if e.good == nil { // no good version in force: the placeholder changes
			w.stage(e, was)
		}
		return
	}
	e.good, e.goodRev, e.badRev, e.reason, e.bad = m, modRev, 0, "", model.Placeholder{}
	w.setInvalid(key, e)
	w.stage(e, was)
}

// publish finishes the views changed by the batch and publishes a
// snapshot: O(change), the unchanged instances and indexes are shared.
func (w *watcher) publish(rev int64) {
	for name, e := range w.edits {
		if w.objects[name] > 0 { // objects or placeholders
			w.instances[name] = e.Done()
		} else {
			delete(w.instances, name)
			delete(w.objects, name)
		}
	}
	clear(w.edits)
	if w.invalidDirty {
		w.invalidList = make([]model.InvalidObject, 0, len(w.invalid))
		for _, o := range w.invalid {
			w.invalidList = append(w.invalidList, o)
		}
		sort.Slice(w.invalidList, func(i, j int) bool { return w.invalidList[i].Key < w.invalidList[j].Key })
		w.invalidDirty = false
	}
	w.s.m.invalid.Set(float64(len(w.invalidList)))
	w.s.m.revision.Set(float64(rev))
	snap := model.NewSnapshot(rev, w.instances, w.invalidList)
	gens := make(map[string]generation, len(w.gens))
	for k, g := range w.gens {
		gens[k] = g
	}
	w.s.cache.publish(&cachedView{snap: snap, gens: gens})
	w.feed.Publish(snap)
}
