package model_test

import (
	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// groupAPI calls two member groups of channel ch1.
func groupAPI() *apigwv1.Api {
	return &apigwv1.Api{Name: "get_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}",
		ReqParams: []*apigwv1.ReqParam{{Name: "id", Location: "PATH"}, {Name: "q", Location: "QUERY"}},
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", VpcChannelInfo: &apigwv1.VpcChannelInfo{VpcChannelId: "ch1"},
			MemberGroupUrlInfos: []*apigwv1.MemberGroupUrlInfo{
				{MemberGroupName: "blue", ReqUri: "/v1/pets/{id}"},
				{MemberGroupName: "green", ReqUri: "/v2/pets/{id}", ReqProtocol: "HTTPS"},
			}}}
}

func groupAPIWith(f func(a *apigwv1.Api)) *apigwv1.Api { a := groupAPI(); f(a); return a }

func TestMemberGroupBackendValidAndDefaulted(t *testing.T) {
	a := groupAPI()
	a.BackendParams = []*apigwv1.BackendParam{{Name: "X-Group", Location: "HEADER", Origin: "SYSTEM", Value: "$context.member_group_name"}}
	model.Normalize(a)
	if vs := model.Validate(a, model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
	b := a.BackendApi
	if b.VpcChannelStatus != model.ChannelMemberGroups {
		t.Errorf("vpc_channel_status = %d, want 4 (member-group URLs listed)", b.VpcChannelStatus)
	}
	u0, u1 := b.MemberGroupUrlInfos[0], b.MemberGroupUrlInfos[1]
	if u0.ReqProtocol != "HTTP" || u0.ReqMethod != "GET" || u1.ReqProtocol != "HTTPS" {
		t.Errorf("defaults: %v / %v", u0, u1)
	}
	paths := 0
	for _, p := range a.BackendParams {
		if p.Location == "PATH" && p.Name == "id" {
			paths++
		}
	}
	if paths != 1 {
		t.Errorf("the {id} of the group paths maps once to the path parameter, got %d PATH params: %v", paths, a.BackendParams)
	}
}

func TestMemberGroupBackendRules(t *testing.T) {
	run(t, []rule{
		{"status 4 without groups", groupAPIWith(func(a *apigwv1.Api) {
			a.BackendApi.VpcChannelStatus, a.BackendApi.MemberGroupUrlInfos, a.BackendApi.ReqUri = 4, nil, "/x"
		}), "backend_api.member_group_url_infos", "is required when vpc_channel_status is 4"},
		{"groups with status 1", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.VpcChannelStatus = 1 }),
			"backend_api.member_group_url_infos", "needs vpc_channel_status 4"},
		{"no channel", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.VpcChannelInfo = nil }),
			"backend_api.vpc_channel_info.vpc_channel_id", "is required when vpc_channel_status is 4"},
		{"unnamed group", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[1].MemberGroupName = "" }),
			"backend_api.member_group_url_infos[1].member_group_name", "is required"},
		{"id and name", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[0].MemberGroupId = "mg-1" }),
			"backend_api.member_group_url_infos[0].member_group_id", "not both"},
		{"bad group name", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[0].MemberGroupName = "1x" }),
			"backend_api.member_group_url_infos[0].member_group_name", "must be 3-64"},
		{"twice", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[1].MemberGroupName = "blue" }),
			"backend_api.member_group_url_infos[1].member_group_name", "listed twice"},
		{"grpc", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[1].ReqProtocol = "GRPC" }),
			"backend_api.member_group_url_infos[1].req_protocol", "must be one of"},
		{"other method", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[1].ReqMethod = "POST" }),
			"backend_api.member_group_url_infos[1].req_method", "must be the backend's req_method (GET)"},
		{"relative path", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[0].ReqUri = "v1" }),
			"backend_api.member_group_url_infos[0].req_uri", "must start with /"},
		{"query in path", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.MemberGroupUrlInfos[0].ReqUri = "/v1?x=1" }),
			"backend_api.member_group_url_infos[0].req_uri", "query string"},
		{"path variable from a query", groupAPIWith(func(a *apigwv1.Api) {
			a.BackendApi.MemberGroupUrlInfos[0].ReqUri = "/v1/{q}"
			a.BackendParams = []*apigwv1.BackendParam{{Name: "q", Location: "PATH", Origin: "REQUEST", Value: "q"}}
		}), "backend_params[0].origin", "constants or path parameters"},
		{"group param without groups", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = append(a.BackendParams, &apigwv1.BackendParam{Name: "X-G", Location: "HEADER", Origin: "SYSTEM", Value: "$context.member_group_id"})
		}), "backend_params[0].value", "only known on a backend that calls member groups"},
		{"group param in query", groupAPIWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "g", Location: "QUERY", Origin: "SYSTEM", Value: "member_group_name"}}
		}), "backend_params[0].value", "only be sent in a HEADER"},
		{"policy group", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = []*apigwv1.PolicyHttp{{Name: "canary", Conditions: []*apigwv1.Condition{{ConditionOrigin: "param", ReqParamName: "q", ConditionType: "exact", ConditionValue: "1"}},
				ReqUri: "/x", VpcChannelStatus: 4, VpcChannelInfo: &apigwv1.VpcChannelInfo{VpcChannelId: "ch1"},
				MemberGroupUrlInfos: []*apigwv1.MemberGroupUrlInfo{{MemberGroupName: "blue", ReqUri: "x"}}}}
		}), "policy_https[0].member_group_url_infos[0].req_uri", "must start with /"},
		{"status 3", groupAPIWith(func(a *apigwv1.Api) { a.BackendApi.VpcChannelStatus = 3 }),
			"backend_api.vpc_channel_status", "must be 1 (use a channel), 2 (no channel) or 4"},
		{"reference channel without groups", &apigwv1.VpcChannel{Name: "ref", Type: "reference"}, "member_groups", "needs member groups"},
		{"reference group without channel", refChannelWith(func(c *apigwv1.VpcChannel) { c.MemberGroups[1].ReferenceVpcChannelId = "" }),
			"member_groups[1].reference_vpc_channel_id", "is required"},
		{"reference channel with members", refChannelWith(func(c *apigwv1.VpcChannel) { c.Members = []*apigwv1.Member{{Host: "10.0.0.1"}} }),
			"members", "no members of its own"},
		{"reference channel with a port", refChannelWith(func(c *apigwv1.VpcChannel) { c.Port = 80 }), "port", "no port of its own"},
		{"reference channel with a strategy", refChannelWith(func(c *apigwv1.VpcChannel) { c.BalanceStrategy = 3 }), "balance_strategy", "splits by member_group_weight"},
		{"reference channel with a health check", refChannelWith(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig = &apigwv1.VpcHealthConfig{} }),
			"vpc_health_config", "no health check of its own"},
		{"reference group in a builtin channel", channelWith(func(c *apigwv1.VpcChannel) { c.MemberGroups[0].ReferenceVpcChannelId = "ch9" }),
			"member_groups[0].reference_vpc_channel_id", "only for reference channels"},
		{"microservice channel", &apigwv1.VpcChannel{Name: "ms", Port: 80, Type: "microservice"}, "type", "microservice channels"},
	})
}

