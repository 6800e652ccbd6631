package admin_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin/admintest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Targets of the admin write path at fleet scale (10 000 APIs in 100
// groups of 100): writes cost O(change), not O(store).
const (
	targetApplyRatio      = 1.5              // apply 1 000 APIs into 9 000 vs into an empty store
	targetPublishGroup    = time.Second      // publish the 100 APIs of a group, any store size
	targetPublishAll      = 60 * time.Second // publish all 10 000 APIs
	targetApplyPublishOne = 30 * time.Millisecond
)

// newScaleStore starts an admin API over embedded etcd (watch running)
// whose instance allows 20 000 APIs.
func newScaleStore(b *testing.B) (*admintest.Server, adminv1.AdminServiceClient) {
	b.Helper()
	srv := admintest.Start(b)
	ctx := admintest.Context(b)
	inst := &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{Quotas: &apigwv1.Quotas{Apis: 20000, ApiGroups: 1500}}}
	if _, err := srv.Client.Apply(ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(inst)}}); err != nil {
		b.Fatal(err)
	}
	return srv, srv.Client
}

func scaleGroupID(prefix string, g int) string { return fmt.Sprintf("%sg%03d", prefix, g) }

func scaleAPI(groupID string, a int) *apigwv1.Api {
	id := fmt.Sprintf("%s-a%03d", groupID, a)
	return &apigwv1.Api{
		Id: id, Name: "api_" + id, GroupId: groupID, ReqMethod: "GET", ReqUri: fmt.Sprintf("/v1/res%d/{id}", a), ReqProtocol: model.ProtoBoth,
		BackendApi: &apigwv1.BackendApi{UrlDomain: fmt.Sprintf("10.0.0.%d:8080", a%50+1), ReqProtocol: model.ProtoHTTP, ReqUri: "/backend/" + id + "/{id}"},
	}
}

// groupsDoc is an Apply of groups [from, to) with 100 APIs each.
func groupsDoc(prefix string, from, to int) *adminv1.ApplyRequest {
	req := &adminv1.ApplyRequest{}
	for g := from; g < to; g++ {
		gid := scaleGroupID(prefix, g)
		req.Resources = append(req.Resources, model.Wrap(&apigwv1.ApiGroup{Id: gid, Name: "group_" + gid}))
		for a := range 100 {
			req.Resources = append(req.Resources, model.Wrap(scaleAPI(gid, a)))
		}
	}
	return req
}

// deleteGroupsDoc deletes what groupsDoc created.
func deleteGroupsDoc(prefix string, from, to int) *adminv1.ApplyRequest {
	req := &adminv1.ApplyRequest{}
	for g := from; g < to; g++ {
		gid := scaleGroupID(prefix, g)
		for a := range 100 {
			req.Deletes = append(req.Deletes, &adminv1.ObjectRef{Kind: model.KindAPI, Id: scaleAPI(gid, a).Id})
		}
		req.Deletes = append(req.Deletes, &adminv1.ObjectRef{Kind: model.KindGroup, Id: gid})
	}
	return req
}

// publishGroup is the batch publish of a group's 100 APIs to RELEASE (what
// apigctl publish --all --group sends).
func publishGroup(gid string, version string) *adminv1.PublishBatchRequest {
	req := &adminv1.PublishBatchRequest{}
	for a := range 100 {
		req.Items = append(req.Items, &adminv1.PublishBatchItem{Action: adminv1.PublishAction_PUBLISH_ACTION_PUBLISH, ApiId: scaleAPI(gid, a).Id, Version: version})
	}
	return req
}

