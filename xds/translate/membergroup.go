package translate

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// groupSplitDenominator is the resolution of the split between member
// groups (per million).
const groupSplitDenominator = 1_000_000

// groupVariantStride keeps the route variants of the member groups of one
// backend apart in the route order (group i's routes follow group i-1's).
const groupVariantStride = 1000

// groupSplit is one member group of a backend calling member groups
// (docs/xds.md#member-group-backends): its position and, except for the
// last group, the cumulative share of requests (per million) that its
// routes and those of the groups before it match.
type groupSplit struct {
	index int
	// upTo is the cumulative numerator; last groups have none.
	upTo uint32
	last bool
}

// split makes a route match the group's share of requests: Envoy draws one
// random value per stream and matches every route's runtime_fraction
// against the same value (value mod denominator < numerator), so routes
// with increasing cumulative numerators, in order, split the requests by
// the groups' weights. The value is the stream's, so the route matched
// again after ext_authz is the same group's.
func (g *groupSplit) split(r *routev3.Route) {
	if g == nil || g.last {
		return
	}
	r.Match.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
		Numerator: g.upTo, Denominator: typev3.FractionalPercent_MILLION,
	}}
}

// variant places a group's routes after those of the groups before it.
func (g *groupSplit) variant(n int) int {
	if g == nil {
		return n
	}
	return g.index*groupVariantStride + n
}

// backendTargets plans a backend: one target, or for an HTTP backend
// calling member groups (vpc_channel_status 4) or a reference channel one
// target per member group with a share of the requests
// (docs/apig-semantics.md#member-group-backends,
// docs/apig-semantics.md#reference-channels): each calls a cluster of that
// group's members (of a reference group, the referenced channel's cluster)
// with the group's protocol, method and path (a reference channel's groups
// all use the backend's), in proportion to member_group_weight; groups of
// weight 0 get none unless no group has a weight (then they share
// equally).
func (p *pubPlan) backendTargets(http *httpBackend, mock *mockBackend, params []*apigwv1.BackendParam) ([]target, bool, error) {
	if http == nil || !http.usesChannel() {
		t, d, err := p.target(http, mock, params)
		return []target{t}, d, err
	}
	ch := p.c.v.Channel(http.channelID)
	if ch == nil {
		return nil, false, fmt.Errorf("load-balance channel %s does not exist", http.channelID)
	}
	urls := http.groups
	ownURLs := len(urls) > 0
	if !ownURLs {
		if ch.Type != model.ChannelReference {
			t, d, err := p.target(http, mock, params)
			return []target{t}, d, err
		}
		// A reference channel: every group, with the backend's URL.
		for _, g := range ch.MemberGroups {
			urls = append(urls, &apigwv1.MemberGroupUrlInfo{MemberGroupName: g.MemberGroupName, ReqProtocol: http.protocol, ReqMethod: http.method, ReqUri: http.uri})
		}
	}
	if ownURLs && p.c.v.Signed(p.api.Id, p.env.Id) {
		return nil, false, fmt.Errorf("a backend signature key is bound, and backends calling member groups cannot be signed (ext_authz signs the backend's req_uri, not the group's)")
	}
	groups := make([]*apigwv1.MemberGroup, len(urls))
	var total int64
	for i, u := range urls {
		g := model.FindMemberGroup(ch, u)
		if g == nil {
			return nil, false, fmt.Errorf("member_group_url_infos[%d]: channel %s has no member group %s", i, ch.Name, groupRef(u))
		}
		if ref := g.ReferenceVpcChannelId; ref != "" {
			if rc := p.c.v.Channel(ref); rc == nil || rc.Type == model.ChannelReference {
				return nil, false, fmt.Errorf("member group %s of reference channel %s: channel %s does not exist or is a reference channel", g.MemberGroupName, ch.Name, ref)
			}
		}
		groups[i] = g
		total += int64(max(g.MemberGroupWeight, 0))
	}
	weight := func(g *apigwv1.MemberGroup) int64 {
		if total == 0 {
			return 1
		}
		return int64(max(g.MemberGroupWeight, 0))
	}
	sum := int64(0)
	lastIdx := -1
	for i, g := range groups {
		sum += weight(g)
		if weight(g) > 0 {
			lastIdx = i
		}
	}
	var out []target
	delegated := false
	cum := int64(0)
	for i, u := range urls {
		g := groups[i]
		w := weight(g)
		if w == 0 {
			continue
		}
		cum += w
		b := *http
		b.protocol, b.method, b.uri, b.groups, b.group = u.ReqProtocol, u.ReqMethod, u.ReqUri, nil, g
		if g.ReferenceVpcChannelId != "" {
			b.channelID = g.ReferenceVpcChannelId
		}
		t, d, err := p.target(&b, nil, params)
		if err != nil {
			return nil, false, fmt.Errorf("member group %s: %v", g.MemberGroupName, err)
		}
		for _, a := range t.actions {
			if ownURLs && a.route.GetPathRewrite() == metadataPathRewrite {
				return nil, false, fmt.Errorf("member group %s: its path %s needs ext_authz to be computed (path variables from headers, queries or system parameters), which backends calling member groups do not support", g.MemberGroupName, u.ReqUri)
			}
		}
		t.group = &groupSplit{index: i, upTo: uint32(cum * groupSplitDenominator / sum), last: i == lastIdx}
		delegated = delegated || d
		out = append(out, t)
	}
	return out, delegated, nil
}

func groupRef(u *apigwv1.MemberGroupUrlInfo) string {
	if u.MemberGroupId != "" {
		return "with id " + u.MemberGroupId
	}
	return u.MemberGroupName
}
