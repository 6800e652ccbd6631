package admin

import (
	"slices"
	"testing"
)

func TestIDsKeepEveryIDOfAKey(t *testing.T) {
	x := newIDs()
	x.add("k", "a")
	x.add("k", "b")
	x.add("k", "c")
	x.add("j", "z")
	if got := x.get("k"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("k: %v", got)
	}
	x.drop("k", "a")
	if got := x.get("k"); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("k after dropping a: %v", got)
	}
	x.drop("k", "c")
	if got := x.get("k"); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("k after dropping c: %v", got)
	}
	x.drop("k", "nope")
	x.drop("k", "b")
	if got := x.get("k"); got != nil {
		t.Fatalf("k after dropping all: %v", got)
	}
	if got := x.get("j"); !slices.Equal(got, []string{"z"}) {
		t.Fatalf("j: %v", got)
	}
}
