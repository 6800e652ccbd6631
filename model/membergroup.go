package model

import (
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// groupBackend is an HTTP backend of an API calling the member groups of
// a channel (vpc_channel_status 4, docs/apig-semantics.md#member-group-backends).
type groupBackend struct {
	field   string // backend_api or policy_https[i]
	channel string
	urls    []*apigwv1.MemberGroupUrlInfo
}

// groupBackends lists the backends of an API that call member groups.
func groupBackends(a *apigwv1.Api) []groupBackend {
	var out []groupBackend
	if b := a.GetBackendApi(); a.GetBackendType() == BackendHTTP && b.GetVpcChannelStatus() == ChannelMemberGroups {
		out = append(out, groupBackend{"backend_api", b.GetVpcChannelInfo().GetVpcChannelId(), b.MemberGroupUrlInfos})
	}
	for i, p := range a.GetPolicyHttps() {
		if p.VpcChannelStatus == ChannelMemberGroups {
			out = append(out, groupBackend{index("policy_https", i), p.GetVpcChannelInfo().GetVpcChannelId(), p.MemberGroupUrlInfos})
		}
	}
	return out
}

// FindMemberGroup returns the member group of a channel a URL names (by
// id, else by name), nil if the channel has none.
func FindMemberGroup(ch *apigwv1.VpcChannel, u *apigwv1.MemberGroupUrlInfo) *apigwv1.MemberGroup {
	for _, g := range ch.GetMemberGroups() {
		if u.MemberGroupId != "" && g.MemberGroupId == u.MemberGroupId || u.MemberGroupId == "" && g.MemberGroupName == u.MemberGroupName {
			return g
		}
	}
	return nil
}

func groupURLField(u *apigwv1.MemberGroupUrlInfo) (field, ref string) {
	if u.MemberGroupId != "" {
		return "member_group_id", u.MemberGroupId
	}
	return "member_group_name", u.MemberGroupName
}

// checkGroupBackends refuses, for an API (or the API of a publication
// record, under prefix), member-group URLs naming a group their channel
// does not have, and member-group backends on an API bound to a backend
// signature key in envID ("" for any environment): ext_authz would sign
// the backend's path, not the group's.
func (in *Instance) checkGroupBackends(c checker, prefix string, a *apigwv1.Api, apiID, envID string) {
	gbs := groupBackends(a)
	for _, b := range gbs {
		ch := in.Channel(b.channel)
		if ch == nil {
			continue // the reference check reports it
		}
		for i, u := range b.urls {
			if FindMemberGroup(ch, u) == nil {
				f, ref := groupURLField(u)
				c.add(join(prefix, b.field+"."+index("member_group_url_infos", i)+"."+f), "channel %s has no member group %q", ch.Name, ref)
			}
		}
	}
	if len(gbs) == 0 {
		return
	}
	for _, id := range in.ReferrerIDs(KindAPI, apiID, KindSignBinding) {
		if b := get[*apigwv1.SignatureBinding](in, KindSignBinding, id); b != nil && (envID == "" || b.EnvId == envID) {
			c.add(join(prefix, gbs[0].field+".vpc_channel_status"), "backends calling member groups cannot be signed, and signature key binding %s signs this API in environment %s", id, b.EnvId)
			return
		}
	}
}

// checkChannelGroupsUsed refuses a channel that drops a member group an
// API or a served publication calls.
func (in *Instance) checkChannelGroupsUsed(c checker, ch *apigwv1.VpcChannel) {
	for _, r := range in.Referrers(KindVpcChannel, ch.Id) {
		var a *apigwv1.Api
		switch o := in.Get(r.Kind, r.ID).(type) {
		case *apigwv1.Api:
			a = o
		case *apigwv1.Publication:
			a = o.Api
		}
		for _, b := range groupBackends(a) {
			if b.channel != ch.Id {
				continue
			}
			for _, u := range b.urls {
				if FindMemberGroup(ch, u) == nil {
					_, ref := groupURLField(u)
					c.add("member_groups", "%s %s (%s) calls member group %q", r.Kind, r.ID, a.GetName(), ref)
				}
			}
		}
	}
}

// checkSignatureOfGroups refuses binding a signature key to an API whose
// draft or served publication in the environment calls member groups.
func (in *Instance) checkSignatureOfGroups(c checker, b *apigwv1.SignatureBinding) {
	apis := []*apigwv1.Api{get[*apigwv1.Api](in, KindAPI, b.ApiId)}
	if p := in.Served(b.ApiId, b.EnvId); p != nil {
		apis = append(apis, p.Api)
	}
	for _, a := range apis {
		if gbs := groupBackends(a); len(gbs) > 0 {
			c.add("api_id", "the API's %s calls member groups, and backends calling member groups cannot be signed (the signature would cover the backend's path, not the group's)", gbs[0].field)
			return
		}
	}
}

// checkReferenceChannel refuses a reference channel pointing at a
// reference channel (one level only), and a channel turned into a
// reference channel while another reference channel points at it.
func (in *Instance) checkReferenceChannel(c checker, ch *apigwv1.VpcChannel) {
	if ch.Type != ChannelReference {
		return
	}
	for i, g := range ch.MemberGroups {
		if g.ReferenceVpcChannelId == ch.Id {
			c.add(index("member_groups", i)+".reference_vpc_channel_id", "a reference channel cannot point at itself")
		} else if t := in.Channel(g.ReferenceVpcChannelId); t != nil && t.Type == ChannelReference {
			c.add(index("member_groups", i)+".reference_vpc_channel_id", "channel %s is a reference channel itself; reference channels point at builtin channels", t.Name)
		}
	}
	for _, r := range in.Referrers(KindVpcChannel, ch.Id) {
		if r.Kind == KindVpcChannel && r.ID != ch.Id {
			c.add("type", "channel %s points at this channel (%s); it must stay builtin", r.ID, r.Field)
		}
	}
}
