package admin_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type env struct {
	c    adminv1.AdminServiceClient
	etcd *clientv3.Client
	feed *live.Feed
	ctx  context.Context
}

func setup(t *testing.T, opts ...admin.Option) *env {
	t.Helper()
	var n atomic.Int64
	ids := func() string { return fmt.Sprintf("id%030d", n.Add(1)) }
	srv := admintest.Start(t, append([]admin.Option{admin.WithIDs(ids)}, opts...)...)
	return &env{c: srv.Client, etcd: srv.Etcd, feed: srv.Feed, ctx: admintest.Context(t)}
}

func (e *env) create(t *testing.T, m proto.Message) proto.Message {
	t.Helper()
	resp, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(m)})
	if err != nil {
		t.Fatalf("create %T: %v", m, err)
	}
	out, _ := model.Unwrap(resp.Resource)
	return out
}

func (e *env) keys(t *testing.T) []string {
	t.Helper()
	resp, err := e.etcd.Get(e.ctx, store.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		if k := string(kv.Key); !strings.Contains(k, "/generations/") {
			out = append(out, k)
		}
	}
	return out
}

func violations(t *testing.T, err error) []*errdetails.BadRequest_FieldViolation {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br.FieldViolations
		}
	}
	t.Fatalf("no BadRequest details in %v", err)
	return nil
}

func code(err error) codes.Code { st, _ := status.FromError(err); return st.Code() }

func petsAPI(group string) *apigwv1.Api {
	return &apigwv1.Api{Name: "get_pet", GroupId: group, ReqMethod: "GET", ReqUri: "/pets/{id}", AuthType: "APP",
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", UrlDomain: "#backend#", ReqUri: "/v1/pets/{id}", Timeout: 3000}}
}

func TestGroupAPIAndPublicationLandUnderTheDocumentedKeys(t *testing.T) {
	e := setup(t)
	g := e.create(t, &apigwv1.ApiGroup{Name: "pets", UrlDomains: []*apigwv1.UrlDomain{{Domain: "API.Example.com"}}}).(*apigwv1.ApiGroup)
	if g.SlDomain != g.Id+".apigw.local" || g.UrlDomains[0].Domain != "api.example.com" {
		t.Errorf("derived fields: sl_domain=%q domain=%q", g.SlDomain, g.UrlDomains[0].Domain)
	}
	test := e.create(t, &apigwv1.Environment{Name: "TEST"}).(*apigwv1.Environment)
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "TEST", VariableName: "backend", VariableValue: "10.1.2.3:8080"})
	api := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	if api.GroupId != g.Id || api.BackendApi.GetRetryCount() != -1 || api.MatchMode != "NORMAL" {
		t.Errorf("references and defaults not applied: %v", api)
	}
	pub, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: "get_pet", EnvId: "TEST", Remark: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.Publication.Api.BackendApi.UrlDomain; got != "10.1.2.3:8080" {
		t.Errorf("published url_domain %q, want the resolved variable", got)
	}
	want := []string{
		store.InstancePrefix("default") + "apis/" + api.Id,
		store.InstancePrefix("default") + "environments/" + test.Id,
		store.InstancePrefix("default") + "groups/" + g.Id,
		store.InstancePrefix("default") + "publications/" + pub.Publication.Id,
		store.InstancePrefix("default") + "releases/" + api.Id + "/" + test.Id,
	}
	keys := strings.Join(e.keys(t), "\n")
	for _, k := range want {
		if !strings.Contains(keys, k) {
			t.Errorf("key %s missing; have:\n%s", k, keys)
		}
	}
	// Publishing to RELEASE fails: the variable is not defined there.
	_, err = e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id})
	if vs := violations(t, err); len(vs) != 1 || vs[0].Field != "backend_api.url_domain" || !strings.Contains(vs[0].Description, "#backend#") {
		t.Errorf("publish without variable: %v", vs)
	}
}

func TestInvalidAPIIsRefusedWithEveryViolationAndNothingStored(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	before := e.keys(t)
	bad := &apigwv1.Api{Name: "x", GroupId: "pets", ReqMethod: "FETCH", ReqUri: "pets/{id}/{rest+}/x",
		ReqParams:  []*apigwv1.ReqParam{{Name: "X-Apig-Foo", Location: "HEADER"}, {Name: "Authorization", Location: "HEADER"}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "backend:99999", ReqUri: "/v1", Timeout: 70000, RetryCount: proto.Int32(11)}}
	_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(bad)})
	vs := violations(t, err)
	fields := map[string]bool{}
	for _, v := range vs {
		fields[v.Field] = true
	}
	for _, f := range []string{"name", "req_method", "req_uri", "req_params[0].name", "req_params[1].name", "backend_api.timeout", "backend_api.retry_count", "backend_api.url_domain"} {
		if !fields[f] {
			t.Errorf("violation for %s missing; got %v", f, vs)
		}
	}
	if after := e.keys(t); len(after) != len(before) {
		t.Errorf("something was stored: %v → %v", before, after)
	}
	var timeout string
	for _, v := range vs {
		if v.Field == "backend_api.timeout" {
			timeout = v.Description
		}
	}
	if timeout != "must be between 1 and 60000 (got 70000)" {
		t.Errorf("timeout message %q", timeout)
	}
}

