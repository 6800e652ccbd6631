package inputs

import (
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// View reads a Snapshot and records every lookup with its result. Every
// exported method is a recorded lookup; it returns what the instance
// holds, which must never be modified.
type View struct {
	s   *Snapshot
	rec Record
}

// Track returns a View that starts an empty Record.
func (s *Snapshot) Track() *View {
	// A translation makes a handful of lookups: each View's first ones go
	// to a slice of a chunk shared by many Views, instead of growing a
	// slice of its own from one element.
	const perView, views = 10, 128
	if len(s.chunk) < perView {
		s.chunk = make([]read, perView*views)
	}
	v := &View{s: s, rec: Record{reads: s.chunk[:0:perView]}}
	s.chunk = s.chunk[perView:]
	return v
}

// Record returns what the View has read so far.
func (v *View) Record() Record { return v.rec }

// result is a lookup's result as the type its method returns.
func result[T any](x any, _ string) T {
	r, _ := x.(T)
	return r
}

func (v *View) read(o op, a, b string) (any, string) {
	x, str := v.s.eval(o, a, b)
	v.rec.mask |= 1 << o
	if n := len(v.rec.reads); n > 0 {
		if last := &v.rec.reads[n-1]; last.op == o && last.a == a && last.b == b {
			return x, str // the same lookup again: nothing new to record
		}
	}
	v.rec.reads = append(v.rec.reads, read{op: o, a: a, b: b, v: x, s: str})
	return x, str
}

// Name returns the instance's name (Envoy's node.cluster).
func (v *View) Name() string {
	_, s := v.read(opName, "", "")
	return s
}

// Config returns the instance parameters with defaults filled in.
func (v *View) Config() *apigwv1.InstanceConfig {
	return result[*apigwv1.InstanceConfig](v.read(opConfig, "", ""))
}

// ServedAll returns every current publication record, sorted by (API id,
// environment id).
func (v *View) ServedAll() []*apigwv1.Publication {
	return result[[]*apigwv1.Publication](v.read(opServedAll, "", ""))
}

// Env returns an environment by id.
func (v *View) Env(id string) *apigwv1.Environment {
	return result[*apigwv1.Environment](v.read(opEnv, id, ""))
}

// HasGroup reports whether a group exists (without depending on its
// definition).
func (v *View) HasGroup(id string) bool {
	x, _ := v.read(opHasGroup, id, "")
	return x == true
}

// Group returns a group by id (nil when it does not exist).
func (v *View) Group(id string) *apigwv1.ApiGroup {
	return result[*apigwv1.ApiGroup](v.read(opGroup, id, ""))
}

// Groups returns every group, sorted by id.
func (v *View) Groups() []*apigwv1.ApiGroup {
	return result[[]*apigwv1.ApiGroup](v.read(opGroups, "", ""))
}

// Authorizer returns a custom authorizer by id.
func (v *View) Authorizer(id string) *apigwv1.Authorizer {
	return result[*apigwv1.Authorizer](v.read(opAuthorizer, id, ""))
}

// Channel returns a load-balance channel by id.
func (v *View) Channel(id string) *apigwv1.VpcChannel {
	return result[*apigwv1.VpcChannel](v.read(opChannel, id, ""))
}

// Certificate returns a certificate by id.
func (v *View) Certificate(id string) *apigwv1.Certificate {
	return result[*apigwv1.Certificate](v.read(opCertificate, id, ""))
}

// ThrottleFor returns the throttling policy bound to (API, environment).
func (v *View) ThrottleFor(apiID, envID string) *apigwv1.Throttle {
	return result[*apigwv1.Throttle](v.read(opThrottleFor, apiID, envID))
}

// PluginsFor returns the plug-ins bound to (API, environment).
func (v *View) PluginsFor(apiID, envID string) []*apigwv1.Plugin {
	return result[[]*apigwv1.Plugin](v.read(opPluginsFor, apiID, envID))
}

// KafkaLogHeaders returns the request and response headers the
// instance's kafka_log plug-ins write (lower case, sorted).
func (v *View) KafkaLogHeaders() (req, resp []string) {
	_, s := v.read(opKafkaLogHeaders, "", "")
	r, q, _ := strings.Cut(s, "|")
	return splitNames(r), splitNames(q)
}

func splitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// OIDCPlugins returns the oidc_auth plug-ins bound to at least one API,
// sorted by id (client secrets included: they go to SDS secrets).
func (v *View) OIDCPlugins() []*apigwv1.Plugin {
	return result[[]*apigwv1.Plugin](v.read(opOIDCPlugins, "", ""))
}

// ProxyCachePlugins returns the instance's proxy_cache plug-ins, sorted by
// id (the HTTP filters their rules need).
func (v *View) ProxyCachePlugins() []*apigwv1.Plugin {
	return result[[]*apigwv1.Plugin](v.read(opProxyCachePlugins, "", ""))
}

// ACLsFor returns the ACL policies bound to (API, environment).
func (v *View) ACLsFor(apiID, envID string) []*apigwv1.Acl {
	return result[[]*apigwv1.Acl](v.read(opACLsFor, apiID, envID))
}

// Signed reports whether a backend signature key is bound to (API,
// environment): ext_authz signs its backend requests. The key itself never
// reaches the translator.
func (v *View) Signed(apiID, envID string) bool {
	_, s := v.read(opSigned, apiID, envID)
	return s != ""
}

// Blocked returns why an API cannot be served in an environment with every
// restriction configured for it ("" when it can); see model.Instance.
func (v *View) Blocked(apiID, envID string) string {
	_, s := v.read(opBlocked, apiID, envID)
	return s
}

// BlockedApps returns the ids of the apps whose calls are refused, sorted.
func (v *View) BlockedApps() []string {
	return result[[]string](v.read(opBlockedApps, "", ""))
}

// AppBlocked returns why calls made with an app are refused ("" when they
// are not).
func (v *View) AppBlocked(appID string) string {
	_, s := v.read(opAppBlocked, appID, "")
	return s
}

// ResponseSet returns a group's gateway-response set by id or name (empty:
// the set named "default"), or nil, as model.Instance.ResponseSet does.
func (v *View) ResponseSet(groupID, ref string) *apigwv1.GatewayResponse {
	return result[*apigwv1.GatewayResponse](v.read(opResponseSet, groupID, ref))
}

// ResponseSets returns every gateway-response set, sorted by id.
func (v *View) ResponseSets() []*apigwv1.GatewayResponse {
	return result[[]*apigwv1.GatewayResponse](v.read(opResponseSets, "", ""))
}

// Hosts returns the hosts a group answers (lower case, sorted): its debug
// sub-domain unless disabled and its bound domains, wildcards included,
// without those an earlier group (by id) already answers.
func (v *View) Hosts(groupID string) []string {
	return result[[]string](v.read(opHosts, groupID, ""))
}

// HostProblems reports the domains left out because an earlier group
// already answers them.
func (v *View) HostProblems() []model.APIProblem {
	return result[[]model.APIProblem](v.read(opHostProblems, "", ""))
}
