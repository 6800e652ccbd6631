package model

import (
	"sort"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// StoredView keeps the view of an instance read from the store with the
// rules between objects enforced exactly as BuildStored does, updated one
// batch of changes at a time in O(change): a batch re-checks uniqueness
// only for the changed objects and the objects sharing a natural key with
// them (before or after the change), and references only for the objects
// whose served version changed and the objects referencing those. A
// StoredView is used by one goroutine.
//
// It holds three views sharing their structure (see Edit):
//   - raw: every readable object as stored, and the placeholders;
//   - kept: raw with the objects that lose a uniqueness conflict (first
//     pass) replaced by their earlier served version, or left out;
//   - view: kept without the objects that lose a conflict among the kept
//     versions (second pass): what is served.
//
// kept and view are derived from raw per batch by applying the losers
// (usually none, when they are raw itself).
type StoredView struct {
	raw, kept, view *Instance
	// lost1 are the first-pass losers; lost2 the second-pass ones.
	lost1 map[[2]string]lost
	lost2 map[[2]string]Violations
	// refs are the reference problems of the served objects.
	refs map[[2]string]string
	// recheck are first-pass losers served otherwise than they were
	// decided with: an earlier version that lost again is not served, so
	// it is no longer theirs to fall back on; a stored environment RELEASE
	// left out gives way to the built-in one, which becomes the version to
	// fall back on. The next batch decides them anew, as a full
	// BuildStored with the served versions would.
	recheck [][2]string
}

// lost is a first-pass loser: its violations, and the earlier version
// kept in its place (nil when it is left out).
type lost struct {
	vs  Violations
	sub proto.Message
}

// NewStoredView checks and builds the view of an instance from every
// object read from the store, like BuildStored (prev may be nil).
func NewStoredView(name string, objs []proto.Message, placeholders []Placeholder, prev func(kind, id string) proto.Message) *StoredView {
	empty := NewInstance(name, nil)
	sv := &StoredView{raw: empty, kept: empty, view: empty, lost1: map[[2]string]lost{}, lost2: map[[2]string]Violations{}, refs: map[[2]string]string{}}
	raw := NewInstanceWith(name, objs, placeholders)
	touched := map[[2]string]bool{}
	for kind, m := range raw.objs {
		m.each(func(id string, _ proto.Message) bool {
			touched[[2]string{kind, id}] = true
			return true
		})
	}
	if prev == nil {
		prev = func(string, string) proto.Message { return nil }
	}
	sv.update(raw, touched, prev)
	return sv
}

// View returns the served view.
func (sv *StoredView) View() *Instance { return sv.view }

// Served returns the version served of a stored object: its own, an
// earlier one, or nil when it is left out or not stored.
func (sv *StoredView) Served(kind, id string) proto.Message { return sv.snapshotServed()(kind, id) }

// snapshotServed returns Served as of now, unaffected by later updates.
func (sv *StoredView) snapshotServed() func(kind, id string) proto.Message {
	raw, view := sv.raw, sv.view
	return func(kind, id string) proto.Message {
		if !raw.Stored(kind, id) {
			return nil // the built-in environment RELEASE is not stored
		}
		return view.Get(kind, id)
	}
}

// Problems returns the problems of every object, sorted by kind and id.
func (sv *StoredView) Problems() []StoredProblem {
	keys := map[[2]string]bool{}
	for k := range sv.lost1 {
		keys[k] = true
	}
	for k := range sv.lost2 {
		keys[k] = true
	}
	for k := range sv.refs {
		keys[k] = true
	}
	sorted := make([][2]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return lessKey(sorted[i], sorted[j]) })
	var out []StoredProblem
	for _, k := range sorted {
		out = append(out, sv.ProblemsOf(k[0], k[1])...)
	}
	return out
}

// ProblemsOf returns the problems of one object: a broken uniqueness rule
// first, then broken references.
func (sv *StoredView) ProblemsOf(kind, id string) []StoredProblem {
	k := [2]string{kind, id}
	var out []StoredProblem
	if l, ok := sv.lost1[k]; ok {
		p := StoredProblem{Kind: kind, ID: id, Reason: l.vs.Err().Error(), Dropped: true}
		if l.sub != nil {
			_, again := sv.lost2[k]
			p.Dropped, p.Previous = again, !again
		}
		out = append(out, p)
	} else if vs, ok := sv.lost2[k]; ok {
		out = append(out, StoredProblem{Kind: kind, ID: id, Reason: vs.Err().Error(), Dropped: true})
	}
	if r, ok := sv.refs[k]; ok {
		out = append(out, StoredProblem{Kind: kind, ID: id, Reason: r})
	}
	return out
}

