package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// interleave is a commit hook that runs the next scheduled action once,
// between a write's first load and its commit, and counts attempts.
type interleave struct {
	next     atomic.Pointer[func()]
	attempts atomic.Int32
}

func (il *interleave) hook(attempt int) {
	il.attempts.Add(1)
	if attempt == 0 {
		if f := il.next.Swap(nil); f != nil {
			(*f)()
		}
	}
}

// then schedules f and resets the attempt count.
func (il *interleave) then(f func()) {
	il.attempts.Store(0)
	il.next.Store(&f)
}

func objectKey(kind, id string) string {
	return store.ObjectKey(model.DefaultInstance, model.KindByName(kind), id)
}

// rawEdit sets one field of a stored object directly in etcd, as etcdctl
// would.
func rawEdit(t *testing.T, cli *clientv3.Client, key, field string, value any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v", key, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(resp.Kvs[0].Value, &obj); err != nil {
		t.Fatal(err)
	}
	obj[field] = value
	b, _ := json.Marshal(obj)
	if _, err := cli.Put(ctx, key, string(b)); err != nil {
		t.Fatal(err)
	}
}

// A raw etcd write racing an admin write forces a retry when it touches
// what the write writes or was computed from, and only then.
func TestRawEtcdWritesRacingAnAdminWrite(t *testing.T) {
	var il interleave
	e := setup(t, admin.WithBeforeCommit(il.hook))
	g := e.create(t, &apigwv1.ApiGroup{Name: "pets"}).(*apigwv1.ApiGroup)
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: model.ReleaseEnvID, VariableName: "backend", VariableValue: "10.0.0.1"})
	api := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	other := petsAPI("pets")
	other.Name, other.ReqUri, other.BackendApi.ReqUri = "list_pets", "/pets", "/v1/pets"
	other = e.create(t, other).(*apigwv1.Api)

	// The draft being published is edited with etcdctl after the load:
	// the commit fails, and the retry publishes the edited draft.
	il.then(func() { rawEdit(t, e.etcd, objectKey(model.KindAPI, api.Id), "remark", "edited with etcdctl") })
	p, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if n := il.attempts.Load(); n != 2 || p.Publication.Api.Remark != "edited with etcdctl" {
		t.Errorf("publish racing a raw edit of its draft: %d attempts, record remark %q; want 2 and the edit", n, p.Publication.Api.Remark)
	}

	// A raw write elsewhere in the instance costs no retry: the guard
	// names the keys of the change, not the instance prefix.
	il.then(func() { rawEdit(t, e.etcd, objectKey(model.KindAPI, other.Id), "remark", "unrelated") })
	if _, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	if n := il.attempts.Load(); n != 1 {
		t.Errorf("publish next to an unrelated raw write: %d attempts, want 1", n)
	}

	// The group an updated API references is edited raw: retry.
	il.then(func() { rawEdit(t, e.etcd, objectKey(model.KindGroup, g.Id), "remark", "raw group edit") })
	api.Remark, api.Meta = "updated", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(api)}); err != nil {
		t.Fatal(err)
	}
	if n := il.attempts.Load(); n != 2 {
		t.Errorf("update racing a raw edit of the group it references: %d attempts, want 2", n)
	}

	// The group an API is created in is deleted raw after the API passed
	// its checks (the commit was attempted): the commit fails, the retry
	// finds the group gone and refuses the API; nothing is stored.
	toys := e.create(t, &apigwv1.ApiGroup{Name: "toys"}).(*apigwv1.ApiGroup)
	il.then(func() {
		if _, err := e.etcd.Delete(e.ctx, objectKey(model.KindGroup, toys.Id)); err != nil {
			t.Error(err)
		}
	})
	toy := petsAPI("toys")
	toy.BackendApi.UrlDomain = "10.0.0.2"
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(toy)})
	if code(err) != codes.InvalidArgument || il.attempts.Load() != 1 {
		t.Errorf("create racing a raw delete of its group: %v after %d commit attempts, want InvalidArgument after 1", err, il.attempts.Load())
	}
	l, err := e.c.List(e.ctx, &adminv1.ListRequest{Kind: model.KindAPI})
	if err != nil || l.Total != 2 {
		t.Errorf("APIs stored: %d (%v), want 2", l.GetTotal(), err)
	}
}

// replica starts an admin server with its own store and watch on cli.
func replica(t *testing.T, cli *clientv3.Client, opts ...admin.Option) adminv1.AdminServiceClient {
	t.Helper()
	st := storetest.Store(t, cli)
	feed := storetest.Watch(t, st)
	<-feed.Ready()
	return admintest.Serve(t, admin.New(st, feed, live.NewStatus(), storetest.Logger(), opts...))
}

