package admin

import (
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type objKey [2]string // kind, id

func keyOf(m proto.Message) objKey { return objKey{model.KindOf(m).Name, model.IDOf(m)} }

// tx stages the changes of one admin operation over the instance as
// loaded. Staged changes go into a live view derived from the loaded one
// (model.Edit, O(change)), so every lookup of the operation sees them.
type tx struct {
	s       *Server
	base    *store.Loaded
	edit    *model.Edit
	puts    map[objKey]proto.Message
	order   []objKey
	fields  map[objKey]string // field prefix of each staged object in the request
	deleted map[objKey]bool
	// reads are loaded objects the change was computed from besides what
	// it writes and references; the commit is guarded on them too.
	reads    map[objKey]bool
	vs       model.Violations
	change   store.Change
	final    *model.Instance // final view, set by finish
	revision int64
	reveal   map[string]bool // secret values created by this call
	lim      *model.Limits   // limits of limCfg
	limCfg   *apigwv1.InstanceConfig
}

func newTx(s *Server, base *store.Loaded) *tx {
	return &tx{s: s, base: base, edit: base.Instance.Edit(), puts: map[objKey]proto.Message{}, fields: map[objKey]string{},
		deleted: map[objKey]bool{}, reads: map[objKey]bool{}, reveal: map[string]bool{}}
}

// in is the instance as loaded.
func (t *tx) in() *model.Instance { return t.base.Instance }

// view is the instance with the changes staged so far.
func (t *tx) view() *model.Instance {
	if t.final != nil {
		return t.final
	}
	return t.edit.View()
}

// limits are the instance's limits (a staged instance object wins).
func (t *tx) limits() model.Limits {
	if cfg := t.view().Config; t.lim == nil || t.limCfg != cfg { // computed once per instance object
		lim := model.InstanceLimits(cfg)
		t.lim, t.limCfg = &lim, cfg
	}
	return *t.lim
}

// get returns the current (staged or stored) object, or nil.
func (t *tx) get(kind, id string) proto.Message {
	if t.deleted[objKey{kind, id}] {
		return nil
	}
	if kind == model.KindInstance {
		if id == t.in().Name {
			return t.view().Def
		}
		return nil
	}
	return t.view().Get(kind, id)
}

// objects returns every current object of a kind (staged ones included),
// sorted by id.
func (t *tx) objects(kind string) []proto.Message { return t.view().Objects(kind) }

// read records that the change depends on a loaded object.
func (t *tx) read(kind, id string) { t.reads[objKey{kind, id}] = true }

// find resolves an id or unique name of a kind.
func (t *tx) find(kind, ref string) (proto.Message, error) {
	if ref == "" {
		return nil, fmt.Errorf("%s: no id or name given: %w", kind, errBadRequest)
	}
	if m := t.get(kind, ref); m != nil {
		return m, nil
	}
	switch ids := t.view().Named(kind, ref); len(ids) {
	case 0:
		return nil, fmt.Errorf("%s %s: %w", kind, model.Excerpt(ref), model.ErrNotFound)
	case 1:
		return t.get(kind, ids[0]), nil
	default:
		return nil, fmt.Errorf("%s %s names %d objects; use the id: %w", kind, model.Excerpt(ref), len(ids), model.ErrAmbiguous)
	}
}

// resolve rewrites references given by name into ids.
func (t *tx) resolve(m proto.Message) {
	for _, r := range model.Refs(m) {
		v := r.Get()
		if v == "" || t.get(r.Kind, v) != nil {
			continue
		}
		if r.Kind == model.KindResponse {
			for _, id := range t.view().ReferrerIDs(model.KindGroup, r.Group, model.KindResponse) {
				if g, ok := t.get(model.KindResponse, id).(*apigwv1.GatewayResponse); ok && g.Name == v {
					r.Set(g.Id)
				}
			}
			continue
		}
		if o, err := t.find(r.Kind, v); err == nil {
			r.Set(model.IDOf(o))
		}
	}
}

// stage validates an object on its own and records it for writing; field
// is its path in the request (for violations).
func (t *tx) stage(m proto.Message, field string) {
	model.Normalize(m)
	t.vs.Merge(field, model.Validate(m, t.limits()))
	k := keyOf(m)
	if _, ok := t.puts[k]; !ok {
		t.order = append(t.order, k)
	}
	delete(t.deleted, k)
	t.puts[k] = m
	t.fields[k] = field
	t.edit.Put(m)
}

// remove records a deletion.
func (t *tx) remove(kind, id string) {
	k := objKey{kind, id}
	if _, ok := t.puts[k]; ok {
		delete(t.puts, k)
		for i, o := range t.order {
			if o == k {
				t.order = append(t.order[:i], t.order[i+1:]...)
				break
			}
		}
	}
	t.deleted[k] = true
	t.edit.Delete(kind, id)
}

// stamp sets the create and update times of an object being written.
func (t *tx) stamp(m, old proto.Message) {
	now := timestamppb.New(t.s.now())
	meta := model.MetaOf(m)
	if old != nil && old.ProtoReflect().IsValid() && model.MetaOf(old).GetCreateTime() != nil {
		meta.CreateTime = model.MetaOf(old).GetCreateTime()
	} else {
		meta.CreateTime = now
	}
	meta.UpdateTime = now
}

// finish checks references, uniqueness and quotas of every staged object
// and that no deleted object is still referenced, all against the final
// view, and lists what the commit writes and is guarded on: the written
// keys, the loaded objects the staged ones reference, and the recorded
// reads. Nothing else of the instance is read or checked.
func (t *tx) finish() error {
	var puts []proto.Message
	for _, k := range t.order {
		puts = append(puts, t.puts[k])
	}
	var dels [][2]string
	for k := range t.deleted {
		if t.in().Get(k[0], k[1]) != nil || (k[0] == model.KindInstance && k[1] == t.in().Name) {
			dels = append(dels, [2]string(k))
		}
	}
	sort.Slice(dels, func(i, j int) bool { return dels[i][0]+"/"+dels[i][1] < dels[j][0]+"/"+dels[j][1] })
	t.final = t.edit.Done()
	for _, m := range puts {
		t.vs.Merge(t.fields[keyOf(m)], t.final.Check(m))
	}
	if err := t.vs.Err(); err != nil {
		return err
	}
	for _, d := range dels {
		if refs := t.final.Referrers(d[0], d[1]); len(refs) > 0 {
			return &inUseError{subject: d[0] + " " + d[1], referrers: refs}
		}
	}
	reads := map[objKey]bool{}
	for k := range t.reads {
		reads[k] = true
	}
	for _, m := range puts {
		t.change.Puts = append(t.change.Puts, m)
		for _, r := range model.Refs(m) {
			if v := r.Get(); v != "" {
				reads[objKey{r.Kind, v}] = true
			}
		}
	}
	for _, d := range dels {
		t.change.Deletes = append(t.change.Deletes, store.ObjectID{Kind: model.KindByName(d[0]), ID: d[1]})
	}
	for k := range reads {
		if _, written := t.puts[k]; written || t.deleted[k] || t.in().Get(k[0], k[1]) == nil {
			continue
		}
		t.change.Reads = append(t.change.Reads, store.ObjectID{Kind: model.KindByName(k[0]), ID: k[1]})
	}
	return nil
}

// stampVersions sets resource_version of the written objects.
func (t *tx) stampVersions(rev int64) {
	v := strconv.FormatInt(rev, 10)
	for _, m := range t.change.Puts {
		model.MetaOf(m).ResourceVersion = v
	}
}

// reserve sizes the staging of a transaction that will write about n
// objects (an apply), sparing the maps' growth.
func (t *tx) reserve(n int) {
	if len(t.puts) == 0 && n > 8 {
		t.puts, t.fields = make(map[objKey]proto.Message, n), make(map[objKey]string, n)
		t.order = make([]objKey, 0, n)
	}
}