// StoredEdit is one batch of changes to a StoredView.
type StoredEdit struct {
	sv      *StoredView
	e       *Edit
	touched map[[2]string]bool
	deleted map[[2]string]bool
}

// Edit starts a batch.
func (sv *StoredView) Edit() *StoredEdit {
	return &StoredEdit{sv: sv, e: sv.raw.Edit(), touched: map[[2]string]bool{}, deleted: map[[2]string]bool{}}
}

// Put stores the readable version of an object.
func (b *StoredEdit) Put(m proto.Message) {
	if k := KindOf(m); k != nil {
		b.touched[[2]string{k.Name, IDOf(m)}] = true
	}
	b.e.Put(m)
}

// SetPlaceholder records an object that cannot be read.
func (b *StoredEdit) SetPlaceholder(p Placeholder) {
	b.touched[[2]string{p.Kind, p.ID}] = true
	b.e.SetPlaceholder(p)
}

// Delete removes an object. Its served version is not fallen back on if
// it is written again in the same batch.
func (b *StoredEdit) Delete(kind, id string) {
	k := [2]string{kind, id}
	b.touched[k], b.deleted[k] = true, true
	b.e.Delete(kind, id)
}

// Done applies the batch and returns the objects whose problems may have
// changed (see ProblemsOf).
func (b *StoredEdit) Done() [][2]string {
	sv := b.sv
	served := sv.snapshotServed()
	prev := func(kind, id string) proto.Message {
		if b.deleted[[2]string{kind, id}] {
			return nil
		}
		return served(kind, id)
	}
	return sv.update(b.e.Done(), b.touched, prev)
}

// update moves the view to raw, whose objects differ from the previous
// raw view at most in touched, and re-checks what that can affect. prev
// gives the earlier served version of an object.
func (sv *StoredView) update(raw *Instance, touched map[[2]string]bool, prev func(kind, id string) proto.Message) [][2]string {
	oldRaw, oldKept, oldView := sv.raw, sv.kept, sv.view
	for k := range touched {
		if k[0] == KindInstance {
			delete(touched, k) // the instance object has no natural key and no reference
		}
	}
	for _, k := range sv.recheck {
		touched[k] = true
	}
	sv.recheck = nil

	// First pass: uniqueness among the stored versions.
	a1 := coOwners(oldRaw, raw, touched)
	for k := range a1 {
		m := raw.Get(k[0], k[1])
		if m == nil {
			delete(sv.lost1, k)
			continue
		}
		vs := raw.lostKeys(k, m)
		if len(vs) == 0 {
			delete(sv.lost1, k)
			continue
		}
		l := lost{vs: vs}
		if p := prev(k[0], k[1]); p != nil && revisionOf(p) != revisionOf(m) {
			l.sub = p
		}
		sv.lost1[k] = l
	}
	kept := raw
	if len(sv.lost1) > 0 {
		e := raw.Edit()
		for k, l := range sv.lost1 {
			if l.sub != nil {
				e.Put(l.sub)
			} else {
				e.Delete(k[0], k[1])
			}
		}
		kept = e.Done()
	}

	// Second pass: uniqueness among the kept versions.
	a2 := coOwners(oldKept, kept, a1)
	for k := range a2 {
		m := kept.Get(k[0], k[1])
		if m == nil {
			delete(sv.lost2, k)
			continue
		}
		if vs := kept.lostKeys(k, m); len(vs) > 0 {
			sv.lost2[k] = vs
		} else {
			delete(sv.lost2, k)
		}
	}
	view := kept
	if len(sv.lost2) > 0 {
		e := kept.Edit()
		for k := range sv.lost2 {
			e.Delete(k[0], k[1])
		}
		view = e.Done()
	}

	// References of the objects whose served version changed, and of the
	// objects referencing those.
	checks := map[[2]string]bool{}
	for k := range a2 {
		was, now := oldView.Get(k[0], k[1]), view.Get(k[0], k[1])
		if was == now {
			continue
		}
		checks[k] = true
		if !sameTarget(was, now) {
			for _, key := range targetKeys(k, was, now) {
				for _, r := range view.referrers(key[0], key[1]) {
					checks[[2]string{r.Kind, r.ID}] = true
				}
			}
		}
		for _, o := range []proto.Message{was, now} {
			if r, ok := o.(*apigwv1.Release); ok { // which record is current
				checks[[2]string{KindPublication, r.PublicationId}] = true
			}
		}
	}
	for k := range checks {
		m := view.Get(k[0], k[1])
		if m == nil {
			delete(sv.refs, k)
			continue
		}
		if r := view.refProblem(m); r != "" {
			sv.refs[k] = r
		} else {
			delete(sv.refs, k)
		}
	}

	for k, l := range sv.lost1 {
		if view.Get(k[0], k[1]) != l.sub {
			sv.recheck = append(sv.recheck, k)
		}
	}
	sv.raw, sv.kept, sv.view = raw, kept, view
	changed := make([][2]string, 0, len(a2)+len(checks))
	for k := range a2 {
		changed = append(changed, k)
	}
	for k := range checks {
		if !a2[k] {
			changed = append(changed, k)
		}
	}
	return changed
}