func TestUniquenessAndReferences(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.ApiGroup{Name: "shop", UrlDomains: []*apigwv1.UrlDomain{{Domain: "shop.example.com"}}})
	_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: "pets"})})
	if code(err) != codes.AlreadyExists {
		t.Errorf("duplicate group name: %v", err)
	}
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: "other", UrlDomains: []*apigwv1.UrlDomain{{Domain: "shop.example.com"}}})})
	if vs := violations(t, err); vs[0].Field != "url_domains[0].domain" {
		t.Errorf("domain bound twice: %v", vs)
	}
	e.create(t, petsAPI("pets"))
	dup := petsAPI("pets")
	dup.Name = "get_pet_again"
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(dup)})
	if vs := violations(t, err); vs[0].Field != "req_uri" || !strings.Contains(vs[0].Description, "method, path and match mode") {
		t.Errorf("same route twice: %v", vs)
	}
	dup.MatchMode = "SWA" // same path as prefix is allowed
	e.create(t, dup)
	orphan := petsAPI("nope")
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(orphan)})
	if vs := violations(t, err); vs[0].Field != "group_id" {
		t.Errorf("unknown group: %v", vs)
	}
}

func TestStaleUpdatesAreAborted(t *testing.T) {
	e := setup(t)
	g := e.create(t, &apigwv1.ApiGroup{Name: "pets"}).(*apigwv1.ApiGroup)
	rv := g.Meta.ResourceVersion
	g.Remark = "one"
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(g)}); err != nil {
		t.Fatal(err)
	}
	g.Remark = "two"
	g.Meta.ResourceVersion = rv
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(g)}); code(err) != codes.Aborted {
		t.Fatalf("stale update: %v", err)
	}
	got, _ := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "group", Id: "pets"})
	if got.Resource.GetGroup().Remark != "one" {
		t.Errorf("stale update was applied: %v", got.Resource.GetGroup())
	}
}

func TestDeletesRespectReferences(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	api := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	th := e.create(t, &apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, TimeInterval: 1, TimeUnit: "MINUTE"}).(*apigwv1.Throttle)
	if _, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Bind(e.ctx, &adminv1.BindRequest{PolicyKind: "throttle", PolicyId: "basic", ApiIds: []string{"get_pet"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "group", Id: "pets"})
	if code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "api") {
		t.Errorf("deleting a group with APIs: %v", err)
	}
	_, err = e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "throttle", Id: th.Id})
	if code(err) != codes.FailedPrecondition {
		t.Errorf("deleting a bound policy: %v", err)
	}
	// Unpublishing keeps the binding.
	if _, err := e.c.Unpublish(e.ctx, &adminv1.UnpublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	l, _ := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "throttle_binding", ApiId: api.Id})
	if len(l.Resources) != 1 {
		t.Errorf("binding dropped by unpublish: %v", l.Resources)
	}
	// Deleting the API takes its bindings and records with it; then the
	// group and the policy can go.
	for _, d := range []*adminv1.DeleteRequest{{Kind: "api", Id: api.Id}, {Kind: "throttle", Id: "basic"}, {Kind: "group", Id: "pets"}} {
		if _, err := e.c.Delete(e.ctx, d); err != nil {
			t.Fatalf("delete %s: %v", d.Kind, err)
		}
	}
	if keys := e.keys(t); len(keys) != 0 {
		t.Errorf("left behind: %v", keys)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "environment", Id: "RELEASE"}); code(err) != codes.InvalidArgument {
		t.Errorf("deleting RELEASE: %v", err)
	}
}