// fill applies groups [0, groups) with 100 APIs each, 10 groups per call,
// and publishes them when asked; it returns the time the publishing took.
func fill(b *testing.B, c adminv1.AdminServiceClient, groups int, publish bool) time.Duration {
	b.Helper()
	ctx := admintest.Context(b)
	for g := 0; g < groups; g += 10 {
		if _, err := c.Apply(ctx, groupsDoc("", g, min(g+10, groups))); err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	if !publish {
		return 0
	}
	start := time.Now()
	for g := range groups {
		if _, err := c.PublishBatch(ctx, publishGroup(scaleGroupID("", g), "1")); err != nil {
			b.Fatalf("publish group %d: %v", g, err)
		}
	}
	return time.Since(start)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// BenchmarkApply1000APIs applies 1 000 new APIs (10 groups) into an empty
// store and into one holding 9 000 published APIs, side by side; the
// ratio must stay within targetApplyRatio.
func BenchmarkApply1000APIs(b *testing.B) {
	_, empty := newScaleStore(b)
	_, full := newScaleStore(b)
	fill(b, full, 90, true)
	ctx := admintest.Context(b)
	var tEmpty, tFull time.Duration
	i := 0
	for b.Loop() {
		i++
		runs := []struct {
			c adminv1.AdminServiceClient
			t *time.Duration
		}{{empty, &tEmpty}, {full, &tFull}}
		if i%2 == 0 { // alternate which store goes first
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, s := range runs {
			start := time.Now()
			if _, err := s.c.Apply(ctx, groupsDoc("new", 0, 10)); err != nil {
				b.Fatal(err)
			}
			*s.t += time.Since(start)
			if _, err := s.c.Apply(ctx, deleteGroupsDoc("new", 0, 10)); err != nil {
				b.Fatal(err)
			}
		}
	}
	n := time.Duration(b.N)
	b.ReportMetric(seconds(tEmpty/n), "s-empty")
	b.ReportMetric(seconds(tFull/n), "s-9k")
	b.ReportMetric(float64(tFull)/float64(tEmpty), "ratio")
	b.ReportMetric(float64(tFull)/float64(tEmpty)/targetApplyRatio, "ratio/target")
}

// BenchmarkPublishGroup publishes the 100 APIs of a group in one batch at
// 1 000 and at 10 000 published APIs, side by side.
func BenchmarkPublishGroup(b *testing.B) {
	_, small := newScaleStore(b)
	fill(b, small, 10, true)
	_, large := newScaleStore(b)
	fill(b, large, 100, true)
	ctx := admintest.Context(b)
	var tSmall, tLarge time.Duration
	i := 0
	for b.Loop() {
		i++
		runs := []struct {
			c adminv1.AdminServiceClient
			t *time.Duration
		}{{small, &tSmall}, {large, &tLarge}}
		if i%2 == 0 { // alternate which store goes first
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, s := range runs {
			start := time.Now()
			if _, err := s.c.PublishBatch(ctx, publishGroup(scaleGroupID("", i%10), fmt.Sprint(i+1))); err != nil {
				b.Fatal(err)
			}
			*s.t += time.Since(start)
		}
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((tSmall / n).Milliseconds()), "ms-1k")
	b.ReportMetric(float64((tLarge / n).Milliseconds()), "ms-10k")
	b.ReportMetric(float64(tLarge)/float64(tSmall), "ratio")
	b.ReportMetric(float64(tLarge/n)/float64(targetPublishGroup), "10k/target")
}

// BenchmarkPublishAll10k publishes 10 000 APIs, one batch per group (as
// apigctl publish --all --group does for each group), into a store that
// holds them unpublished.
func BenchmarkPublishAll10k(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		_, c := newScaleStore(b)
		fill(b, c, 100, false)
		b.StartTimer()
		ctx := admintest.Context(b)
		start := time.Now()
		for g := range 100 {
			if _, err := c.PublishBatch(ctx, publishGroup(scaleGroupID("", g), "1")); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(seconds(per), "s-all")
	b.ReportMetric(float64(per)/float64(targetPublishAll), "all/target")
}

// BenchmarkApplyPublishOneAPI changes one API (Apply) and publishes it
// (Publish, the per-API call) at 1 000 and at 10 000 published APIs.
func BenchmarkApplyPublishOneAPI(b *testing.B) {
	_, small := newScaleStore(b)
	fill(b, small, 10, true)
	_, large := newScaleStore(b)
	fill(b, large, 100, true)
	ctx := admintest.Context(b)
	var tSmall, tLarge time.Duration
	i := 0
	for b.Loop() {
		i++
		runs := []struct {
			c adminv1.AdminServiceClient
			t *time.Duration
		}{{small, &tSmall}, {large, &tLarge}}
		if i%2 == 0 { // alternate which store goes first
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, s := range runs {
			api := scaleAPI(scaleGroupID("", i%10), i%100)
			api.Remark = fmt.Sprint("change ", i)
			start := time.Now()
			if _, err := s.c.Apply(ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(api)}}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.c.Publish(ctx, &adminv1.PublishRequest{ApiId: api.Id}); err != nil {
				b.Fatal(err)
			}
			*s.t += time.Since(start)
		}
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((tSmall/n).Microseconds())/1000, "ms-1k")
	b.ReportMetric(float64((tLarge/n).Microseconds())/1000, "ms-10k")
	b.ReportMetric(float64(tLarge/n)/float64(targetApplyPublishOne), "10k/target")
}
