package admin_test

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const (
	actPublish   = adminv1.PublishAction_PUBLISH_ACTION_PUBLISH
	actUnpublish = adminv1.PublishAction_PUBLISH_ACTION_UNPUBLISH
	actRollback  = adminv1.PublishAction_PUBLISH_ACTION_ROLLBACK
)

// releases returns the ModRevision of every stored release, by key.
func (e *env) releases(t *testing.T) map[string]int64 {
	t.Helper()
	resp, err := e.etcd.Get(e.ctx, store.InstancePrefix(model.DefaultInstance)+"releases/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = kv.ModRevision
	}
	return out
}

func batchAPIs(t *testing.T, e *env) []*apigwv1.Api {
	t.Helper()
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	var out []*apigwv1.Api
	for i, name := range []string{"list_pets", "get_pet", "add_pet"} {
		a := petsAPI("pets")
		a.Name, a.ReqUri, a.BackendApi.UrlDomain = name, "/pets/"+strings.Repeat("x", i+1)+"/{id}", "10.0.0.1"
		out = append(out, e.create(t, a).(*apigwv1.Api))
	}
	return out
}

// One item that cannot be published fails the batch: nothing is stored,
// and the error names the item. Fixed, the batch lands in one revision.
func TestPublishBatchIsAtomic(t *testing.T) {
	e := setup(t)
	apis := batchAPIs(t, e)
	apis[2].BackendApi.UrlDomain, apis[2].Meta = "#backend#", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(apis[2])}); err != nil {
		t.Fatal(err)
	}
	req := &adminv1.PublishBatchRequest{}
	for _, a := range apis {
		req.Items = append(req.Items, &adminv1.PublishBatchItem{Action: actPublish, ApiId: a.Name, Group: "pets", Version: "1.0"})
	}
	_, err := e.c.PublishBatch(e.ctx, req)
	if vs := violations(t, err); len(vs) != 1 || !strings.Contains(err.Error(), "items[2]") || !strings.Contains(vs[0].Description, "#backend#") {
		t.Fatalf("batch with an undefined variable: %v", err)
	}
	if r := e.releases(t); len(r) != 0 {
		t.Fatalf("a failed batch stored releases: %v", r)
	}

	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: model.ReleaseEnvID, VariableName: "backend", VariableValue: "10.0.0.9"})
	resp, err := e.c.PublishBatch(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r := e.releases(t)
	if len(r) != 3 || len(resp.Results) != 3 {
		t.Fatalf("%d releases, %d results; want 3", len(r), len(resp.Results))
	}
	for key, rev := range r {
		if rev != resp.Revision {
			t.Errorf("%s written at revision %d, the batch at %d: not one transaction", key, rev, resp.Revision)
		}
	}
	for i, res := range resp.Results {
		if res.ApiId != apis[i].Id || res.ApiName != apis[i].Name || res.EnvId != model.ReleaseEnvID || res.Publication.GetVersion() != "1.0" {
			t.Errorf("result %d: %v", i, res)
		}
	}
	if got := resp.Results[2].Publication.Api.BackendApi.UrlDomain; got != "10.0.0.9" {
		t.Errorf("variable resolved to %q", got)
	}
	sn := waitRevision(t, e, 0, func(s *live.Snapshot) bool { return s.Revision >= resp.Revision })
	for _, a := range apis {
		if p := sn.Instance(model.DefaultInstance).Served(a.Id, model.ReleaseEnvID); p == nil || p.Version != "1.0" {
			t.Errorf("%s is not served", a.Name)
		}
	}
}

// Publish, unpublish and rollback mix in one batch; items see the ones
// before them. A dry run stores nothing.
func TestPublishBatchMixesActions(t *testing.T) {
	e := setup(t)
	apis := batchAPIs(t, e)
	first := map[string]string{}
	for _, v := range []string{"1", "2"} {
		resp, err := e.c.PublishBatch(e.ctx, &adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{
			{Action: actPublish, ApiId: apis[0].Id, Version: v}, {Action: actPublish, ApiId: apis[1].Id, Version: v}}})
		if err != nil {
			t.Fatal(err)
		}
		if v == "1" {
			first[apis[0].Id], first[apis[1].Id] = resp.Results[0].Publication.Id, resp.Results[1].Publication.Id
		}
	}
	mixed := &adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{
		{Action: actUnpublish, ApiId: apis[0].Id},
		{Action: actRollback, ApiId: apis[1].Id, PublicationId: first[apis[1].Id]},
		{Action: actPublish, ApiId: apis[2].Id, Version: "3"},
		// Seen by the item before: apis[0] is offline, so it can roll back
		// to its first record.
		{Action: actRollback, ApiId: apis[0].Id, PublicationId: first[apis[0].Id]},
	}, DryRun: true}
	before := e.releases(t)
	dry, err := e.c.PublishBatch(e.ctx, mixed)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Revision != 0 || len(dry.Results) != 4 || len(e.releases(t)) != len(before) {
		t.Fatalf("dry run: revision %d, %d results, releases %v -> %v", dry.Revision, len(dry.Results), before, e.releases(t))
	}
	mixed.DryRun = false
	resp, err := e.c.PublishBatch(e.ctx, mixed)
	if err != nil {
		t.Fatal(err)
	}
	sn := waitRevision(t, e, 0, func(s *live.Snapshot) bool { return s.Revision >= resp.Revision })
	in := sn.Instance(model.DefaultInstance)
	if p := in.Served(apis[0].Id, model.ReleaseEnvID); p == nil || p.Id != first[apis[0].Id] {
		t.Errorf("api 0 serves %v, want its first record", p.GetId())
	}
	if p := in.Served(apis[1].Id, model.ReleaseEnvID); p == nil || p.Id != first[apis[1].Id] {
		t.Errorf("api 1 serves %v, want its first record", p.GetId())
	}
	if p := in.Served(apis[2].Id, model.ReleaseEnvID); p == nil || p.Version != "3" {
		t.Errorf("api 2 serves %v, want version 3", p)
	}
	if resp.Results[0].Publication != nil || resp.Results[1].Publication.GetId() != first[apis[1].Id] {
		t.Errorf("results: %v", resp.Results)
	}
}

func TestPublishBatchRefusesBadItems(t *testing.T) {
	e := setup(t)
	apis := batchAPIs(t, e)
	for name, tc := range map[string]struct {
		req  *adminv1.PublishBatchRequest
		code codes.Code
		want string
	}{
		"no items":       {&adminv1.PublishBatchRequest{}, codes.InvalidArgument, "items"},
		"no action":      {&adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{{ApiId: apis[0].Id}}}, codes.InvalidArgument, "items[0]"},
		"unknown api":    {&adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{{Action: actPublish, ApiId: apis[0].Id}, {Action: actPublish, ApiId: "nope"}}}, codes.NotFound, "items[1]"},
		"offline":        {&adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{{Action: actUnpublish, ApiId: apis[1].Id}}}, codes.NotFound, "items[0]"},
		"no such record": {&adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{{Action: actRollback, ApiId: apis[1].Id, PublicationId: "nope"}}}, codes.NotFound, "items[0]"},
	} {
		_, err := e.c.PublishBatch(e.ctx, tc.req)
		if code(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %v naming %s", name, err, tc.code, tc.want)
		}
	}
	if r := e.releases(t); len(r) != 0 {
		t.Errorf("refused batches stored releases: %v", r)
	}
}