func TestApplyIsIdempotentAndAtomic(t *testing.T) {
	e := setup(t)
	docs := []proto.Message{
		&apigwv1.ApiGroup{Name: "pets"},
		&apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"},
		petsAPI("pets"),
		&apigwv1.App{Name: "mobile"},
		&apigwv1.AppAuth{ApiId: "get_pet", EnvId: "RELEASE", AppId: "mobile"},
	}
	req := &adminv1.ApplyRequest{}
	for _, d := range docs {
		req.Resources = append(req.Resources, model.Wrap(d))
	}
	first, err := e.c.Apply(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range first.Results {
		if r.Action != "created" {
			t.Errorf("%s %s: %s", r.Kind, r.Name, r.Action)
		}
	}
	if first.Results[3].Resource.GetApp().AppSecret == "" {
		t.Error("generated app secret not returned on creation")
	}
	second, err := e.c.Apply(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range second.Results {
		if r.Action != "unchanged" {
			t.Errorf("re-apply %s %s: %s", r.Kind, r.Name, r.Action)
		}
	}
	if second.Revision != 0 {
		t.Errorf("re-apply wrote revision %d", second.Revision)
	}
	before := e.keys(t)
	req.Resources = append(req.Resources, model.Wrap(&apigwv1.ApiGroup{Name: "second"}), model.Wrap(&apigwv1.Throttle{Name: "t"}))
	_, err = e.c.Apply(e.ctx, req)
	vs := violations(t, err)
	if !strings.HasPrefix(vs[0].Field, "resources[6].") {
		t.Errorf("violations must name the document: %v", vs)
	}
	if after := e.keys(t); len(after) != len(before) {
		t.Errorf("a failed apply stored something: %d → %d keys", len(before), len(after))
	}
	// Dry run reports without writing.
	req.Resources = req.Resources[:6]
	dry, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: req.Resources, DryRun: true})
	if err != nil || dry.Results[5].Action != "created" || dry.Revision != 0 {
		t.Fatalf("dry run: %v %v", dry, err)
	}
	if after := e.keys(t); len(after) != len(before) {
		t.Error("dry run stored something")
	}
}

func TestSecretsAreReturnedOnlyWhenCreatedOrReset(t *testing.T) {
	e := setup(t)
	app := e.create(t, &apigwv1.App{Name: "mobile", AppCodes: []*apigwv1.AppCode{{}}}).(*apigwv1.App)
	if len(app.AppSecret) != 32 || len(app.AppCodes[0].AppCode) != 64 || app.AppKey == "" {
		t.Fatalf("creation must return generated credentials: %v", app)
	}
	got, _ := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "app", Id: "mobile"})
	a := got.Resource.GetApp()
	if a.AppSecret != "" || a.AppCodes[0].AppCode != "" || a.AppKey != app.AppKey {
		t.Fatalf("get must redact secrets: %v", a)
	}
	// Update with the redacted object keeps the secrets; a new code is
	// returned, the old one is not.
	a.AppCodes = append(a.AppCodes, &apigwv1.AppCode{})
	up, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(a)})
	if err != nil {
		t.Fatal(err)
	}
	ua := up.Resource.GetApp()
	if ua.AppSecret != "" || ua.AppCodes[0].AppCode != "" || len(ua.AppCodes[1].AppCode) != 64 {
		t.Fatalf("update response: %v", ua)
	}
	reset, err := e.c.ResetAppSecret(e.ctx, &adminv1.ResetAppSecretRequest{AppId: "mobile"})
	if err != nil || len(reset.App.AppSecret) != 32 || reset.App.AppSecret == app.AppSecret {
		t.Fatalf("reset: %v %v", reset, err)
	}
	// The stored app still has the first code and the new secret.
	sn := waitRevision(t, e, 0, func(s *live.Snapshot) bool {
		x := s.Instance("default").App(app.Id)
		return x != nil && x.AppSecret == reset.App.AppSecret
	})
	if x := sn.Instance("default").App(app.Id); x.AppCodes[0].AppCode != app.AppCodes[0].AppCode {
		t.Error("the first AppCode was lost")
	}
}

func waitRevision(t *testing.T, e *env, _ int64, ok func(*live.Snapshot) bool) *live.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	for s := range e.feed.Subscribe(ctx) {
		if ok(s) {
			return s
		}
	}
	t.Fatal("timed out waiting for snapshot")
	return nil
}

func TestPublicationRecordsRetentionAndRollback(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	api := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	var first string
	for i := range 12 {
		api.BackendApi.Timeout = int32(1000 + i)
		api.Meta = nil
		if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(api)}); err != nil {
			t.Fatal(err)
		}
		p, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id, Version: fmt.Sprintf("v%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			first = p.Publication.Id
		}
	}
	l, err := e.c.ListPublications(e.ctx, &adminv1.ListPublicationsRequest{ApiId: "get_pet", Group: "pets"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Publications) != 10 || l.Publications[0].Version != "v11" || l.CurrentPublicationId != l.Publications[0].Id {
		t.Fatalf("retention: %d records, newest %s, current %s", len(l.Publications), l.Publications[0].Version, l.CurrentPublicationId)
	}
	if _, err := e.c.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: api.Id, PublicationId: first}); err != nil {
		t.Fatal(err)
	}
	sn := waitRevision(t, e, 0, func(s *live.Snapshot) bool {
		p := s.Instance("default").Served(api.Id, model.ReleaseEnvID)
		return p != nil && p.Id == first
	})
	if got := sn.Instance("default").Served(api.Id, model.ReleaseEnvID).Api.BackendApi.Timeout; got != 1003 {
		t.Errorf("rolled-back record serves timeout %d, want 1003", got)
	}
	// Editing the draft does not change what is served.
	if sn.Instance("default").API(api.Id).BackendApi.Timeout != 1011 {
		t.Error("draft not kept")
	}
}

