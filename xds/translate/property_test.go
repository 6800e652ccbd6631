package translate

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// TestIncrementalEqualsFresh is the property that makes a Builder safe:
// whatever changes between two versions of an instance, a Builder that
// translated the first gives for the second exactly what a fresh
// translation gives (every resource proto-equal, the same problems, the
// same error). Instances are random mixes of the golden inputs and
// testdata/property/pool.yaml; each step changes one object of a kind, for
// every kind of model.Kinds() in random order: an edit (fields copied from
// another object of the kind, or set at random), a deletion, an addition,
// the object becoming unreadable (a placeholder) or readable again, or an
// equal copy; the store's rebuild of the view (fresh built-in objects) is
// mixed in. The test also checks that the mutations matter: every kind the
// translator reads changed the translation at least once.
func TestIncrementalEqualsFresh(t *testing.T) {
	pool := loadPool(t)
	seeds := 30
	if testing.Short() {
		seeds = 10
	}
	changed := map[string]int{}
	sinceFailure := 0
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		opts := Options{HTTPRouting: []string{RoutingAuto, RoutingScoped, RoutingSingle}[r.IntN(3)],
			ExtAuthzTLS: r.IntN(2) == 0, RateLimitTLS: r.IntN(2) == 0}
		in := pool.randomInstance(r)
		b := NewBuilder(opts)
		prev := compareBuilds(t, fmt.Sprintf("seed %d: initial", seed), b, in, opts)
		for round := range 2 {
			kinds := slices.Clone(model.Kinds())
			r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
			for _, k := range kinds {
				next, what := pool.mutate(r, in, k.Name)
				if r.IntN(3) == 0 {
					next = rebuildView(next)
				}
				step := fmt.Sprintf("seed %d round %d: %s %s", seed, round, k.Name, what)
				cur := compareBuilds(t, step, b, next, opts)
				if t.Failed() {
					if sinceFailure++; sinceFailure == 10 {
						t.Fatal("stopping 10 steps after the first failure")
					}
				}
				if !sameBuild(prev, cur) {
					changed[k.Name]++
				}
				in, prev = next, cur
			}
		}
	}
	// Kinds the translator does not read: ext_authz reads app
	// authorizations and orchestration rules, and environment variables are
	// resolved when an API is published (the publication record holds the
	// result).
	unread := map[string]bool{model.KindAppAuth: true, model.KindEnvVariable: true, model.KindOrchestration: true}
	for _, k := range model.Kinds() {
		if testing.Short() {
			break
		}
		if !unread[k.Name] && changed[k.Name] == 0 {
			t.Errorf("no mutation of kind %s changed the translation: the test does not exercise it", k.Name)
		}
	}
	t.Logf("mutations that changed the translation, by kind: %v", changed)
}

// build is the outcome of one translation.
type build struct {
	res *Resources
	err error
}

// compareBuilds translates in with the Builder and from scratch and fails
// the test when they differ; it returns the fresh translation.
func compareBuilds(t *testing.T, step string, b *Builder, in *model.Instance, opts Options) build {
	t.Helper()
	got, gerr := b.Build(in)
	want, werr := Build(in, opts)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Errorf("%s: incremental error %v, fresh error %v", step, gerr, werr)
		return build{want, werr}
	}
	if werr != nil {
		return build{want, werr}
	}
	if d := diffResources(got, want); d != "" {
		t.Errorf("%s: the incremental translation differs from a fresh one: %s", step, d)
	}
	return build{want, werr}
}

func sameBuild(a, b build) bool {
	if (a.err == nil) != (b.err == nil) {
		return false
	}
	if a.err != nil {
		return a.err.Error() == b.err.Error()
	}
	return diffResources(a.res, b.res) == ""
}

