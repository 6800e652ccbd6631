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
	byName    ids // name → ids
	byNatural ids // natural key → ids
}

// ids maps keys to object ids; most keys have one, kept without a slice.
type ids struct {
	one  map[string]string
	more map[string][]string // keys with several ids (one holds the first)
}

func newIDs() ids { return ids{one: map[string]string{}, more: map[string][]string{}} }

func (x ids) add(key, id string) {
	first, ok := x.one[key]
	switch {
	case !ok:
		x.one[key] = id
	case len(x.more[key]) == 0:
		x.more[key] = []string{first, id}
	default:
		x.more[key] = append(x.more[key], id)
	}
}

func (x ids) drop(key, id string) {
	more := slices.DeleteFunc(x.more[key], func(s string) bool { return s == id })
	switch {
	case len(more) > 1:
		x.more[key], x.one[key] = more, more[0]
	case len(more) == 1:
		delete(x.more, key)
		x.one[key] = more[0]
	case x.one[key] == id:
		delete(x.more, key)
		delete(x.one, key)
	}
}

func (x ids) get(key string) []string {
	if more := x.more[key]; len(more) > 0 {
		return more
	}
	if id, ok := x.one[key]; ok {
		return []string{id}
	}
	return nil
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
	ix := &kindIndex{byName: newIDs(), byNatural: newIDs()}
	for _, m := range t.objects(kind) {
		ix.add(m)
	}
	t.ix[kind] = ix
	return ix
}

func (ix *kindIndex) add(m proto.Message) {
	id := model.IDOf(m)
	if n := model.NameOf(m); n != "" {
		ix.byName.add(n, id)
	}
	if k := naturalKey(m); k != "" {
		ix.byNatural.add(k, id)
	}
}

func (ix *kindIndex) drop(m proto.Message) {
	id := model.IDOf(m)
	ix.byName.drop(model.NameOf(m), id)
	ix.byNatural.drop(naturalKey(m), id)
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
	for _, id := range t.index(kind).byName.get(name) {
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
	for _, id := range t.index(kind).byNatural.get(key) {
		if o := t.get(kind, id); o != nil {
			return o
		}
	}
	return nil
}

// reserve sizes the staging of a transaction that will write about n
// objects (an apply), sparing the maps' growth.
func (t *tx) reserve(n int) {
	if len(t.puts) == 0 && n > 8 {
		t.puts, t.fields = make(map[objKey]proto.Message, n), make(map[objKey]string, n)
		t.order = make([]objKey, 0, n)
	}
}
