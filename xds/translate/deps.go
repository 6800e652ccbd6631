package translate

import (
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// pubKey holds the objects a publication's translation reads; extra
// holds the rarer ones (ACLs, policy backends' channels and authorizers).
type pubKey struct {
	pub                *apigwv1.Publication
	def                *apigwv1.Instance
	env                *apigwv1.Environment
	hasGroup           bool
	throttle           *apigwv1.Throttle
	set, defaultSet    *apigwv1.GatewayResponse
	authorizer, backAz *apigwv1.Authorizer
	channel            *apigwv1.VpcChannel
	blocked            string
}

// depsView answers the lookups of pubDeps cheaply for a whole build.
type depsView struct {
	in   *model.Instance
	def  *apigwv1.Instance
	envs map[string]*apigwv1.Environment
	sets map[string][]*apigwv1.GatewayResponse
}

func newDepsView(in *model.Instance, def *apigwv1.Instance, envs map[string]*apigwv1.Environment) *depsView {
	v := &depsView{in: in, def: def, envs: envs, sets: map[string][]*apigwv1.GatewayResponse{}}
	for _, r := range model.List[*apigwv1.GatewayResponse](in, model.KindResponse) {
		v.sets[r.GroupId] = append(v.sets[r.GroupId], r)
	}
	return v
}

// responseSet mirrors model.Instance.ResponseSet.
func (v *depsView) responseSet(groupID, ref string) *apigwv1.GatewayResponse {
	if ref == "" {
		ref = model.DefaultResponse
	}
	for _, r := range v.sets[groupID] {
		if r.Id == ref || r.Name == ref {
			return r
		}
	}
	return nil
}

// pubDeps are the objects a publication's translation reads.
func (v *depsView) pubDeps(pub *apigwv1.Publication) (pubKey, []any) {
	in, api := v.in, pub.GetApi()
	k := pubKey{
		pub: pub, def: v.def, env: v.envs[pub.EnvId], hasGroup: in.Group(api.GetGroupId()) != nil,
		throttle: in.ThrottleFor(pub.ApiId, pub.EnvId),
		set:      v.responseSet(api.GetGroupId(), api.GetResponseId()), defaultSet: v.responseSet(api.GetGroupId(), ""),
		authorizer: in.Authorizer(api.GetAuthorizerId()), backAz: in.Authorizer(api.GetBackendApi().GetAuthorizerId()),
		channel: in.Channel(api.GetBackendApi().GetVpcChannelInfo().GetVpcChannelId()),
		blocked: in.Blocked(pub.ApiId, pub.EnvId),
	}
	var extra []any
	for _, a := range in.ACLsFor(pub.ApiId, pub.EnvId) {
		extra = append(extra, a)
	}
	for _, p := range api.GetPolicyHttps() {
		extra = append(extra, in.Authorizer(p.AuthorizerId), in.Channel(p.GetVpcChannelInfo().GetVpcChannelId()))
	}
	return k, extra
}