// coOwners returns the objects in from, plus every object that shares a
// natural key with one of them in the view before (old) or after (cur):
// the objects whose uniqueness outcome the change of from can affect. The
// natural keys of ACL bindings depend on their ACL, so the bindings of an
// ACL in from count as changed too.
func coOwners(old, cur *Instance, from map[[2]string]bool) map[[2]string]bool {
	out := make(map[[2]string]bool, len(from))
	for k := range from {
		out[k] = true
		if k[0] == KindACL {
			for _, in := range []*Instance{old, cur} {
				for _, id := range in.ReferrerIDs(KindACL, k[1], KindACLBinding) {
					out[[2]string{KindACLBinding, id}] = true
				}
			}
		}
		if k[0] == KindPlugin {
			for _, in := range []*Instance{old, cur} {
				for _, id := range in.ReferrerIDs(KindPlugin, k[1], KindPluginBinding) {
					out[[2]string{KindPluginBinding, id}] = true
				}
			}
		}
	}
	keys := map[string]bool{}
	for k := range out {
		for _, in := range []*Instance{old, cur} {
			if m := in.Get(k[0], k[1]); m != nil {
				for _, uk := range in.uniqueKeys(m) {
					keys[uk.key] = true
				}
			}
		}
	}
	for key := range keys {
		for _, in := range []*Instance{old, cur} {
			for _, o := range in.uniq.Value(key) {
				out[o] = true
			}
		}
	}
	return out
}

// lostKeys returns the violations of object k (m in the view) for the
// natural keys it shares with an object written before it: of the owners
// of a key, the first written (lowest ModRevision, then kind and id) keeps
// it. It agrees with uniquenessLosers.
func (in *Instance) lostKeys(k [2]string, m proto.Message) Violations {
	var vs Violations
	for _, uk := range in.uniqueKeys(m) {
		owners := in.uniq.Value(uk.key)
		if len(owners) < 2 {
			continue
		}
		first, firstRev := owners[0], revisionOf(in.Get(owners[0][0], owners[0][1]))
		for _, o := range owners[1:] {
			if rev := revisionOf(in.Get(o[0], o[1])); rev < firstRev || rev == firstRev && lessKey(o, first) {
				first, firstRev = o, rev
			}
		}
		if first != k {
			vs.Add(uk.field, "%s is already used by %s %s, written before", uk.what, first[0], first[1])
		}
	}
	sortViolations(vs)
	return vs
}

func lessKey(a, b [2]string) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}

// sameTarget reports whether an object that changed still resolves every
// reference to it as before: it exists before and after, and what a check
// of a reference reads of it (an authorizer's type; a response set's name
// and group) is unchanged.
func sameTarget(was, now proto.Message) bool {
	if was == nil || now == nil {
		return false
	}
	switch w := was.(type) {
	case *apigwv1.Authorizer:
		return w.Type == now.(*apigwv1.Authorizer).Type
	case *apigwv1.GatewayResponse:
		n := now.(*apigwv1.GatewayResponse)
		return w.Name == n.Name && w.GroupId == n.GroupId
	}
	return true
}

// targetKeys returns the (kind, value) pairs references to an object are
// indexed under: its id, and for response sets, which are referenced by
// name too, its names before and after.
func targetKeys(k [2]string, was, now proto.Message) [][2]string {
	out := [][2]string{k}
	if k[0] == KindResponse {
		for _, o := range []proto.Message{was, now} {
			if r, ok := o.(*apigwv1.GatewayResponse); ok {
				out = append(out, [2]string{KindResponse, r.Name})
			}
		}
	}
	return out
}