// diffResources describes the first difference between two translations
// ("" when they are equal).
func diffResources(got, want *Resources) string {
	lists := []struct {
		kind      string
		got, want []proto.Message
	}{
		{"listeners", asMessages(got.Listeners), asMessages(want.Listeners)},
		{"routes", asMessages(got.Routes), asMessages(want.Routes)},
		{"scopes", asMessages(got.Scopes), asMessages(want.Scopes)},
		{"clusters", asMessages(got.Clusters), asMessages(want.Clusters)},
		{"endpoints", asMessages(got.Endpoints), asMessages(want.Endpoints)},
		{"secrets", asMessages(got.Secrets), asMessages(want.Secrets)},
		{"single-routing listeners", asMessages(got.SingleListeners), asMessages(want.SingleListeners)},
		{"single-routing routes", asMessages(got.SingleRoutes), asMessages(want.SingleRoutes)},
	}
	for _, l := range lists {
		if len(l.got) != len(l.want) {
			return fmt.Sprintf("%d %s, want %d", len(l.got), l.kind, len(l.want))
		}
		for i := range l.got {
			if !proto.Equal(l.got[i], l.want[i]) {
				return fmt.Sprintf("%s[%d] (%s) differs", l.kind, i, nameOf(l.want[i]))
			}
		}
	}
	if !reflect.DeepEqual(got.Problems, want.Problems) {
		return fmt.Sprintf("problems %+v, want %+v", got.Problems, want.Problems)
	}
	return ""
}

func nameOf(m proto.Message) string {
	r := m.ProtoReflect()
	for _, f := range []protoreflect.Name{"name", "cluster_name"} {
		if fd := r.Descriptor().Fields().ByName(f); fd != nil {
			return r.Get(fd).String()
		}
	}
	return ""
}

// objectPool holds the objects of every kind the test draws from.
type objectPool struct {
	cases  []*model.Instance
	byKind map[string][]proto.Message
}

// loadPool loads the golden inputs and the property pool.
func loadPool(t *testing.T) *objectPool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	files = append(files, filepath.Join("testdata", "property", "pool.yaml"))
	p := &objectPool{byKind: map[string][]proto.Message{}}
	for _, f := range files {
		in := loadInstance(t, f)
		p.cases = append(p.cases, in)
		for _, o := range allObjects(in) {
			k := model.KindOf(o).Name
			p.byKind[k] = append(p.byKind[k], o)
		}
	}
	return p
}

// allObjects lists an instance's objects, its definition included.
func allObjects(in *model.Instance) []proto.Message {
	objs := []proto.Message{in.Def}
	for _, k := range model.Kinds() {
		if k.Name != model.KindInstance {
			objs = append(objs, in.Objects(k.Name)...)
		}
	}
	return objs
}

// randomInstance merges a golden input, maybe another one and maybe the
// pool (later objects replace earlier ones of the same kind and id), and
// leaves out a few objects, so that references dangle.
func (p *objectPool) randomInstance(r *rand.Rand) *model.Instance {
	golden := p.cases[:len(p.cases)-1]
	cases := []*model.Instance{golden[r.IntN(len(golden))]}
	if r.IntN(2) == 0 {
		cases = append(cases, golden[r.IntN(len(golden))])
	}
	if r.IntN(2) == 0 {
		cases = append(cases, p.cases[len(p.cases)-1])
	}
	var objs []proto.Message
	for _, c := range cases {
		for _, o := range allObjects(c) {
			if _, isDef := o.(*apigwv1.Instance); isDef || r.IntN(15) > 0 {
				objs = append(objs, o)
			}
		}
	}
	return model.NewInstance(model.DefaultInstance, objs)
}

// rebuildView builds the view again from the stored objects, as the store
// does after every change: the built-in RELEASE environment and the
// effective configuration are new objects with equal values.
func rebuildView(in *model.Instance) *model.Instance {
	builtin := &apigwv1.Environment{Id: model.ReleaseEnvID, Name: model.ReleaseEnvName, Remark: "Built-in default environment"}
	var objs []proto.Message
	for _, o := range allObjects(in) {
		if proto.Equal(o, builtin) {
			continue
		}
		objs = append(objs, o)
	}
	return model.NewInstanceWith(in.Name, objs, in.Placeholders())
}

