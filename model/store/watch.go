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
	"github.com/apigw/apigw/model/live"
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
// good version, or a placeholder. A key under an instance name apigw
// refuses has none: it builds no instance and is only reported.
func (e *entry) present() bool {
	return (e.good != nil || e.reason != "") && len(model.CheckInstanceName("instance", e.pk.Instance)) == 0
}

// watcher turns the etcd keyspace into model snapshots.
type watcher struct {
	s         *Store
	feed      *live.Feed
	entries   map[string]*entry
	instances map[string]*model.Instance
	gens      map[string]generation
	// views are the instances with the rules between objects enforced
	// (model.StoredView); edits holds, per instance, the changes of the
	// current batch, applied in O(change) when it is published.
	views map[string]*model.StoredView
	edits map[string]*model.StoredEdit
	// objects counts the good objects of each instance.
	objects map[string]int
	// invalid lists the unusable values; invalidList is it sorted, rebuilt
	// only when it changes.
	invalid map[string]live.InvalidObject
	// cross are, per instance and key, the objects that break rules
	// involving other objects (model.StoredProblem).
	cross        map[string]map[string][]live.InvalidObject
	invalidList  []live.InvalidObject
	invalidDirty bool
}

// Watch lists every definition at a revision, publishes a snapshot, then
// watches from the next revision and publishes a new snapshot after each
// batch of changes. On compaction or a broken watch it lists again. An
// object that fails validation is skipped and reported; its last good
// version stays in force, and when there is none (after a restart) the
// view gets a placeholder for it, which holds closed the APIs it would
// restrict (model.Placeholder). Objects that break rules involving other
// objects (a second environment named TEST, a reference to nothing) are
// found as BuildStored finds them, re-checking per batch only what the
// batch can affect (model.StoredView). Watch returns when ctx ends.
func (s *Store) Watch(ctx context.Context, feed *live.Feed) error {
	w := &watcher{s: s, feed: feed, entries: map[string]*entry{}, gens: map[string]generation{}, instances: map[string]*model.Instance{}}
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

// rebuild builds and checks every instance view and the invalid list from
// the entries (after a list). An object that loses a uniqueness conflict
// falls back on the version served before the list, if any.
func (w *watcher) rebuild() {
	byInst := map[string][]proto.Message{}
	holds := map[string][]model.Placeholder{}
	w.invalid = map[string]live.InvalidObject{}
	w.objects = map[string]int{}
	for key, e := range w.entries {
		if e.reason != "" {
			w.invalid[key] = e.invalidObject(key)
		}
		if !e.present() {
			continue
		}
		if e.good != nil {
			byInst[e.pk.Instance] = append(byInst[e.pk.Instance], e.good)
		} else {
			holds[e.pk.Instance] = append(holds[e.pk.Instance], e.bad)
		}
		w.objects[e.pk.Instance]++
	}
	old := w.views
	w.instances, w.views, w.cross = map[string]*model.Instance{}, map[string]*model.StoredView{}, map[string]map[string][]live.InvalidObject{}
	for name := range w.objects {
		var prev func(kind, id string) proto.Message
		if o := old[name]; o != nil {
			prev = o.Served
		}
		sv := model.NewStoredView(name, byInst[name], holds[name], prev)
		w.views[name], w.instances[name] = sv, sv.View()
		w.setCross(name, sv, nil)
	}
	w.edits = map[string]*model.StoredEdit{}
	w.invalidDirty = true
}

// setCross records the problems between objects of an instance: of the
// listed objects, or of every object when keys is nil. A problem not
// reported before is logged.
func (w *watcher) setCross(name string, sv *model.StoredView, keys [][2]string) {
	cross := w.cross[name]
	if cross == nil {
		cross = map[string][]live.InvalidObject{}
		w.cross[name] = cross
	}
	var problems []model.StoredProblem
	before := map[string][]live.InvalidObject{}
	if keys == nil {
		problems = sv.Problems()
	} else {
		for _, k := range keys {
			problems = append(problems, sv.ProblemsOf(k[0], k[1])...)
			key := ObjectKey(name, model.KindByName(k[0]), k[1])
			if os, ok := cross[key]; ok {
				before[key] = os
				delete(cross, key)
			}
		}
	}
	for _, p := range problems {
		key := ObjectKey(name, model.KindByName(p.Kind), p.ID)
		io := live.InvalidObject{Key: key, Reason: p.Reason, InForce: !p.Dropped}
		if e := w.entries[key]; e != nil {
			io.ModRevision = e.goodRev
		}
		cross[key] = append(cross[key], io)
		if !slices.Contains(before[key], io) {
			w.s.log.Warn("object breaks a rule involving other objects", "key", key, "mod_revision", io.ModRevision,
				"reason", p.Reason, "served", !p.Dropped, "earlier_version", p.Previous)
		}
	}
	for _, k := range keys {
		if key := ObjectKey(name, model.KindByName(k[0]), k[1]); !slices.Equal(before[key], cross[key]) {
			w.invalidDirty = true
		}
	}
	if keys == nil && len(problems) > 0 {
		w.invalidDirty = true
	}
	if len(cross) == 0 {
		delete(w.cross, name)
	}
}

func (e *entry) invalidObject(key string) live.InvalidObject {
	return live.InvalidObject{Key: key, ModRevision: e.badRev, Reason: e.reason, InForce: e.good != nil}
}

// edit returns the changes of this batch to an instance.
func (w *watcher) edit(instance string) *model.StoredEdit {
	e := w.edits[instance]
	if e == nil {
		sv := w.views[instance]
		if sv == nil {
			sv = model.NewStoredView(instance, nil, nil, nil)
			w.views[instance] = sv
		}
		e = sv.Edit()
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
	now := e.present()
	if !now && !wasPresent {
		return // nothing in the view, before or after (or a name apigw refuses)
	}
	switch {
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
		direct.report()
		if len(changed) > 0 {
			w.publish(resp.Header.Revision)
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
		changed := e.Done()
		if w.objects[name] > 0 { // objects or placeholders
			sv := w.views[name]
			w.instances[name] = sv.View()
			w.setCross(name, sv, changed)
		} else {
			delete(w.instances, name)
			delete(w.objects, name)
			delete(w.views, name)
			if len(w.cross[name]) > 0 {
				w.invalidDirty = true
			}
			delete(w.cross, name)
		}
	}
	clear(w.edits)
	if w.invalidDirty {
		w.invalidList = make([]live.InvalidObject, 0, len(w.invalid))
		for _, o := range w.invalid {
			w.invalidList = append(w.invalidList, o)
		}
		for _, byKey := range w.cross {
			for _, os := range byKey {
				w.invalidList = append(w.invalidList, os...)
			}
		}
		sort.Slice(w.invalidList, func(i, j int) bool {
			a, b := w.invalidList[i], w.invalidList[j]
			if a.Key != b.Key {
				return a.Key < b.Key
			}
			return a.Reason < b.Reason
		})
		w.invalidDirty = false
	}
	w.s.m.invalid.Set(float64(len(w.invalidList)))
	w.s.m.revision.Set(float64(rev))
	snap := live.NewSnapshot(rev, w.instances, w.invalidList)
	gens := make(map[string]generation, len(w.gens))
	for k, g := range w.gens {
		gens[k] = g
	}
	w.s.cache.publish(&cachedView{snap: snap, gens: gens})
	w.feed.Publish(snap)
}
