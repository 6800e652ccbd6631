package translate

import (
	"regexp"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// throttleDims returns the rate-limit dimensions of a publication: api
// always (the instance default applies without a policy), user, app and ip
// when the bound policy limits them, and the credential quota for APP
// authentication.
func throttleDims(api *apigwv1.Api, t *apigwv1.Throttle) []string {
	var user, app bool
	for _, s := range t.GetSpecials() {
		user = user || s.ObjectType == model.SpecialUser
		app = app || s.ObjectType == model.SpecialApp
	}
	dims := []string{dataplane.RateLimitDimAPI}
	if t.GetUserCallLimits() > 0 || user {
		dims = append(dims, dataplane.RateLimitDimUser)
	}
	if t.GetAppCallLimits() > 0 || app {
		dims = append(dims, dataplane.RateLimitDimApp)
	}
	if t.GetIpCallLimits() > 0 {
		dims = append(dims, dataplane.RateLimitDimIP)
	}
	if api.AuthType == model.AuthApp {
		dims = append(dims, dataplane.RateLimitDimAppQuota)
	}
	return dims
}

// pluginDims returns the rate-limit dimensions of a publication with a
// rate_limit plug-in: api unless api_limit is -1, user, app and ip when
// the plug-in limits them (a default or a special), rule when it has
// rules, and the credential quota for APP authentication.
func pluginDims(api *apigwv1.Api, rl *model.RateLimit) []string {
	a, user, app, ip, rules := rl.Dims()
	var dims []string
	for _, d := range []struct {
		on  bool
		dim string
	}{{a, dataplane.RateLimitDimAPI}, {user, dataplane.RateLimitDimUser}, {app, dataplane.RateLimitDimApp}, {ip, dataplane.RateLimitDimIP},
		{rules, dataplane.RateLimitDimRule}, {api.AuthType == model.AuthApp, dataplane.RateLimitDimAppQuota}} {
		if d.on {
			dims = append(dims, d.dim)
		}
	}
	return dims
}

// subjectMetadata is the ext_authz dynamic-metadata key holding each
// dimension's subject.
var subjectMetadata = map[string]string{
	dataplane.RateLimitDimUser:     dataplane.ExtAuthzMetaAccountID,
	dataplane.RateLimitDimApp:      dataplane.ExtAuthzMetaAppID,
	dataplane.RateLimitDimAppQuota: dataplane.ExtAuthzMetaAppID,
	dataplane.RateLimitDimIP:       dataplane.ExtAuthzMetaClientIP,
	dataplane.RateLimitDimRule:     dataplane.ExtAuthzMetaRateLimitRule,
}

// rateLimits returns one RateLimit per dimension, each producing the
// descriptor of the dataplane scheme: instance, api_id, env_id, dim and,
// for dimensions with a subject, the subject read from ext_authz's dynamic
// metadata (the descriptor is dropped when ext_authz did not set it).
// Then the request and debug descriptors and, with a debugHost, the debug
// sub-domain's. Every action but the API's key is shared (rlParts).
func (sp *rlParts) rateLimits(inst, apiID, envID string, dims []string, debugHost string) []*routev3.RateLimit {
	out := make([]*routev3.RateLimit, 0, len(dims)+3) // + the debug sub-domain's
	k := sp.keys(inst, apiID, envID)
	for _, dim := range dims {
		more := []*routev3.RateLimit_Action{sp.genericKey(dataplane.RateLimitKeyDim, dim)}
		if key := dataplane.RateLimitSubjectKey(dim); key != "" {
			more = append(more, sp.action(partKey{"metadata", dim, ""}, func() *routev3.RateLimit_Action {
				return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_Metadata{
					Metadata: &routev3.RateLimit_Action_MetaData{
						DescriptorKey: key,
						MetadataKey: &metadatav3.MetadataKey{Key: dataplane.ExtAuthzMetadataNamespace,
							Path: []*metadatav3.MetadataKey_PathSegment{{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: subjectMetadata[dim]}}}},
						Source: routev3.RateLimit_Action_MetaData_DYNAMIC,
					},
				}}
			}))
		}
		out = append(out, &routev3.RateLimit{Actions: k.with(more...)})
	}
	out = append(out, sp.requestDescriptor(k), sp.debugDescriptor(k))
	if debugHost != "" {
		out = append(out, sp.debugDomainDescriptor(k, debugHost))
	}
	return out
}

// descriptorKeys are the first three actions of every descriptor of a
// publication: instance, api_id and env_id.
type descriptorKeys [3]*routev3.RateLimit_Action

func (sp *rlParts) keys(inst, apiID, envID string) descriptorKeys {
	return descriptorKeys{sp.genericKey(dataplane.RateLimitKeyInstance, inst), genericKey(dataplane.RateLimitKeyAPI, apiID),
		sp.genericKey(dataplane.RateLimitKeyEnv, envID)}
}

// with returns the keys followed by more actions, in a new slice.
func (k descriptorKeys) with(more ...*routev3.RateLimit_Action) []*routev3.RateLimit_Action {
	return append(append(make([]*routev3.RateLimit_Action, 0, len(k)+len(more)), k[:]...), more...)
}

