package translate_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

func instance(t testing.TB, groups, perGroup int) *model.Instance {
	t.Helper()
	in, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(groups, perGroup))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func equalResources(t *testing.T, got, want *translate.Resources) {
	t.Helper()
	pairs := []struct {
		kind string
		n, m int
		eq   func(i int) bool
	}{
		{"listeners", len(got.Listeners), len(want.Listeners), func(i int) bool { return proto.Equal(got.Listeners[i], want.Listeners[i]) }},
		{"routes", len(got.Routes), len(want.Routes), func(i int) bool { return proto.Equal(got.Routes[i], want.Routes[i]) }},
		{"scopes", len(got.Scopes), len(want.Scopes), func(i int) bool { return proto.Equal(got.Scopes[i], want.Scopes[i]) }},
		{"clusters", len(got.Clusters), len(want.Clusters), func(i int) bool { return proto.Equal(got.Clusters[i], want.Clusters[i]) }},
		{"endpoints", len(got.Endpoints), len(want.Endpoints), func(i int) bool { return proto.Equal(got.Endpoints[i], want.Endpoints[i]) }},
		{"secrets", len(got.Secrets), len(want.Secrets), func(i int) bool { return proto.Equal(got.Secrets[i], want.Secrets[i]) }},
	}
	for _, p := range pairs {
		if p.n != p.m {
			t.Errorf("%s: %d, want %d", p.kind, p.n, p.m)
			continue
		}
		for i := range p.n {
			if !p.eq(i) {
				t.Errorf("%s[%d] differs from a fresh translation", p.kind, i)
			}
		}
	}
}

// TestBuilderIncremental checks that a Builder's results equal a fresh
// Build after each change, and that a change to one API leaves the other
// groups' resources untouched (the same messages, nothing re-translated).
func TestBuilderIncremental(t *testing.T) {
	for _, mode := range []string{translate.RoutingScoped, translate.RoutingSingle} {
		t.Run(mode, func(t *testing.T) { testIncremental(t, translate.Options{HTTPRouting: mode}) })
	}
}

// vhosts returns the HTTP virtual hosts in group order.
func vhosts(r *translate.Resources) []*routev3.VirtualHost {
	var out []*routev3.VirtualHost
	for _, rc := range r.Routes {
		out = append(out, rc.VirtualHosts...)
	}
	return out
}

func testIncremental(t *testing.T, opts translate.Options) {
	in := instance(t, 3, 6)
	b := translate.NewBuilder(opts)
	first, err := b.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	wantRCs := 3
	if opts.HTTPRouting == translate.RoutingSingle {
		wantRCs = 1
	}
	if len(first.Routes) != wantRCs || len(vhosts(first)) != 3 {
		t.Fatalf("%d route configurations with %d virtual hosts, want %d with 3", len(first.Routes), len(vhosts(first)), wantRCs)
	}
	// The store rebuilds the instance view on every change, with a fresh
	// built-in RELEASE environment: nothing may be re-translated.
	again, err := b.Build(rebuild(in))
	if err != nil {
		t.Fatal(err)
	}
	if a, f := vhosts(again), vhosts(first); a[0] != f[0] || a[1] != f[1] || a[2] != f[2] || again.Listeners[0] != first.Listeners[0] {
		t.Error("an unchanged instance rebuilt by the model was re-translated")
	}
	next, err := xdstest.Change(in, "g001", 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(next)
	if err != nil {
		t.Fatal(err)
	}
	want, err := translate.Build(next, opts)
	if err != nil {
		t.Fatal(err)
	}
	equalResources(t, got, want)
	vh0, vh1 := vhosts(first), vhosts(got)
	if vh0[0] != vh1[0] || vh0[2] != vh1[2] {
		t.Error("virtual hosts of unchanged groups were rebuilt")
	}
	if vh0[1] == vh1[1] || proto.Equal(vh0[1], vh1[1]) {
		t.Error("the changed group's virtual host did not change")
	}
	if wantRCs == 3 && (first.Routes[0] != got.Routes[0] || first.Routes[2] != got.Routes[2]) {
		t.Error("route configurations of unchanged groups were rebuilt")
	}
	if first.Listeners[0] != got.Listeners[0] {
		t.Error("listeners were rebuilt although no group, certificate or response set changed")
	}
	same := 0
	for i := range first.Clusters {
		if first.Clusters[i] == got.Clusters[i] {
			same++
		}
	}
	if same != len(got.Clusters) {
		t.Errorf("%d of %d clusters reused, want all", same, len(got.Clusters))
	}

	// Unpublishing removes the API's routes.
	gone := next.With(nil, [][2]string{{model.KindRelease, model.ReleaseID("g001-a0002", model.ReleaseEnvID)}})
	got, err = b.Build(gone)
	if err != nil {
		t.Fatal(err)
	}
	want, _ = translate.Build(gone, opts)
	equalResources(t, got, want)
	for _, r := range vhosts(got)[1].Routes {
		if r.Name == "api.g001-a0002.RELEASE" {
			t.Error("unpublished API is still routed")
		}
	}
}

// rebuild returns a new view of an instance from its stored objects, as
// the store does after every change (built-in objects are new).
func rebuild(in *model.Instance) *model.Instance {
	var objs []proto.Message
	for _, k := range model.Kinds() {
		if k.Name == model.KindInstance {
			continue
		}
		for _, o := range in.Objects(k.Name) {
			if !in.Stored(k.Name, model.IDOf(o)) {
				continue // built-in RELEASE and DEFAULT group
			}
			objs = append(objs, o)
		}
	}
	return model.NewInstance(in.Name, objs)
}

func BenchmarkBuild(b *testing.B) {
	for _, size := range []struct {
		name             string
		groups, perGroup int
	}{{"small_10", 1, 10}, {"medium_1k", 10, 100}, {"large_10k", 100, 100}} {
		in := instance(b, size.groups, size.perGroup)
		b.Run(size.name+"/full", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := translate.Build(in, translate.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/one_change", func(b *testing.B) {
			bl := translate.NewBuilder(translate.Options{})
			if _, err := bl.Build(in); err != nil {
				b.Fatal(err)
			}
			versions := make([]*model.Instance, 2)
			for i := range versions {
				v, err := xdstest.Change(in, "g000", 1, i+1)
				if err != nil {
					b.Fatal(err)
				}
				versions[i] = v
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := bl.Build(versions[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
