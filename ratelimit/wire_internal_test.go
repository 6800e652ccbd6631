package ratelimit

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// wireSeeds are requests of every shape the decoder must read.
func wireSeeds() []*rlsv3.RateLimitRequest {
	e := func(kv ...string) *ratelimitv3.RateLimitDescriptor {
		d := &ratelimitv3.RateLimitDescriptor{}
		for i := 0; i+1 < len(kv); i += 2 {
			d.Entries = append(d.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: kv[i], Value: kv[i+1]})
		}
		return d
	}
	hit := e("instance", "default", "api_id", "a", "env_id", "e", "dim", "app", "app_id", "x")
	hit.HitsAddend = wrapperspb.UInt64(7)
	neg := e("instance", "default", "api_id", "a", "env_id", "e", "dim", "api")
	neg.IsNegativeHits = true
	over := e("k", "v")
	over.Limit = &ratelimitv3.RateLimitDescriptor_RateLimitOverride{RequestsPerUnit: 3, UnitMultiplier: wrapperspb.UInt32(2)}
	zero := e("dim", "api")
	zero.HitsAddend = wrapperspb.UInt64(0)
	return []*rlsv3.RateLimitRequest{
		{},
		{Domain: "apigw"},
		{Domain: "apigw", HitsAddend: 3, Descriptors: []*ratelimitv3.RateLimitDescriptor{hit, neg, over, zero, e(), e("", ""), e("ünï", "cödé")}},
		{Domain: "bench", Descriptors: []*ratelimitv3.RateLimitDescriptor{e("app", "app-1")}},
	}
}

// view returns what the service reads of a request.
func view(v *callView) any {
	type d struct {
		Entries       []string
		Hits          uint64
		Has, Negative bool
	}
	out := []any{v.domain, v.hits}
	for _, dv := range v.descs {
		x := d{Hits: dv.hits, Has: dv.hasHits, Negative: dv.negative}
		for _, e := range v.entries[dv.first : dv.first+dv.n] {
			x.Entries = append(x.Entries, e.Key, e.Value)
		}
		out = append(out, x)
	}
	return out
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var msg rlsv3.RateLimitRequest
	errMsg := proto.Unmarshal(b, &msg)
	w := newWireRequest()
	errWire := proto.Unmarshal(b, w)
	if (errMsg == nil) != (errWire == nil) {
		t.Fatalf("%x: proto.Unmarshal: %v, wire: %v", b, errMsg, errWire)
	}
	if errMsg != nil {
		return
	}
	var want callView
	want.fromProto(&msg)
	if got, exp := view(&w.view), view(&want); !reflect.DeepEqual(got, exp) {
		t.Fatalf("%x: wire read %v, the message says %v", b, got, exp)
	}
}

// The wire decoder reads what proto.Unmarshal reads, and refuses what it
// refuses: the seeds, and random mutations of them (bytes changed,
// truncated, duplicated fields).
func TestWireDecodesAsProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, req := range wireSeeds() {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, b)
		checkDecode(t, append(slices.Clone(b), b...)) // every field twice
		for range 3000 {
			m := slices.Clone(b)
			switch rng.IntN(3) {
			case 0:
				if len(m) > 0 {
					m[rng.IntN(len(m))] = byte(rng.IntN(256))
				}
			case 1:
				if len(m) > 0 {
					m = m[:rng.IntN(len(m))]
				}
			default:
				if len(m) > 0 {
					i := rng.IntN(len(m))
					m = slices.Insert(m, i, byte(rng.IntN(256)), byte(rng.IntN(256)))
				}
			}
			checkDecode(t, m)
		}
	}
}

func FuzzWireDecode(f *testing.F) {
	for _, req := range wireSeeds() {
		b, _ := proto.Marshal(req)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}