// Conflicting writes through two admin servers, the second getting in
// between the first's load and commit: the first retries against the new
// state, so the rules hold as if the writes had run one after the other.
func TestConflictingWritesThroughTwoAdminServers(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	var il interleave
	a := replica(t, cli, admin.WithBeforeCommit(il.hook))
	b := replica(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	create := func(c adminv1.AdminServiceClient, m *apigwv1.Resource) (*apigwv1.Resource, error) {
		resp, err := c.Create(ctx, &adminv1.CreateRequest{Resource: m})
		return resp.GetResource(), err
	}
	mustCreate := func(c adminv1.AdminServiceClient, m *apigwv1.Resource) *apigwv1.Resource {
		t.Helper()
		r, err := create(c, m)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	api := func(group, name, uri string) *apigwv1.Resource {
		return model.Wrap(&apigwv1.Api{Name: name, GroupId: group, ReqMethod: "GET", ReqUri: uri,
			BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", UrlDomain: "10.0.0.1:80", ReqUri: "/"}})
	}
	count := func(kind, group string) int32 {
		t.Helper()
		l, err := b.List(ctx, &adminv1.ListRequest{Kind: kind, GroupId: group})
		if err != nil {
			t.Fatal(err)
		}
		return l.Total
	}
	mustCreate(a, model.Wrap(&apigwv1.ApiGroup{Name: "pets"}))

	// Both create an API with the same name in the same group.
	// (Hooks run on the server's goroutine: they report with t.Error.)
	createIn := func(c adminv1.AdminServiceClient, m *apigwv1.Resource) func() {
		return func() {
			if _, err := create(c, m); err != nil {
				t.Errorf("interleaved create: %v", err)
			}
		}
	}
	il.then(createIn(b, api("pets", "get_pet", "/pets/{id}")))
	if _, err := create(a, api("pets", "get_pet", "/pet/{id}")); code(err) != codes.AlreadyExists {
		t.Errorf("second API of the same name: %v, want AlreadyExists", err)
	}
	if n := count(model.KindAPI, "pets"); n != 1 {
		t.Errorf("%d APIs named get_pet, want 1", n)
	}

	// A deletes a group while B creates an API in it: A is refused.
	mustCreate(a, model.Wrap(&apigwv1.ApiGroup{Name: "toys"}))
	il.then(createIn(b, api("toys", "get_toy", "/toys")))
	if _, err := a.Delete(ctx, &adminv1.DeleteRequest{Kind: model.KindGroup, Id: "toys"}); code(err) != codes.FailedPrecondition {
		t.Errorf("deleting a group that just got an API: %v, want FailedPrecondition", err)
	}
	if count(model.KindGroup, "") != 3 || // pets, toys and the built-in DEFAULT group
		count(model.KindAPI, "toys") != 1 {
		t.Error("the group or its API is gone")
	}

	// B deletes a group while A creates an API in it: A is refused.
	mustCreate(a, model.Wrap(&apigwv1.ApiGroup{Name: "games"}))
	il.then(func() {
		if _, err := b.Delete(ctx, &adminv1.DeleteRequest{Kind: model.KindGroup, Id: "games"}); err != nil {
			t.Error(err)
		}
	})
	if _, err := create(a, api("games", "get_game", "/games")); code(err) != codes.InvalidArgument {
		t.Errorf("API in a group deleted meanwhile: %v, want InvalidArgument", err)
	}
	if n := count(model.KindAPI, ""); n != 2 {
		t.Errorf("%d APIs, want 2", n)
	}

	// A publishes two APIs in one batch while B deletes one of them:
	// nothing is published.
	toy := mustCreate(a, api("toys", "list_toys", "/toys/list")).GetApi()
	il.then(func() {
		if _, err := b.Delete(ctx, &adminv1.DeleteRequest{Kind: model.KindAPI, Id: toy.Id}); err != nil {
			t.Error(err)
		}
	})
	_, err := a.PublishBatch(ctx, &adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{
		{Action: adminv1.PublishAction_PUBLISH_ACTION_PUBLISH, ApiId: "get_toy", Group: "toys"},
		{Action: adminv1.PublishAction_PUBLISH_ACTION_PUBLISH, ApiId: toy.Id},
	}})
	if code(err) != codes.NotFound {
		t.Errorf("batch with an API deleted meanwhile: %v, want NotFound", err)
	}
	resp, err := cli.Get(ctx, store.InstancePrefix(model.DefaultInstance)+"releases/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != 0 {
		t.Errorf("%d releases stored (%v), want none", resp.Count, err)
	}
}

// Many rounds of deleting a group through one server while APIs are
// created in it through the other, unsynchronised: no API ever references
// a missing group.
func TestConcurrentDeletesAndCreatesLeaveNoDanglingReference(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	a, b := replica(t, cli), replica(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for round := range 8 {
		name := fmt.Sprintf("group-%d", round)
		if _, err := a.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: name})}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := a.Delete(ctx, &adminv1.DeleteRequest{Kind: model.KindGroup, Id: name})
			if err != nil && code(err) != codes.FailedPrecondition {
				t.Errorf("delete: %v", err)
			}
		}()
		for i := range 2 {
			go func() {
				defer wg.Done()
				_, err := b.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Api{Name: fmt.Sprintf("api_%d_%d", round, i), GroupId: name,
					ReqMethod: "GET", ReqUri: fmt.Sprintf("/r%d", i), BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", UrlDomain: "10.0.0.1:80", ReqUri: "/"}})})
				if err != nil && code(err) != codes.InvalidArgument && code(err) != codes.NotFound {
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	groups, apis := map[string]bool{}, 0
	resp, err := cli.Get(ctx, store.InstancePrefix(model.DefaultInstance), clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var stored []*apigwv1.Api
	for _, kv := range resp.Kvs {
		pk, _ := store.ParseKey(string(kv.Key))
		switch pk.Kind.Name {
		case model.KindGroup:
			groups[pk.ID] = true
		case model.KindAPI:
			var a apigwv1.Api
			if err := json.Unmarshal(kv.Value, &struct {
				GroupID *string `json:"group_id"`
			}{&a.GroupId}); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, &a)
		}
	}
	for _, a := range stored {
		apis++
		if !groups[a.GroupId] {
			t.Errorf("an API references group %s, which is gone", a.GroupId)
		}
	}
	t.Logf("%d groups and %d APIs left after 8 rounds", len(groups), apis)
}