func TestBindingRules(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	e.create(t, petsAPI("pets"))
	e.create(t, &apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, TimeInterval: 1})
	e.create(t, &apigwv1.Throttle{Name: "premium", ApiCallLimits: 1000, TimeInterval: 1})
	e.create(t, &apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: "10.0.0.0/8"})
	e.create(t, &apigwv1.Acl{AclName: "blocked", AclType: "DENY", EntityType: "IP", AclValue: "10.1.0.1-10.1.0.9"})
	bind := func(kind, policy string) error {
		_, err := e.c.Bind(e.ctx, &adminv1.BindRequest{PolicyKind: kind, PolicyId: policy, ApiIds: []string{"get_pet"}})
		return err
	}
	if err := bind("throttle", "basic"); err != nil {
		t.Fatal(err)
	}
	if err := bind("throttle", "basic"); err != nil {
		t.Errorf("binding again must be a no-op: %v", err)
	}
	if err := bind("throttle", "premium"); code(err) != codes.AlreadyExists {
		t.Errorf("second throttling policy: %v", err)
	}
	if err := bind("acl", "office"); err != nil {
		t.Fatal(err)
	}
	if err := bind("acl", "blocked"); code(err) != codes.InvalidArgument {
		t.Errorf("second IP ACL: %v", err)
	}
	r, err := e.c.Unbind(e.ctx, &adminv1.UnbindRequest{PolicyKind: "throttle", PolicyId: "basic", ApiIds: []string{"get_pet"}})
	if err != nil || r.Removed != 1 {
		t.Fatalf("unbind: %v %v", r, err)
	}
	if err := bind("throttle", "premium"); err != nil {
		t.Errorf("bind after unbind: %v", err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.ApiGroup{Name: "shop"})
	for i := range 5 {
		a := petsAPI("pets")
		a.Name, a.ReqUri, a.Tags = fmt.Sprintf("api_%d", i), fmt.Sprintf("/p%d", i), []string{fmt.Sprintf("t%d", i%2)}
		a.BackendApi.ReqUri = "/v1"
		e.create(t, a)
	}
	b := petsAPI("shop")
	b.BackendApi.ReqUri, b.ReqUri = "/v1", "/x"
	e.create(t, b)
	var names []string
	token := ""
	for {
		l, err := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "api", GroupId: "pets", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if l.Total != 5 {
			t.Errorf("total %d", l.Total)
		}
		for _, r := range l.Resources {
			names = append(names, r.GetApi().Name)
		}
		if token = l.NextPageToken; token == "" {
			break
		}
	}
	if len(names) != 5 {
		t.Errorf("paged names: %v", names)
	}
	l, _ := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "api", Tag: "t1"})
	if len(l.Resources) != 2 {
		t.Errorf("tag filter: %d", len(l.Resources))
	}
	if _, err := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "nope"}); code(err) != codes.InvalidArgument {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestStatusReportsInvalidObjects(t *testing.T) {
	e := setup(t)
	key := store.InstancePrefix("default") + "apis/broken"
	if _, err := e.etcd.Put(e.ctx, key, `{"id":"broken","name":"b"}`); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, e, 0, func(s *live.Snapshot) bool { return len(s.Invalid) == 1 })
	st, err := e.c.GetStatus(e.ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.InvalidObjects) != 1 || st.InvalidObjects[0].Key != key || st.Revision == 0 {
		t.Fatalf("status: %v", st)
	}
}

func TestReapplyKeepsNestedIDs(t *testing.T) {
	e := setup(t)
	code := "AppCode0123456789012345678901234567890123456789012345678901234567890"
	docs := []proto.Message{
		&apigwv1.App{Name: "mobile", AppCodes: []*apigwv1.AppCode{{AppCode: code}}},
		&apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, TimeInterval: 1, Specials: []*apigwv1.ThrottleSpecial{{ObjectType: "APP", ObjectId: "mobile", CallLimits: 50}}},
		&apigwv1.ApiGroup{Name: "pets", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}},
	}
	req := &adminv1.ApplyRequest{}
	for _, d := range docs {
		req.Resources = append(req.Resources, model.Wrap(d))
	}
	first, err := e.c.Apply(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := first.Results[0].Resource.GetApp().AppCodes[0].CreateTime; ct == nil {
		t.Error("AppCode create_time not set")
	}
	again, err := e.c.Apply(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Results {
		if r.Action != "unchanged" {
			t.Errorf("re-apply of %s %s: %s", r.Kind, r.Name, r.Action)
		}
	}
}
