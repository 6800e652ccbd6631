package model

// Part names an index of an Instance that SamePart compares.
type Part uint8

// Indexes SamePart compares.
const (
	// PartServed is the current publication record of every release.
	PartServed Part = iota
	// PartThrottles is the throttling policy bound to every release.
	PartThrottles
	// PartACLs are the ACL policies bound to every release.
	PartACLs
	// PartHolds are the APIs, releases and apps held closed because an
	// object they need cannot be read.
	PartHolds
)

// SameObjects reports whether two views of an instance hold the very same
// objects of a kind (the built-in ones included). It compares identities
// in O(1): true means nothing of the kind differs between them; false
// means something may (an edit that rewrote an object unchanged is
// reported as a difference).
func (in *Instance) SameObjects(other *Instance, kind string) bool {
	a, b := in.objs[kind], other.objs[kind]
	if a.root != b.root || a.n != b.n {
		return false
	}
	switch kind {
	case KindGroup:
		return in.builtinGroup == other.builtinGroup
	case KindEnvironment:
		return in.builtin == other.builtin
	}
	return true
}

// SamePart is SameObjects for an index derived from the objects.
func (in *Instance) SamePart(other *Instance, p Part) bool {
	switch p {
	case PartServed:
		return samePmap(in.served, other.served)
	case PartThrottles:
		return samePmap(in.throttleOf, other.throttleOf)
	case PartACLs:
		return samePmap(in.aclsOf, other.aclsOf)
	case PartHolds:
		a, b := in.holds, other.holds
		return a.all == b.all && samePmap(a.apis, b.apis) && samePmap(a.rels, b.rels) && samePmap(a.apps, b.apps)
	}
	return false
}

func samePmap[V any](a, b pmap[V]) bool { return a.root == b.root && a.n == b.n }
