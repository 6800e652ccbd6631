package admin

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type objKey [2]string // kind, id

func keyOf(m proto.Message) objKey { return objKey{model.KindOf(m).Name, model.IDOf(m)} }

// tx stages the changes of one admin operation over the instance as loaded.
type tx struct {
	s        *Server
	base     *store.Loaded
	puts     map[objKey]proto.Message
	order    []objKey
	fields   map[objKey]string // field prefix of each staged object in the request
	deleted  map[objKey]bool
	vs       model.Violations
	change   store.Change
	view     *model.Instance // final view, set by finish
	revision int64
	reveal   map[string]bool       // secret values created by this call
	ix       map[string]*kindIndex // by kind, built on first use (txindex.go)
	lim      *model.Limits         // limits of limDef
	limDef   *apigwv1.Instance
}

func newTx(s *Server, base *store.Loaded) *tx {
	return &tx{s: s, base: base, puts: map[objKey]proto.Message{}, fields: map[objKey]string{}, deleted: map[objKey]bool{}, reveal: map[string]bool{}}
}

// in is the instance as loaded.
func (t *tx) in() *model.Instance { return t.base.Instance }

// limits are the instance's limits (a staged instance object wins).
func (t *tx) limits() model.Limits {
	def := t.in().Def
	if m, ok := t.puts[objKey{model.KindInstance, t.in().Name}]; ok {
		def = m.(*apigwv1.Instance)
	}
	if t.limDef != def || t.lim == nil { // computed once per instance object
		lim := model.InstanceLimits(model.EffectiveConfig(def))
		t.lim, t.limDef = &lim, def
	}
	return *t.lim
}

// get returns the current (staged or stored) object, or nil.
func (t *tx) get(kind, id string) proto.Message {
	k := objKey{kind, id}
	if t.deleted[k] {
		return nil
	}
	if m, ok := t.puts[k]; ok {
		return m
	}
	if kind == model.KindInstance && id == t.in().Name {
		return t.in().Def
	}
	return t.in().Get(kind, id)
}

// objects returns every current object of a kind (staged ones included).
func (t *tx) objects(kind string) []proto.Message {
	var out []proto.Message
	for _, m := range t.in().Objects(kind) {
		k := keyOf(m)
		if !t.deleted[k] && t.puts[k] == nil {
			out = append(out, m)
		}
	}
	for _, k := range t.order {
		if k[0] == kind && !t.deleted[k] {
			out = append(out, t.puts[k])
		}
	}
	return out
}

// find resolves an id or unique name of a kind.
func (t *tx) find(kind, ref string) (proto.Message, error) {
	if ref == "" {
		return nil, fmt.Errorf("%s: no id or name given: %w", kind, errBadRequest)
	}
	if m := t.get(kind, ref); m != nil {
		return m, nil
	}
	hits := t.named(kind, ref)
	switch len(hits) {
	case 0:
		return nil, fmt.Errorf("%s %s: %w", kind, model.Excerpt(ref), model.ErrNotFound)
	case 1:
		return hits[0], nil
	}
	return nil, fmt.Errorf("%s %s names %d objects; use the id: %w", kind, model.Excerpt(ref), len(hits), model.ErrAmbiguous)
}

// resolve rewrites references given by name into ids.
func (t *tx) resolve(m proto.Message) {
	for _, r := range model.Refs(m) {
		v := r.Get()
		if v == "" || t.get(r.Kind, v) != nil {
			continue
		}
		if r.Kind == model.KindResponse {
			if o := t.byNaturalKey(&apigwv1.GatewayResponse{GroupId: r.Group, Name: v}); o != nil {
				r.Set(model.IDOf(o))
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
	t.indexPut(m)
	if _, ok := t.puts[k]; !ok {
		t.order = append(t.order, k)
	}
	delete(t.deleted, k)
	t.puts[k] = m
	t.fields[k] = field
}

// remove records a deletion.
func (t *tx) remove(kind, id string) {
	t.indexRemove(kind, id)
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

// finish builds the final view, checks references, uniqueness and quotas of
// every staged object and that no deleted object is still referenced.
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
	t.view = t.in().With(puts, dels)
	for _, m := range puts {
		t.vs.Merge(t.fields[keyOf(m)], t.view.Check(m))
	}
	if err := t.vs.Err(); err != nil {
		return err
	}
	for _, d := range dels {
		if refs := t.view.Referrers(d[0], d[1]); len(refs) > 0 {
			return &inUseError{subject: d[0] + " " + d[1], referrers: refs}
		}
	}
	t.change.Puts = append(t.change.Puts, puts...)
	for _, d := range dels {
		t.change.Deletes = append(t.change.Deletes, store.ObjectID{Kind: model.KindByName(d[0]), ID: d[1]})
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