// requestDescriptor carries the request id, method and path so that the
// rate-limit service can render $context.requestId, reqMethod, reqPath and
// reqUri in a 429/405 body. It is answered OK and never counted.
func (sp *rlParts) requestDescriptor(k descriptorKeys) *routev3.RateLimit {
	header := func(name, key string) *routev3.RateLimit_Action {
		return sp.action(partKey{"header", name, key}, func() *routev3.RateLimit_Action {
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
				RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: name, DescriptorKey: key, SkipIfAbsent: true},
			}}
		})
	}
	return &routev3.RateLimit{Actions: k.with(
		sp.genericKey(dataplane.RateLimitKeyDim, dataplane.RateLimitDimRequest),
		header("x-request-id", dataplane.RateLimitKeyRequestID), header(":method", dataplane.RateLimitKeyMethod), header(":path", dataplane.RateLimitKeyPath),
	)}
}

// debugDescriptor exists only for requests with X-Apig-Mode: debug; it
// asks the service for the X-Apig-RateLimit-* headers
// (docs/apig-semantics.md#debug-headers).
func (sp *rlParts) debugDescriptor(k descriptorKeys) *routev3.RateLimit {
	match := sp.action(partKey{"debug", "", ""}, func() *routev3.RateLimit_Action {
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
			DescriptorKey: dataplane.RateLimitDimDebug, DescriptorValue: "1", ExpectMatch: wrapperspb.Bool(true),
			Headers: []*routev3.HeaderMatcher{{Name: dataplane.RateLimitDebugHeader, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: dataplane.RateLimitDebugValue}, IgnoreCase: true},
			}}},
		}}}
	})
	return &routev3.RateLimit{Actions: k.with(sp.genericKey(dataplane.RateLimitKeyDim, dataplane.RateLimitDimDebug), match)}
}

func genericKey(key, value string) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
		GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: key, DescriptorValue: value},
	}}
}

// genericKey returns the shared generic-key action of a key and value
// (values from a small set: the instance, an environment, a dimension).
func (sp *rlParts) genericKey(key, value string) *routev3.RateLimit_Action {
	return sp.action(partKey{"generic", key, value}, func() *routev3.RateLimit_Action { return genericKey(key, value) })
}

// rlParts shares the rate-limit actions that are the same on many routes
// (instance, environment and dimension keys, subject metadata, header
// actions, the debug and debug sub-domain matches) between the
// publications a Builder translates: they were most of its memory at
// 10 000 APIs (5 descriptors of 5–7 actions per route). A shared action is
// never modified: the routes holding it are only marshalled, compared and
// validated, and app_route's copies are deep (proto.Clone). A nil *rlParts
// shares nothing.
type rlParts struct {
	mu      sync.Mutex
	actions map[partKey]*routev3.RateLimit_Action
}

// partKey names a shared action: its kind and what it is made of.
type partKey struct{ kind, a, b string }

// rlPartsMax bounds the shared actions (debug sub-domains come and go with
// groups); past it the table starts again, the routes keep theirs.
const rlPartsMax = 4096

func newRLParts() *rlParts { return &rlParts{actions: map[partKey]*routev3.RateLimit_Action{}} }

// action returns the shared action of key, made by mk the first time.
func (sp *rlParts) action(key partKey, mk func() *routev3.RateLimit_Action) *routev3.RateLimit_Action {
	if sp == nil {
		return mk()
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if a := sp.actions[key]; a != nil {
		return a
	}
	if len(sp.actions) >= rlPartsMax {
		clear(sp.actions)
	}
	a := mk()
	sp.actions[key] = a
	return a
}

// quotaDebugDomain returns the debug sub-domain of a group whose calls are
// limited per day ("" when the group has none, it is not callable, or the
// group switched the limit off).
func quotaDebugDomain(v *inputs.View, groupID string) string {
	g := v.Group(groupID)
	if g == nil || (g.SlDomainQuotaEnabled != nil && !g.GetSlDomainQuotaEnabled()) ||
		(g.SlDomainAccessEnabled != nil && !g.GetSlDomainAccessEnabled()) {
		return ""
	}
	return model.DebugDomain(groupID, v.Config())
}

// debugDomainDescriptor exists only for requests whose :authority is the
// group's debug sub-domain (with or without a port): the rate-limit
// service counts them per group and day.
func (sp *rlParts) debugDomainDescriptor(k descriptorKeys, host string) *routev3.RateLimit {
	match := sp.action(partKey{"debug_domain", host, ""}, func() *routev3.RateLimit_Action {
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
			DescriptorKey: dataplane.RateLimitDimDebugDomain, DescriptorValue: "1", ExpectMatch: wrapperspb.Bool(true),
			Headers: []*routev3.HeaderMatcher{{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
					SafeRegex: &matcherv3.RegexMatcher{Regex: "^(?i:" + regexp.QuoteMeta(host) + ")(:[0-9]+)?$"}}},
			}}},
		}}}
	})
	return &routev3.RateLimit{Actions: k.with(sp.genericKey(dataplane.RateLimitKeyDim, dataplane.RateLimitDimDebugDomain), match)}
}
