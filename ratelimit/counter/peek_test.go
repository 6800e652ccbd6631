package counter

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// testPeek: at every step Peek answers what the next Take then does (over
// or not, the count), and never changes a count.
func testPeek(t *testing.T, c Counter) {
	p, ok := c.(Peeker)
	if !ok {
		t.Fatalf("%T does not implement Peeker", c)
	}
	rnd := rand.New(rand.NewPCG(7, 9))
	items := []Item{item("{t}peek-a", 5, Sliding(time.Second, 4)), item("{t}peek-b", 3, Fixed(time.Second, 0)), item("{t}peek-a", 5, Sliding(time.Second, 4))}
	now := at(0)
	for step := range 60 {
		now = now.Add(time.Duration(rnd.IntN(120)) * time.Millisecond)
		peek := make([]Result, len(items))
		for range 2 { // a second Peek sees the same: the first counted nothing
			if err := p.Peek(context.Background(), now, items, peek); err != nil {
				t.Fatalf("Peek: %v", err)
			}
		}
		got := take(t, c, now, items...)
		for i := range items {
			if peek[i].Over != got[i].Over || peek[i].Count != got[i].Count {
				t.Fatalf("step %d item %d: Peek %+v, Take %+v", step, i, peek[i], got[i])
			}
		}
	}
	// An unknown counter peeks as empty: the call's own hit is all it
	// would count, however often it is peeked.
	out := make([]Result, 1)
	none := []Item{item("{t}peek-none", 1, Fixed(time.Minute, 0))}
	for range 2 {
		if err := p.Peek(context.Background(), now, none, out); err != nil || out[0].Over || out[0].Count != 1 {
			t.Fatalf("unknown counter: %+v, %v", out[0], err)
		}
	}
}
