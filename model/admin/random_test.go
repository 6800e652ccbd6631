package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// TestRandomAdminSequencesKeepTheStoreConsistent runs long random sequences
// of admin operations, valid and invalid, against one server (embedded etcd,
// real gRPC, the panic-recovering interceptors apigw installs). No call may
// panic or fail with anything but a client error, and after every batch the
// stored state must be consistent: every object valid, every reference of a
// live object resolvable, natural keys unique, every release pointing at a
// record of its API and environment, at most 10 records per API and
// environment, and the watched view equal to etcd. APIGW_RANDOM_SEED
// replays a run; APIGW_RANDOM_OPS sets its length.
func TestRandomAdminSequencesKeepTheStoreConsistent(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("APIGW_RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	ops := 2000
	if testing.Short() {
		ops = 300
	}
	if s := os.Getenv("APIGW_RANDOM_OPS"); s != "" {
		ops, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (APIGW_RANDOM_SEED=%d replays this run), %d operations", seed, seed, ops)

	_, cli := storetest.Etcd(t, "")
	st := storetest.Store(t, cli)
	feed := storetest.Watch(t, st)
	reg := prometheus.NewRegistry()
	rec := recovery.New(slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	c := admintest.Serve(t, admin.New(st, feed, live.NewStatus(), storetest.Logger()), rec.ServerOptions("admin")...)
	ctx, cancelCtx := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelCtx()

	r := &randomOps{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), c: c}
	counts := map[string]map[codes.Code]int{}
	for i := range ops {
		name, err := r.step(ctx)
		code := status.Code(err)
		if counts[name] == nil {
			counts[name] = map[codes.Code]int{}
		}
		counts[name][code]++
		if os.Getenv("APIGW_RANDOM_VERBOSE") != "" {
			t.Logf("%d %s: %v", i, name, err)
		}
		switch code {
		case codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition:
		default:
			t.Fatalf("operation %d (%s) failed with %v", i, name, err)
		}
		if (i+1)%100 == 0 || i == ops-1 {
			checkConsistent(t, ctx, cli, feed)
		}
	}
	if n := panicsCounted(t, reg); n != 0 {
		t.Fatalf("%v panics recovered", n)
	}
	ok := 0
	for _, byCode := range counts {
		ok += byCode[codes.OK]
	}
	if ok < ops/8 || counts["publish"][codes.OK] == 0 {
		t.Fatalf("only %d of %d operations succeeded: the sequence barely changes the store (%v)", ok, ops, counts)
	}
	t.Logf("results by operation: %v", counts)
}

// randomOps draws admin calls over small pools of names, so that
// operations often hit the same objects (conflicts, references, deletions
// of referenced objects) and sometimes use invalid input.
type randomOps struct {
	rng *rand.Rand
	c   adminv1.AdminServiceClient
}

var (
	rndGroups   = []string{"pets", "store"}
	rndEnvs     = []string{"TEST", "PROD", "DEV_1"}
	rndAPIs     = []string{"list_pets", "get_pet", "add_pet", "inventory", "orders"}
	rndPaths    = []string{"/pets", "/store", "/pets/{id}", "/store/orders/{order}", "/pets/new"}
	rndPolicies = []string{"basic_limit", "strict_limit", "office_only", "mobile_app"}
)

func (r *randomOps) pick(list []string) string { return list[r.rng.IntN(len(list))] }

// api draws an API name and its group (mostly the group it belongs to).
func (r *randomOps) api() (name, group string) {
	i := r.rng.IntN(len(rndAPIs))
	group = rndGroups[i%len(rndGroups)]
	if r.rng.IntN(10) == 0 {
		group = r.pick(rndGroups)
	}
	return rndAPIs[i], group
}

// maybeBad returns v, or sometimes an invalid value.
func (r *randomOps) maybeBad(v string) string {
	switch r.rng.IntN(30) {
	case 0:
		return ""
	case 1:
		return "x"
	case 2:
		return "default/apis"
	}
	return v
}

func (r *randomOps) env() string {
	if r.rng.IntN(2) == 0 {
		return "" // RELEASE
	}
	return r.maybeBad(r.pick(rndEnvs))
}

func (r *randomOps) resource() proto.Message {
	switch r.rng.IntN(10) {
	case 0:
		return &apigwv1.ApiGroup{Name: r.maybeBad(r.pick(rndGroups)), Remark: strconv.Itoa(r.rng.IntN(3))}
	case 1:
		return &apigwv1.Environment{Name: r.maybeBad(r.pick(rndEnvs))}
	case 2, 8:
		return &apigwv1.EnvVariable{GroupId: r.pick(rndGroups), EnvId: r.pick(append(rndEnvs, "RELEASE")), VariableName: "backend", VariableValue: r.maybeBad(fmt.Sprintf("10.0.0.%d:8080", r.rng.IntN(3)+1))}
	case 3, 4, 9:
		name, group := r.api()
		a := petsAPI(group)
		a.Name = r.maybeBad(name)
		a.ReqUri = rndPaths[slices.Index(rndAPIs, name)]
		if r.rng.IntN(8) == 0 {
			a.ReqUri = r.pick(rndPaths) // may clash with another API's route
		}
		a.BackendApi.ReqUri = "/v1" + a.ReqUri
		a.BackendApi.Timeout = int32(1000 + r.rng.IntN(3))
		if r.rng.IntN(8) == 0 {
			a.BackendApi.Timeout = 70000 // out of range
		}
		if r.rng.IntN(5) == 0 {
			a.AuthType, a.AuthorizerId = "AUTHORIZER", "gatekeeper"
		}
		return a
	case 5:
		return &apigwv1.Throttle{Name: r.maybeBad(r.pick(rndPolicies[:2])), ApiCallLimits: int32(r.rng.IntN(100)), TimeInterval: 1, TimeUnit: "MINUTE"}
	case 6:
		return &apigwv1.Acl{AclName: r.maybeBad("office_only"), AclType: "PERMIT", EntityType: "IP", AclValue: r.pick([]string{"10.0.0.0/8", "192.168.1.1", "not-an-ip"})}
	default:
		if r.rng.IntN(2) == 0 {
			return &apigwv1.Authorizer{Name: "gatekeeper", Type: "FRONTEND", AuthorizerType: "FUNC", AuthorizerUri: "http://127.0.0.1:9/auth", Timeout: 1000}
		}
		return &apigwv1.App{Name: r.maybeBad("mobile_app")}
	}
}

// step performs one random operation and returns its name and error.
func (r *randomOps) step(ctx context.Context) (string, error) {
	inst := ""
	if r.rng.IntN(40) == 0 {
		inst = r.pick([]string{"default/apis", "Bad_Instance", "other"})
	}
	switch r.rng.IntN(14) {
	case 0, 1:
		_, err := r.c.Create(ctx, &adminv1.CreateRequest{Instance: inst, Resource: model.Wrap(r.resource())})
		return "create", err
	case 2:
		m := r.resource()
		if model.NameOf(m) == "" {
			return "update", nil
		}
		_, err := r.c.Update(ctx, &adminv1.UpdateRequest{Instance: inst, Resource: model.Wrap(m)})
		return "update", err
	case 3, 4:
		req := &adminv1.ApplyRequest{Instance: inst, DryRun: r.rng.IntN(6) == 0}
		for range r.rng.IntN(3) + 1 {
			req.Resources = append(req.Resources, model.Wrap(r.resource()))
		}
		if r.rng.IntN(3) == 0 {
			req.Deletes = append(req.Deletes, &adminv1.ObjectRef{Kind: model.KindAPI, Id: r.pick(rndAPIs)})
		}
		_, err := r.c.Apply(ctx, req)
		return "apply", err
	case 5, 6:
		api, group := r.api()
		_, err := r.c.Publish(ctx, &adminv1.PublishRequest{Instance: inst, ApiId: r.maybeBad(api), Group: group, EnvId: r.env()})
		return "publish", err
	case 7, 13:
		api, group := r.api()
		_, err := r.c.Unpublish(ctx, &adminv1.UnpublishRequest{Instance: inst, ApiId: api, Group: group, EnvId: r.env()})
		return "unpublish", err
	case 8, 9:
		api, group := r.api()
		env := r.env()
		id := "no-such-record"
		if l, err := r.c.ListPublications(ctx, &adminv1.ListPublicationsRequest{ApiId: api, Group: group, EnvId: env}); err == nil && len(l.Publications) > 0 {
			id = l.Publications[r.rng.IntN(len(l.Publications))].Id
		}
		_, err := r.c.Rollback(ctx, &adminv1.RollbackRequest{Instance: inst, ApiId: api, Group: group, EnvId: env, PublicationId: id})
		return "rollback", err
	case 10:
		kind := r.pick([]string{model.KindThrottle, model.KindACL, model.KindApp, "bogus"})
		policy := map[string]string{model.KindThrottle: r.pick(rndPolicies[:2]), model.KindACL: "office_only", model.KindApp: "mobile_app"}[kind]
		apis := []string{r.pick(rndAPIs)}
		if r.rng.IntN(2) == 0 {
			_, err := r.c.Bind(ctx, &adminv1.BindRequest{Instance: inst, PolicyKind: kind, PolicyId: policy, EnvId: r.env(), ApiIds: apis})
			return "bind", err
		}
		_, err := r.c.Unbind(ctx, &adminv1.UnbindRequest{Instance: inst, PolicyKind: kind, PolicyId: policy, EnvId: r.env(), ApiIds: apis})
		return "unbind", err
	default:
		kind := r.pick([]string{model.KindGroup, model.KindEnvironment, model.KindAPI, model.KindThrottle, model.KindACL, model.KindApp, model.KindAuthorizer})
		id := map[string]string{model.KindGroup: r.pick(rndGroups), model.KindEnvironment: r.pick(rndEnvs), model.KindAPI: r.pick(rndAPIs),
			model.KindThrottle: r.pick(rndPolicies[:2]), model.KindACL: "office_only", model.KindApp: "mobile_app", model.KindAuthorizer: "gatekeeper"}[kind]
		_, err := r.c.Delete(ctx, &adminv1.DeleteRequest{Instance: inst, Kind: kind, Id: r.maybeBad(id)})
		return "delete", err
	}
}

// checkConsistent reads every instance straight from etcd and checks its
// invariants, then that the watched view caught up with the same state.
func checkConsistent(t *testing.T, ctx context.Context, cli *clientv3.Client, feed *live.Feed) {
	t.Helper()
	resp, err := cli.Get(ctx, store.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	instances := map[string]bool{model.DefaultInstance: true}
	for _, kv := range resp.Kvs {
		if pk, ok := store.ParseKey(string(kv.Key)); ok {
			instances[pk.Instance] = true
		}
	}
	direct := storetest.Store(t, cli) // no watch: Load reads etcd
	for name := range instances {
		l, err := direct.Load(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Invalid) > 0 {
			t.Fatalf("instance %q: invalid objects stored: %+v", name, l.Invalid)
		}
		in := l.Instance
		records := map[string]int{}
		for _, k := range model.Kinds() {
			for _, o := range in.Objects(k.Name) {
				p, isPub := o.(*apigwv1.Publication)
				if isPub {
					records[model.ReleaseID(p.ApiId, p.EnvId)]++
					if in.Served(p.ApiId, p.EnvId) != p {
						continue // retained records may name objects deleted since
					}
				}
				if vs := in.Check(o); len(vs) > 0 {
					t.Fatalf("instance %q: %s %s breaks cross-object rules: %v", name, k.Name, model.IDOf(o), vs)
				}
			}
		}
		for _, rel := range model.List[*apigwv1.Release](in, model.KindRelease) {
			if in.Served(rel.ApiId, rel.EnvId) == nil {
				t.Fatalf("instance %q: release %s names record %s, which is not one of its API and environment", name, model.IDOf(rel), rel.PublicationId)
			}
		}
		for k, n := range records {
			if n > 10 {
				t.Fatalf("instance %q: %d records for %s", name, n, k)
			}
		}
		watched := waitForRevision(t, ctx, feed, l.Revision).Instance(name)
		if watched == nil {
			watched = model.NewInstance(name, nil)
		}
		for _, k := range model.Kinds() {
			a, b := in.Objects(k.Name), watched.Objects(k.Name)
			if len(a) != len(b) {
				t.Fatalf("instance %q: etcd holds %d %s objects, the watched view %d", name, len(a), k.Name, len(b))
			}
			for i := range a {
				if !proto.Equal(a[i], b[i]) {
					t.Fatalf("instance %q: %s differs between etcd and the watched view:\n%v\n%v", name, k.Name, a[i], b[i])
				}
			}
		}
	}
}

func waitForRevision(t *testing.T, ctx context.Context, feed *live.Feed, rev int64) *live.Snapshot {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for s := range feed.Subscribe(wctx) {
		if s.Revision >= rev {
			return s
		}
	}
	t.Fatalf("the watched view did not reach revision %d", rev)
	return nil
}

// panicsCounted sums apigw_grpc_panics_total.
func panicsCounted(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "apigw_grpc_panics_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
