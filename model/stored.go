package model

import (
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// StoredProblem is an object read from the store that breaks a rule
// involving other objects: it shares a natural key with an object written
// before it (two environments named TEST), or it references an object that
// does not exist. The admin API refuses such writes; these come from writes
// around it (etcdctl), so they are found when the store is read.
type StoredProblem struct {
	Kind, ID string
	// Reason lists the broken rules by field path.
	Reason string
	// Dropped says the object is left out of the view: it lost a
	// uniqueness conflict to an object written before it.
	Dropped bool
	// Previous says an earlier version of the object, which broke no
	// uniqueness rule, is served in its place.
	Previous bool
}

// BuildStored builds the view of an instance from objects read from the
// store, enforcing the rules that involve several objects:
//
//   - natural keys (names, domains, routes, bindings) are unique: of the
//     objects sharing one, the one written first (lowest ModRevision, from
//     meta.resource_version) stays, the others are reported and left out,
//     or replaced by the earlier version prev returns when that one does not
//     conflict;
//   - references resolve and point at objects of the right type: an object
//     breaking this is reported but stays, so that the data plane can apply
//     its own rules (it fails closed on a missing policy).
//
// Quotas are not enforced on read. prev may be nil.
func BuildStored(name string, objs []proto.Message, placeholders []Placeholder, prev func(kind, id string) proto.Message) (*Instance, []StoredProblem) {
	in := NewInstanceWith(name, objs, placeholders)
	var problems []StoredProblem
	if losers := in.uniquenessLosers(); len(losers) > 0 {
		keep, subs := dropLosers(objs, losers, prev)
		in = NewInstanceWith(name, keep, placeholders)
		// A replacement may still conflict, or take a key back from a
		// later object; whatever loses now is left out.
		again := in.uniquenessLosers()
		if len(again) > 0 {
			keep, _ = dropLosers(keep, again, nil)
			in = NewInstanceWith(name, keep, placeholders)
		}
		for k, vs := range losers {
			p := StoredProblem{Kind: k[0], ID: k[1], Reason: vs.Err().Error(), Dropped: true}
			if subs[k] {
				_, lostAgain := again[k]
				p.Dropped, p.Previous = lostAgain, !lostAgain
			}
			problems = append(problems, p)
		}
		for k, vs := range again {
			if _, reported := losers[k]; !reported {
				problems = append(problems, StoredProblem{Kind: k[0], ID: k[1], Reason: vs.Err().Error(), Dropped: true})
			}
		}
	}
	for kind, objs := range in.objs {
		objs.each(func(id string, o proto.Message) bool {
			if reason := in.refProblem(o); reason != "" {
				problems = append(problems, StoredProblem{Kind: kind, ID: id, Reason: reason})
			}
			return true
		})
	}
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].Kind != problems[j].Kind {
			return problems[i].Kind < problems[j].Kind
		}
		return problems[i].ID < problems[j].ID
	})
	return in, problems
}

// uniquenessLosers returns, for every natural key several objects share,
// the objects other than the first written, with the violations.
func (in *Instance) uniquenessLosers() map[[2]string]Violations {
	type owner struct {
		kind, id string
		rev      int64
		key      uniqueKey
	}
	byKey := map[string][]owner{}
	for kind, objs := range in.objs {
		objs.each(func(id string, o proto.Message) bool {
			for _, k := range in.uniqueKeys(o) {
				byKey[k.key] = append(byKey[k.key], owner{kind: kind, id: id, key: k})
			}
			return true
		})
	}
	losers := map[[2]string]Violations{}
	for _, owners := range byKey {
		if len(owners) < 2 {
			continue
		}
		for i := range owners {
			owners[i].rev = revisionOf(in.Get(owners[i].kind, owners[i].id))
		}
		sort.Slice(owners, func(i, j int) bool {
			a, b := owners[i], owners[j]
			if a.rev != b.rev {
				return a.rev < b.rev
			}
			if a.kind != b.kind {
				return a.kind < b.kind
			}
			return a.id < b.id
		})
		first := owners[0]
		for _, o := range owners[1:] {
			if o.kind == first.kind && o.id == first.id {
				continue // one object listing a key twice is a rule of its own
			}
			k := [2]string{o.kind, o.id}
			vs := losers[k]
			vs.Add(o.key.field, "%s is already used by %s %s, written before", o.key.what, first.kind, first.id)
			losers[k] = vs
		}
	}
	for _, vs := range losers {
		sortViolations(vs)
	}
	return losers
}

// sortViolations orders the violations of a uniqueness loser by field,
// so that its report does not depend on the order keys were visited in.
func sortViolations(vs Violations) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Field != vs[j].Field {
			return vs[i].Field < vs[j].Field
		}
		return vs[i].Description < vs[j].Description
	})
}

// dropLosers returns objs without the losers, each replaced by its earlier
// version from prev when there is one; subs marks the replaced ones.
func dropLosers(objs []proto.Message, losers map[[2]string]Violations, prev func(kind, id string) proto.Message) ([]proto.Message, map[[2]string]bool) {
	keep := make([]proto.Message, 0, len(objs))
	subs := map[[2]string]bool{}
	for _, o := range objs {
		k := KindOf(o)
		if k == nil {
			continue
		}
		key := [2]string{k.Name, IDOf(o)}
		if _, lost := losers[key]; !lost {
			keep = append(keep, o)
			continue
		}
		if prev == nil {
			continue
		}
		if p := prev(key[0], key[1]); p != nil && revisionOf(p) != revisionOf(o) {
			keep = append(keep, p)
			subs[key] = true
		}
	}
	return keep, subs
}

// refProblem says which references of an object of the view resolve to
// nothing or to an object of the wrong type ("" when none). Retained
// publication records that are not current are not checked: they may name
// objects deleted since.
func (in *Instance) refProblem(o proto.Message) string {
	if p, ok := o.(*apigwv1.Publication); ok && in.Served(p.ApiId, p.EnvId) != p {
		return ""
	}
	var vs Violations
	c := newChecker(&vs, "")
	in.checkRefs(c, o)
	in.checkKinds(c, o)
	if len(vs) == 0 {
		return ""
	}
	return vs.Err().Error()
}

// checkRefs reports references of m that resolve to nothing.
func (in *Instance) checkRefs(c checker, m proto.Message) {
	for _, r := range Refs(m) {
		v := r.Get()
		if v == "" || r.Optional {
			continue
		}
		if r.Kind == KindResponse {
			if v != DefaultResponse && in.ResponseSet(r.Group, v) == nil {
				c.add(r.Field, "names no gateway-response set of the API's group (%q)", v)
			}
			continue
		}
		if in.Get(r.Kind, v) == nil {
			c.add(r.Field, "%s %q does not exist", r.Kind, v)
		}
	}
}

// String describes a problem for logs.
func (p StoredProblem) String() string {
	return fmt.Sprintf("%s %s: %s", p.Kind, p.ID, p.Reason)
}

// revisionOf is the ModRevision a stored object was read at.
func revisionOf(m proto.Message) int64 {
	var rv string
	if v, ok := m.(interface{ GetMeta() *apigwv1.Meta }); ok {
		rv = v.GetMeta().GetResourceVersion()
	}
	n, _ := strconv.ParseInt(rv, 10, 64)
	return n
}
