package admin_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A load balance channel a third_auth plug-in calls its service through
// (by id or by name) cannot be deleted, nor renamed when the plug-in
// names it, until the plug-in stops using it.
func TestThirdAuthChannelIsReferenced(t *testing.T) {
	e := setup(t)
	ch := e.create(t, &apigwv1.VpcChannel{Name: "auth_nodes", Port: 8080, Members: []*apigwv1.Member{{Host: "10.0.0.7", Weight: 1}}}).(*apigwv1.VpcChannel)
	content := func(ref string) string {
		return `{"auth_request":{"method":"GET","protocol":"HTTP","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"` + ref + `"}}}`
	}
	byName := e.create(t, &apigwv1.Plugin{PluginName: "third_by_name", PluginType: model.PluginThirdAuth, PluginContent: content("auth_nodes")}).(*apigwv1.Plugin)
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "vpc_channel", Id: ch.Id}); code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), byName.Id) {
		t.Fatalf("deleting a channel a plug-in names: %v", err)
	}
	renamed := proto.Clone(ch).(*apigwv1.VpcChannel)
	renamed.Name = "auth_pool"
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(renamed)}); err == nil || !strings.Contains(err.Error(), byName.Id) {
		t.Fatalf("renaming a channel a plug-in names: %v", err)
	}
	// By id: the rename is fine, the deletion is not.
	byName.PluginContent = content(ch.Id)
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(byName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(renamed)}); err != nil {
		t.Fatalf("renaming a channel a plug-in names by id: %v", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "vpc_channel", Id: ch.Id}); code(err) != codes.FailedPrecondition {
		t.Fatalf("deleting a channel a plug-in names by id: %v", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "plugin", Id: byName.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "vpc_channel", Id: ch.Id}); err != nil {
		t.Fatalf("deleting an unused channel: %v", err)
	}
	// A plug-in cannot name a channel that does not exist.
	if _, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Plugin{PluginName: "third_none", PluginType: model.PluginThirdAuth, PluginContent: content("nope")})}); code(err) != codes.InvalidArgument {
		t.Fatalf("a plug-in naming no channel: %v", err)
	}
}