// mutate changes one object of a kind and says how.
func (p *objectPool) mutate(r *rand.Rand, in *model.Instance, kind string) (*model.Instance, string) {
	have := in.Objects(kind)
	if kind == model.KindInstance {
		have = []proto.Message{in.Def}
	}
	// Objects something refers to are changed more often than the others,
	// which only matter to the translation through lists.
	used := func(objs []proto.Message) []proto.Message {
		var out []proto.Message
		for _, o := range objs {
			if len(in.Referrers(kind, model.IDOf(o))) > 0 {
				out = append(out, o)
			}
		}
		if len(out) == 0 || r.IntN(4) == 0 {
			return objs
		}
		return out
	}
	pick := func() proto.Message {
		l := used(have)
		return l[r.IntN(len(l))]
	}
	for range 20 {
		switch op := r.IntN(8); {
		case op <= 2 && len(have) > 0: // edit
			o := proto.Clone(pick())
			donors := append(slices.Clone(p.byKind[kind]), have...)
			for range 1 + r.IntN(3) {
				editFields(r, o.ProtoReflect(), donors, 0)
			}
			next := in.With([]proto.Message{o}, nil)
			what := "edit " + model.IDOf(o)
			if api, ok := o.(*apigwv1.Api); ok && r.IntN(4) > 0 {
				next = republish(next, api.Id)
				what += " and republish"
			}
			return next, what
		case op == 3 && len(have) > 0: // delete
			o := pick()
			return in.With(nil, [][2]string{{kind, model.IDOf(o)}}), "delete " + model.IDOf(o)
		case op == 4: // add an object of another input, or publish
			if kind == model.KindPublication || kind == model.KindRelease {
				apis, envs := in.Objects(model.KindAPI), in.Objects(model.KindEnvironment)
				if len(apis) == 0 {
					continue
				}
				api, env := model.IDOf(apis[r.IntN(len(apis))]), model.IDOf(envs[r.IntN(len(envs))])
				next, ok := publish(in, api, env, r.IntN(1000))
				if !ok {
					continue
				}
				return next, "publish " + api + " to " + env
			}
			donors := used(p.byKind[kind])
			if len(donors) == 0 {
				continue
			}
			o := donors[r.IntN(len(donors))]
			if kind != model.KindInstance && in.Get(kind, model.IDOf(o)) == o {
				continue
			}
			return in.With([]proto.Message{o}, nil), "add " + model.IDOf(o)
		case op == 5 && len(have) > 0: // unreadable
			o := pick()
			ph := model.Placeholder{Kind: kind, ID: model.IDOf(o), Reason: "bad value"}
			switch b := o.(type) {
			case *apigwv1.ThrottleBinding:
				ph.APIID, ph.EnvID = b.ApiId, b.EnvId
			case *apigwv1.AclBinding:
				ph.APIID = b.ApiId
				if r.IntN(2) == 0 {
					ph.EnvID = b.EnvId
				}
			}
			var objs []proto.Message
			for _, x := range allObjects(in) {
				if x != o {
					objs = append(objs, x)
				}
			}
			return model.NewInstanceWith(in.Name, objs, append(in.Placeholders(), ph)), "make unreadable " + ph.ID
		case op == 6: // readable again
			var phs []model.Placeholder
			var back *model.Placeholder
			for _, ph := range in.Placeholders() {
				if ph.Kind == kind && back == nil {
					back = &ph
					continue
				}
				phs = append(phs, ph)
			}
			if back == nil {
				continue
			}
			objs := allObjects(in)
			for _, o := range p.byKind[kind] {
				if model.IDOf(o) == back.ID {
					objs = append(objs, o)
					break
				}
			}
			return model.NewInstanceWith(in.Name, objs, phs), "make readable " + back.ID
		case op == 7 && len(have) > 0: // an equal copy
			o := proto.Clone(pick())
			return in.With([]proto.Message{o}, nil), "copy " + model.IDOf(o)
		}
	}
	return in, "nothing"
}

