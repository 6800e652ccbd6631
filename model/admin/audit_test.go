package admin_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// auditEnv is an admin server whose store reports direct etcd writes to it,
// with a settable clock.
type auditEnv struct {
	*env
	srv *admin.Server
	mu  sync.Mutex
	now time.Time
}

func (a *auditEnv) clock() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }
func (a *auditEnv) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

func setupAudit(t *testing.T, retention admin.AuditRetention, opts ...admin.Option) *auditEnv {
	t.Helper()
	_, cli := storetest.Etcd(t, "")
	st := storetest.Store(t, cli)
	feed := live.NewFeed()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = st.Watch(ctx, feed); close(done) }()
	a := &auditEnv{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a.srv = admin.New(st, feed, live.NewStatus(), storetest.Logger(), append([]admin.Option{admin.WithClock(a.clock), admin.WithAuditRetention(retention)}, opts...)...)
	st.OnDirectWrite(a.srv.RecordDirectWrite)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(gs, a.srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		gs.Stop()
		cancel()
		<-done
	})
	tctx, tcancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(tcancel)
	a.env = &env{c: adminv1.NewAdminServiceClient(conn), etcd: cli, feed: feed, ctx: tctx}
	return a
}

func (a *auditEnv) events(t *testing.T, req *adminv1.ListAuditEventsRequest) []*adminv1.AuditEvent {
	t.Helper()
	resp, err := a.c.ListAuditEvents(a.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Events
}

func summary(ev *adminv1.AuditEvent) string {
	var objs []string
	for _, o := range ev.Objects {
		objs = append(objs, fmt.Sprintf("%s %s/%s(%s)%v", o.Action, o.Kind, o.Id, o.Name, o.ChangedFields))
	}
	return ev.Operation + " by " + ev.Caller + ": " + strings.Join(objs, "; ")
}

// Every committed admin write appends one event in its transaction: the
// operation, the caller, the etcd revision of the change (the objects'
// resource_version), and per object the action and the fields an update
// changed, never a secret value. Failed and dry-run writes record nothing.
func TestAuditEventPerAdminWrite(t *testing.T) {
	a := setupAudit(t, admin.DefaultAuditRetention())
	a.create(t, &apigwv1.ApiGroup{Name: "pets"})
	a.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	api := a.create(t, petsAPI("pets")).(*apigwv1.Api)
	app := a.create(t, &apigwv1.App{Name: "mobile"}).(*apigwv1.App)
	a.create(t, &apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, TimeInterval: 1, TimeUnit: "MINUTE"})

	api.ReqUri, api.Meta = "/pets/v2/{id}", nil
	up, err := a.c.Update(a.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(api)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := a.c.Publish(a.ctx, &adminv1.PublishRequest{ApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Bind(a.ctx, &adminv1.BindRequest{PolicyKind: "throttle", PolicyId: "basic", ApiIds: []string{"get_pet"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Unbind(a.ctx, &adminv1.UnbindRequest{PolicyKind: "throttle", PolicyId: "basic", ApiIds: []string{"get_pet"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Publish(a.ctx, &adminv1.PublishRequest{ApiId: api.Id, Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Rollback(a.ctx, &adminv1.RollbackRequest{ApiId: api.Id, PublicationId: pub.Publication.Id}); err != nil {
		t.Fatal(err)
	}
	reset, err := a.c.ResetAppSecret(a.ctx, &adminv1.ResetAppSecretRequest{AppId: "mobile"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Unpublish(a.ctx, &adminv1.UnpublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Apply(a.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Throttle{Name: "gold", ApiCallLimits: 10, TimeInterval: 1, TimeUnit: "SECOND"})}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Delete(a.ctx, &adminv1.DeleteRequest{Kind: "throttle", Id: "gold"}); err != nil {
		t.Fatal(err)
	}
	before := len(a.events(t, &adminv1.ListAuditEventsRequest{Limit: 1000}))
	// Neither a refused write nor a dry run is recorded.
	if _, err := a.c.Create(a.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: "x"})}); err == nil {
		t.Fatal("an invalid group was accepted")
	}
	if _, err := a.c.Apply(a.ctx, &adminv1.ApplyRequest{DryRun: true, Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Throttle{Name: "silver", ApiCallLimits: 10, TimeInterval: 1, TimeUnit: "SECOND"})}}); err != nil {
		t.Fatal(err)
	}
	events := a.events(t, &adminv1.ListAuditEventsRequest{Limit: 1000})
	if len(events) != before {
		t.Fatalf("a failed or dry-run write was recorded: %d events, then %d", before, len(events))
	}

	var ops []string
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		ops = append(ops, ev.Operation)
		if ev.Outcome != admin.OutcomeCommitted || !strings.HasPrefix(ev.Caller, "anonymous 127.0.0.1:") || ev.Instance != "default" || ev.Revision == 0 || len(ev.Objects) == 0 {
			t.Errorf("event %s: %v", summary(ev), ev)
		}
		if i > 0 && events[i-1].Revision <= ev.Revision {
			t.Errorf("events not newest first by revision")
		}
		js, _ := protojson.Marshal(ev)
		if strings.Contains(string(js), reset.App.AppSecret) || strings.Contains(string(js), app.AppSecret) {
			t.Errorf("event %s carries a secret value", summary(ev))
		}
	}
	want := []string{"create", "create", "create", "create", "create", "update", "publish", "bind", "unbind", "publish", "rollback", "reset_app_secret", "unpublish", "apply", "delete"}
	if !slices.Equal(ops, want) {
		t.Errorf("operations %v, want %v", ops, want)
	}
	byOp := func(op string) *adminv1.AuditEvent {
		for _, ev := range events {
			if ev.Operation == op {
				return ev
			}
		}
		t.Fatalf("no %s event", op)
		return nil
	}
	upd := byOp("update")
	if o := upd.Objects[0]; o.Kind != "api" || o.Id != api.Id || o.Name != "get_pet" || o.Action != "updated" || !slices.Equal(o.ChangedFields, []string{"req_uri"}) {
		t.Errorf("update: %s", summary(upd))
	}
	if upd.Revision != mustRev(t, up.Resource.GetApi().GetMeta().GetResourceVersion()) {
		t.Errorf("update event revision %d, object resource_version %s", upd.Revision, up.Resource.GetApi().GetMeta().GetResourceVersion())
	}
	rs := byOp("reset_app_secret")
	if o := rs.Objects[0]; o.Kind != "app" || !slices.Contains(o.ChangedFields, "app_secret (secret)") {
		t.Errorf("reset: %s", summary(rs))
	}
	if d := byOp("delete"); d.Objects[0].Action != "deleted" || d.Objects[0].Name != "gold" {
		t.Errorf("delete: %s", summary(d))
	}

	// Filters: by operation, by object name, by kind, by time, limit.
	if got := a.events(t, &adminv1.ListAuditEventsRequest{Operation: "publish"}); len(got) != 2 || got[0].Operation != "publish" {
		t.Errorf("operation filter: %v", got)
	}
	if got := a.events(t, &adminv1.ListAuditEventsRequest{Object: "get_pet", Kind: "api"}); len(got) != 2 {
		t.Errorf("object filter: %d events", len(got))
	}
	if got := a.events(t, &adminv1.ListAuditEventsRequest{Limit: 3}); len(got) != 3 || got[0].Operation != "delete" {
		t.Errorf("limit: %v", got)
	}
	if _, err := a.c.ListAuditEvents(a.ctx, &adminv1.ListAuditEventsRequest{Kind: "nope"}); code(err) != 3 {
		t.Errorf("unknown kind: %v", err)
	}
}

// A PublishBatch commits one event, at the batch's revision, naming every
// object it wrote. A dry-run batch, a batch with a failing item and a
// commit attempt that lost a race (and was retried) record nothing.
func TestAuditPublishBatchAndRetries(t *testing.T) {
	var il interleave
	a := setupAudit(t, admin.DefaultAuditRetention(), admin.WithBeforeCommit(il.hook))
	a.create(t, &apigwv1.ApiGroup{Name: "pets"})
	a.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: model.ReleaseEnvID, VariableName: "backend", VariableValue: "10.0.0.1"})
	var items []*adminv1.PublishBatchItem
	var apis []*apigwv1.Api
	for i, name := range []string{"list_pets", "get_pet"} {
		api := petsAPI("pets")
		api.Name, api.ReqUri = name, "/pets/"+strings.Repeat("x", i+1)+"/{id}"
		apis = append(apis, a.create(t, api).(*apigwv1.Api))
		items = append(items, &adminv1.PublishBatchItem{Action: actPublish, ApiId: name, Group: "pets", Version: "1.0"})
	}
	count := func() int { return len(a.events(t, &adminv1.ListAuditEventsRequest{Limit: 1000})) }
	before := count()
	if _, err := a.c.PublishBatch(a.ctx, &adminv1.PublishBatchRequest{Items: items, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	bad := append(slices.Clone(items), &adminv1.PublishBatchItem{Action: actRollback, ApiId: "get_pet", Group: "pets", PublicationId: "nope"})
	if _, err := a.c.PublishBatch(a.ctx, &adminv1.PublishBatchRequest{Items: bad}); err == nil {
		t.Fatal("a batch rolling back to a publication that does not exist succeeded")
	}
	if n := count(); n != before {
		t.Fatalf("a dry-run or failed batch was recorded: %d events, then %d", before, n)
	}

	resp, err := a.c.PublishBatch(a.ctx, &adminv1.PublishBatchRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	evs := a.events(t, &adminv1.ListAuditEventsRequest{Operation: "publish_batch"})
	if len(evs) != 1 || count() != before+1 {
		t.Fatalf("%d publish_batch events (%d in all, %d before); want 1 more", len(evs), count(), before)
	}
	ev := evs[0]
	if ev.Revision != resp.Revision || ev.Outcome != admin.OutcomeCommitted {
		t.Errorf("batch event %s at revision %d, outcome %s; batch revision %d", summary(ev), ev.Revision, ev.Outcome, resp.Revision)
	}
	got := map[string]bool{}
	for _, o := range ev.Objects {
		got[o.Kind+" "+o.Id+" "+o.Action] = true
	}
	for _, r := range resp.Results {
		if p := r.Publication; !got[model.KindPublication+" "+p.Id+" created"] {
			t.Errorf("batch event %s does not name publication %s", summary(ev), p.Id)
		}
	}
	if len(ev.Objects) != 4 {
		t.Errorf("batch event %s: want 2 publications and 2 releases", summary(ev))
	}

	// The draft is edited straight in etcd between the batch's load and
	// its commit: the first attempt fails and records nothing, the retry
	// records the batch once, and the watch records the raw edit.
	il.then(func() { rawEdit(t, a.etcd, objectKey(model.KindAPI, apis[1].Id), "remark", "edited with etcdctl") })
	before = count()
	resp, err = a.c.PublishBatch(a.ctx, &adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{
		{Action: actPublish, ApiId: "get_pet", Group: "pets", Version: "2.0"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := il.attempts.Load(); n != 2 {
		t.Fatalf("batch racing a raw edit of its draft: %d attempts, want 2", n)
	}
	if evs := a.events(t, &adminv1.ListAuditEventsRequest{Operation: "publish_batch"}); len(evs) != 2 || evs[0].Revision != resp.Revision {
		t.Fatalf("after the retried batch: %d publish_batch events, newest at %d; want 2, the newest at %d", len(evs), evs[0].GetRevision(), resp.Revision)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count() != before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	direct := a.events(t, &adminv1.ListAuditEventsRequest{Caller: admin.CallerEtcd})
	if n := count(); n != before+2 || len(direct) != 1 || direct[0].Objects[0].Id != apis[1].Id || direct[0].Revision >= resp.Revision {
		t.Errorf("after the retried batch: %d events (%d before; want the batch and the raw edit), direct writes %v", n, before, direct)
	}
}

func mustRev(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A write made straight into etcd is recorded with caller "etcd" at its
// revision once the watch sees it; retention drops events by count and
// age.
func TestAuditDirectWritesAndRetention(t *testing.T) {
	a := setupAudit(t, admin.AuditRetention{MaxAge: time.Hour, MaxEvents: 3})
	a.create(t, &apigwv1.ApiGroup{Name: "pets"})
	key := store.ObjectKey("default", model.KindByName(model.KindThrottle), "direct")
	resp, err := a.etcd.Put(a.ctx, key, `{"id":"direct","name":"direct","api_call_limits":5,"time_interval":1,"time_unit":"SECOND"}`)
	if err != nil {
		t.Fatal(err)
	}
	var ev *adminv1.AuditEvent
	deadline := time.Now().Add(10 * time.Second)
	for ev == nil && time.Now().Before(deadline) {
		for _, e := range a.events(t, &adminv1.ListAuditEventsRequest{Caller: admin.CallerEtcd}) {
			ev = e
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ev == nil {
		t.Fatal("the direct write was not recorded")
	}
	if ev.Revision != resp.Header.Revision || ev.Operation != "etcd" || ev.Outcome != admin.OutcomeObserved || len(ev.Objects) != 1 ||
		ev.Objects[0].Kind != model.KindThrottle || ev.Objects[0].Id != "direct" {
		t.Errorf("direct write event %s rev %d (put at %d)", summary(ev), ev.Revision, resp.Header.Revision)
	}

	for _, n := range []string{"a1", "a2", "a3"} {
		a.create(t, &apigwv1.Throttle{Name: "t_" + n, ApiCallLimits: 1, TimeInterval: 1, TimeUnit: "SECOND"})
	}
	if err := a.srv.ApplyAuditRetention(a.ctx); err != nil {
		t.Fatal(err)
	}
	got := a.events(t, &adminv1.ListAuditEventsRequest{})
	if len(got) != 3 || got[0].Objects[0].Name != "t_a3" {
		t.Fatalf("after count retention: %d events, newest %v", len(got), got)
	}
	a.advance(2 * time.Hour)
	a.create(t, &apigwv1.Throttle{Name: "t_late", ApiCallLimits: 1, TimeInterval: 1, TimeUnit: "SECOND"})
	if err := a.srv.ApplyAuditRetention(a.ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.events(t, &adminv1.ListAuditEventsRequest{}); len(got) != 1 || got[0].Objects[0].Name != "t_late" {
		t.Errorf("after age retention: %v", got)
	}
}
