package admin

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
)

// kindIndex finds the current objects of one kind (stored, minus deleted,
// plus staged) by name and by natural key, so that each document of a
// large apply is matched in constant time rather than by a scan of the
// instance.
type kindIndex struct {
	byName    map[string][]string // name → ids
	byNatural map[string][]string // natural key → ids
}

// index returns the index of a kind, building it on first use; stage and
// remove keep built indexes current.
func (t *tx) index(kind string) *kindIndex {
	if ix := t.ix[kind]; ix != nil {
		return ix
	}
	if t.ix == nil {
		t.ix = map[string]*kindIndex{}
	}
	ix := &kindIndex{byName: map[string][]string{}, byNatural: map[string][]string{}}
	for _, m := range t.objects(kind) {
		ix.add(m)
	}
	t.ix[kind] = ix
	return ix
}

func (ix *kindIndex) add(m proto.Message) {
	id := model.IDOf(m)
	if n := model.NameOf(m); n != "" {
		ix.byName[n] = append(ix.byName[n], id)
	}
	if k := naturalKey(m); k != "" {
		ix.byNatural[k] = append(ix.byNatural[k], id)
	}
}

func (ix *kindIndex) drop(m proto.Message) {
	id := model.IDOf(m)
	del := func(idx map[string][]string, key string) {
		ids := slices.DeleteFunc(idx[key], func(s string) bool { return s == id })
		if len(ids) == 0 {
			delete(idx, key)
		} else {
			idx[key] = ids
		}
	}
	del(ix.byName, model.NameOf(m))
	del(ix.byNatural, naturalKey(m))
}

// indexPut records that m replaces the current object of its kind and id.
func (t *tx) indexPut(m proto.Message) {
	k := keyOf(m)
	ix := t.ix[k[0]]
	if ix == nil {
		return
	}
	if old := t.get(k[0], k[1]); old != nil {
		ix.drop(old)
	}
	ix.add(m)
}

// indexRemove records that the object of kind and id is deleted.
func (t *tx) indexRemove(kind, id string) {
	if ix := t.ix[kind]; ix != nil {
		if old := t.get(kind, id); old != nil {
			ix.drop(old)
		}
	}
}

// named returns the current objects of a kind with that name.
func (t *tx) named(kind, name string) []proto.Message {
	var out []proto.Message
	for _, id := range t.index(kind).byName[name] {
		if m := t.get(kind, id); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// byNaturalKey returns the first current object of m's kind with m's
// natural key, or nil.
func (t *tx) byNaturalKey(m proto.Message) proto.Message {
	key := naturalKey(m)
	if key == "" {
		return nil
	}
	kind := model.KindOf(m).Name
	for _, id := range t.index(kind).byNatural[key] {
		if o := t.get(kind, id); o != nil {
			return o
		}
	}
	return nil
}