func channelWith(f func(c *apigwv1.VpcChannel)) *apigwv1.VpcChannel {
	c := validChannel()
	c.MemberGroups = []*apigwv1.MemberGroup{{MemberGroupName: "blue", MemberGroupId: "mg-blue", MemberGroupWeight: 3}, {MemberGroupName: "green"}}
	c.Members[0].MemberGroupName = "blue"
	f(c)
	return c
}

func TestMemberGroupChannelRules(t *testing.T) {
	ok := channelWith(func(*apigwv1.VpcChannel) {})
	model.Normalize(ok)
	if vs := model.Validate(ok, model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))); len(vs) > 0 {
		t.Fatalf("valid channel with groups: %v", vs)
	}
	run(t, []rule{
		{"name twice", channelWith(func(c *apigwv1.VpcChannel) { c.MemberGroups[1].MemberGroupName = "blue" }), "member_groups[1].member_group_name", "defined twice"},
		{"id twice", channelWith(func(c *apigwv1.VpcChannel) { c.MemberGroups[1].MemberGroupId = "mg-blue" }), "member_groups[1].member_group_id", "used twice"},
		{"weight", channelWith(func(c *apigwv1.VpcChannel) { c.MemberGroups[0].MemberGroupWeight = 101 }), "member_groups[0].member_group_weight", ""},
		{"unknown group", channelWith(func(c *apigwv1.VpcChannel) { c.Members[1].MemberGroupName = "red" }), "members[1].member_group_name", "names no member group"},
	})
}

func refChannelWith(f func(c *apigwv1.VpcChannel)) *apigwv1.VpcChannel {
	c := &apigwv1.VpcChannel{Name: "split_ref", Type: "reference", MemberGroups: []*apigwv1.MemberGroup{
		{MemberGroupName: "stable", MemberGroupWeight: 9, ReferenceVpcChannelId: "ch1"},
		{MemberGroupName: "next", MemberGroupWeight: 1, ReferenceVpcChannelId: "ch2"},
	}}
	f(c)
	return c
}

func TestReferenceChannelValid(t *testing.T) {
	c := refChannelWith(func(*apigwv1.VpcChannel) {})
	model.Normalize(c)
	if vs := model.Validate(c, model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}
