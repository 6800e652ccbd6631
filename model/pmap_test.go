package model

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

func contents(m pmap[int]) map[string]int {
	out := map[string]int{}
	m.each(func(k string, v int) bool { out[k] = v; return true })
	return out
}

// Random updates agree with a Go map, and every earlier version keeps its
// contents whatever is done to later ones (with or without edit tokens).
func TestPmapMatchesAMapAndVersionsStayImmutable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type version struct {
		m    pmap[int]
		want map[string]int
	}
	var versions []version
	var m pmap[int]
	want := map[string]int{}
	for round := range 200 {
		var tok *editToken
		if round%3 != 0 {
			tok = &editToken{} // a batch: in place for its own nodes
		}
		for range r.IntN(60) + 1 {
			k := fmt.Sprintf("k%d", r.IntN(400))
			if r.IntN(3) == 0 {
				m.del(tok, k)
				delete(want, k)
			} else {
				v := r.Int()
				m.set(tok, k, v)
				want[k] = v
			}
		}
		if m.Len() != len(want) {
			t.Fatalf("round %d: Len %d, want %d", round, m.Len(), len(want))
		}
		for k, v := range want {
			if got, ok := m.Get(k); !ok || got != v {
				t.Fatalf("round %d: Get(%s) = %d %v, want %d", round, k, got, ok, v)
			}
		}
		if _, ok := m.Get("absent"); ok {
			t.Fatal("absent key found")
		}
		versions = append(versions, version{m, maps.Clone(want)})
	}
	for i, v := range versions {
		if got := contents(v.m); !maps.Equal(got, v.want) || v.m.Len() != len(v.want) {
			t.Fatalf("version %d changed after later edits", i)
		}
	}
}

// Keys whose 64-bit hashes collide are kept apart at the last level.
func TestPmapCollidingHashes(t *testing.T) {
	var m pmap[int]
	tok := &editToken{}
	const h = 0xdeadbeefcafef00d
	for i := range 5 {
		m.setH(tok, h, fmt.Sprint(i), i)
	}
	m.setH(nil, h^1, "other", 9)
	old := m
	m.delH(nil, h, "2")
	m.setH(nil, h, "3", 33)
	for i, want := range []int{0, 1, -1, 33, 4} {
		got, ok := m.getH(h, fmt.Sprint(i))
		if want < 0 && ok || want >= 0 && got != want {
			t.Errorf("key %d: %d %v, want %d", i, got, ok, want)
		}
	}
	if got, _ := old.getH(h, "3"); got != 3 || old.Len() != 6 || m.Len() != 5 {
		t.Errorf("old version changed or wrong sizes: %d %d %d", got, old.Len(), m.Len())
	}
	for i := range 5 {
		m.delH(nil, h, fmt.Sprint(i))
	}
	if v, ok := m.getH(h^1, "other"); !ok || v != 9 || m.Len() != 1 {
		t.Errorf("after deleting the colliding keys: %d %v, len %d", v, ok, m.Len())
	}
}
