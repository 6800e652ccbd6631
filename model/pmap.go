package model

import (
	"math/bits"
	"slices"
)

// pmap is a persistent hash map from strings to V (a hash array mapped
// trie): an update makes a new version that shares every unchanged node
// with the old one, in O(log n). Versions are immutable once published.
// Updates made under an edit token may change the nodes created under
// that same token in place, so a batch of updates allocates each path
// once; nodes of earlier versions are never changed.
type pmap[V any] struct {
	root *pnode[V]
	n    int
}

// editToken marks the nodes an edit session may change in place. It has a
// field so that every token has its own address.
type editToken struct{ _ byte }

type pnode[V any] struct {
	owner  *editToken
	bitmap uint32
	// slots are the occupied positions in bitmap order; below the last
	// level (shift ≥ 64) they are a plain list of colliding keys.
	slots []pslot[V]
}

// pslot is a subtree (child != nil) or one entry.
type pslot[V any] struct {
	child *pnode[V]
	hash  uint64
	key   string
	val   V
}

const pmapBits = 5

func pmapHash(s string) uint64 { // FNV-1a
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Len returns the number of entries.
func (m pmap[V]) Len() int { return m.n }

// Get returns the value of key.
func (m pmap[V]) Get(key string) (V, bool) { return m.getH(pmapHash(key), key) }

func (m pmap[V]) getH(h uint64, key string) (V, bool) {
	var zero V
	n := m.root
	for shift := uint(0); n != nil; shift += pmapBits {
		if shift >= 64 {
			for i := range n.slots {
				if n.slots[i].key == key {
					return n.slots[i].val, true
				}
			}
			return zero, false
		}
		bit := uint32(1) << ((h >> shift) & 31)
		if n.bitmap&bit == 0 {
			return zero, false
		}
		s := &n.slots[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.child == nil {
			if s.key == key {
				return s.val, true
			}
			return zero, false
		}
		n = s.child
	}
	return zero, false
}

// Value returns the value of key, or the zero value.
func (m pmap[V]) Value(key string) V {
	v, _ := m.Get(key)
	return v
}

// set stores key's value, in place for nodes owned by tok.
func (m *pmap[V]) set(tok *editToken, key string, val V) { m.setH(tok, pmapHash(key), key, val) }

func (m *pmap[V]) setH(tok *editToken, h uint64, key string, val V) {
	if m.root == nil {
		m.root = &pnode[V]{owner: tok}
	}
	var added bool
	m.root, added = m.root.set(tok, h, 0, key, val)
	if added {
		m.n++
	}
}

// del removes key, in place for nodes owned by tok.
func (m *pmap[V]) del(tok *editToken, key string) { m.delH(tok, pmapHash(key), key) }

func (m *pmap[V]) delH(tok *editToken, h uint64, key string) {
	if m.root == nil {
		return
	}
	var removed bool
	m.root, removed = m.root.del(tok, h, 0, key)
	if removed {
		m.n--
		if m.n == 0 {
			m.root = nil
		}
	}
}

// each calls fn for every entry, in no particular order, until it returns
// false.
func (m pmap[V]) each(fn func(key string, val V) bool) {
	if m.root != nil {
		m.root.each(fn)
	}
}

func (n *pnode[V]) each(fn func(string, V) bool) bool {
	for i := range n.slots {
		s := &n.slots[i]
		if s.child != nil {
			if !s.child.each(fn) {
				return false
			}
		} else if !fn(s.key, s.val) {
			return false
		}
	}
	return true
}

// editable returns n itself when tok owns it, else a copy owned by tok.
func (n *pnode[V]) editable(tok *editToken) *pnode[V] {
	if tok != nil && n.owner == tok {
		return n
	}
	return &pnode[V]{owner: tok, bitmap: n.bitmap, slots: exact(n.slots)}
}

func exact[V any](slots []pslot[V]) []pslot[V] {
	out := make([]pslot[V], len(slots))
	copy(out, slots)
	return out
}

func (n *pnode[V]) set(tok *editToken, h uint64, shift uint, key string, val V) (*pnode[V], bool) {
	if shift >= 64 {
		for i := range n.slots {
			if n.slots[i].key == key {
				e := n.editable(tok)
				e.slots[i].val = val
				return e, false
			}
		}
		e := n.editable(tok)
		e.slots = insertSlot(e.slots, len(e.slots), pslot[V]{hash: h, key: key, val: val}, tok != nil)
		return e, true
	}
	bit := uint32(1) << ((h >> shift) & 31)
	idx := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		e := n.editable(tok)
		e.slots = insertSlot(e.slots, idx, pslot[V]{hash: h, key: key, val: val}, tok != nil)
		e.bitmap |= bit
		return e, true
	}
	s := n.slots[idx]
	switch {
	case s.child != nil:
		c, added := s.child.set(tok, h, shift+pmapBits, key, val)
		e := n.editable(tok)
		e.slots[idx].child = c
		return e, added
	case s.key == key:
		e := n.editable(tok)
		e.slots[idx].val = val
		return e, false
	}
	// Two keys share this position: push both one level down.
	c := &pnode[V]{owner: tok}
	c, _ = c.set(tok, s.hash, shift+pmapBits, s.key, s.val)
	c, _ = c.set(tok, h, shift+pmapBits, key, val)
	e := n.editable(tok)
	e.slots[idx] = pslot[V]{child: c}
	return e, true
}

func (n *pnode[V]) del(tok *editToken, h uint64, shift uint, key string) (*pnode[V], bool) {
	if shift >= 64 {
		for i := range n.slots {
			if n.slots[i].key == key {
				e := n.editable(tok)
				e.slots = slices.Delete(e.slots, i, i+1)
				return e, true
			}
		}
		return n, false
	}
	bit := uint32(1) << ((h >> shift) & 31)
	if n.bitmap&bit == 0 {
		return n, false
	}
	idx := bits.OnesCount32(n.bitmap & (bit - 1))
	s := n.slots[idx]
	if s.child == nil {
		if s.key != key {
			return n, false
		}
		e := n.editable(tok)
		e.slots = slices.Delete(e.slots, idx, idx+1)
		e.bitmap &^= bit
		return e, true
	}
	c, removed := s.child.del(tok, h, shift+pmapBits, key)
	if !removed {
		return n, false
	}
	e := n.editable(tok)
	switch {
	case len(c.slots) == 0:
		e.slots = slices.Delete(e.slots, idx, idx+1)
		e.bitmap &^= bit
	case len(c.slots) == 1 && c.slots[0].child == nil:
		e.slots[idx] = c.slots[0] // a lone entry moves up
	default:
		e.slots[idx].child = c
	}
	return e, true
}

// insertSlot inserts s at i. A node of an edit session grows with spare
// room (many inserts go to the same nodes); trim takes it back when the
// session ends, for nodes are many and mostly small.
func insertSlot[V any](slots []pslot[V], i int, s pslot[V], spare bool) []pslot[V] {
	if len(slots) == cap(slots) {
		n := len(slots) + 1
		if spare {
			n = min(max(4, 2*len(slots)), 1<<pmapBits)
			n = max(n, len(slots)+1)
		}
		grown := make([]pslot[V], len(slots)+1, n)
		copy(grown, slots[:i])
		copy(grown[i+1:], slots[i:])
		grown[i] = s
		return grown
	}
	slots = slots[:len(slots)+1]
	copy(slots[i+1:], slots[i:])
	slots[i] = s
	return slots
}

// trim drops the spare room of the nodes tok owns (those of one edit
// session: O(change)), applying val to their values when it is set.
func (m *pmap[V]) trim(tok *editToken, val func(V) V) {
	if m.root != nil && tok != nil {
		m.root.trim(tok, val)
	}
}

func (n *pnode[V]) trim(tok *editToken, val func(V) V) {
	if n.owner != tok {
		return
	}
	if cap(n.slots) > len(n.slots) {
		n.slots = exact(n.slots)
	}
	for i := range n.slots {
		if s := &n.slots[i]; s.child != nil {
			s.child.trim(tok, val)
		} else if val != nil {
			s.val = val(s.val)
		}
	}
}