// republish publishes an API's draft again wherever it is served.
func republish(in *model.Instance, apiID string) *model.Instance {
	for _, env := range in.Objects(model.KindEnvironment) {
		if in.Served(apiID, model.IDOf(env)) == nil {
			continue
		}
		if next, ok := publish(in, apiID, model.IDOf(env), 0); ok {
			in = next
		}
	}
	return in
}

// publish makes a publication record of an API for an environment and
// points the release at it.
func publish(in *model.Instance, apiID, envID string, n int) (*model.Instance, bool) {
	id := fmt.Sprintf("pub-%s-%s-%d-%d", apiID, envID, n, in.Count(model.KindPublication))
	pub, err := in.Publication(apiID, envID, id, "v", "", testTime)
	if err != nil {
		return nil, false
	}
	return in.With([]proto.Message{pub, &apigwv1.Release{ApiId: apiID, EnvId: envID, PublicationId: id}}, nil), true
}

// editFields changes one field of m (not its identity), mostly one in
// which a donor of the same type differs: copied from the donor, set to a
// random value, or, for a message field both hold, edited in turn.
func editFields(r *rand.Rand, m protoreflect.Message, donors []proto.Message, depth int) {
	d := proto.Clone(donors[r.IntN(len(donors))]).ProtoReflect()
	var fields []protoreflect.FieldDescriptor
	all := m.Descriptor().Fields()
	for i := range all.Len() {
		f := all.Get(i)
		if depth == 0 && isIdentity(m.Interface(), f.Name()) || f.Name() == "meta" {
			continue
		}
		if r.IntN(4) == 0 || !valueEqual(f, m, d) {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return
	}
	f := fields[r.IntN(len(fields))]
	if f.Message() != nil && !f.IsList() && !f.IsMap() && m.Has(f) && d.Has(f) && depth < 3 && r.IntN(2) == 0 {
		editFields(r, m.Mutable(f).Message(), []proto.Message{d.Get(f).Message().Interface()}, depth+1)
		return
	}
	if r.IntN(4) == 0 && f.Cardinality() != protoreflect.Repeated {
		if v, ok := randomScalar(r, f); ok {
			m.Set(f, v)
			return
		}
	}
	if d.Has(f) {
		m.Set(f, d.Get(f))
	} else {
		m.Clear(f)
	}
}

// valueEqual reports whether two messages hold the same value in a field.
func valueEqual(f protoreflect.FieldDescriptor, a, b protoreflect.Message) bool {
	ca, cb := a.Type().New(), b.Type().New()
	if a.Has(f) {
		ca.Set(f, a.Get(f))
	}
	if b.Has(f) {
		cb.Set(f, b.Get(f))
	}
	return proto.Equal(ca.Interface(), cb.Interface())
}

func isIdentity(m proto.Message, f protoreflect.Name) bool {
	switch m.(type) {
	case *apigwv1.Instance:
		return f == "name"
	case *apigwv1.Release:
		return f == "api_id" || f == "env_id"
	}
	return f == "id"
}

var randomStrings = []string{"", "x", "GET", "POST", "ANY", "HTTP", "HTTPS", "BOTH", "/", "/a/{id}", "/p/{rest+}", "10.0.0.7:81", "svc.internal", "a1", "g1", "g2", "c1", "auth1", "ch1", "t1", "default", model.ReleaseEnvID, "env-test"}

func randomScalar(r *rand.Rand, f protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	ints := []int64{0, 1, 2, 3, 5, 100, 1000, -1}
	switch f.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(ints[r.IntN(len(ints))])), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(ints[r.IntN(len(ints))]), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(ints[r.IntN(len(ints)-1)])), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(ints[r.IntN(len(ints)-1)])), true
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randomStrings[r.IntN(len(randomStrings))]), true
	case protoreflect.EnumKind:
		vs := f.Enum().Values()
		return protoreflect.ValueOfEnum(vs.Get(r.IntN(vs.Len())).Number()), true
	}
	return protoreflect.Value{}, false
}
