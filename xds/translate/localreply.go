package translate

import (
	"regexp"
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// Throttling replies (flag RL) carry the body and headers the rate-limit
// service rendered with the API's response set; Envoy sends them with the
// filter's 429, so mappers only move the status to the one the service
// asked for in its dynamic metadata (405 for APIG.0501, or a response
// set's custom status).

// replyCase is an Envoy-generated failure and the APIG error it becomes
// (gwresp.LocalReplies, docs/apig-semantics.md#error-catalog). Each matches
// by response flag or, for failures without a flag, by response code
// details. Mock bodies (direct_response) and ext_authz denials (UAEX,
// rendered by ext_authz) match none and pass through unchanged: no
// top-level body_format is set.
type replyCase struct {
	err     gwresp.Error
	flags   []string
	details string
	prefix  bool
}

var replyCases = func() []replyCase {
	var out []replyCase
	for _, r := range gwresp.LocalReplies() {
		out = append(out, replyCase{err: r.Err, flags: r.Flags, details: r.Details, prefix: r.Prefix})
	}
	return out
}()

func (rc replyCase) filter() (*accesslogv3.AccessLogFilter, error) {
	if len(rc.flags) > 0 {
		return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: rc.flags},
		}}, nil
	}
	expr := "response.code_details == '" + rc.details + "'"
	if rc.prefix {
		expr = "response.code_details.startsWith('" + rc.details + "')"
	}
	cfg, err := toAny(&celv3.ExpressionFilter{Expression: expr})
	if err != nil {
		return nil, err
	}
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{ExtensionFilter: &accesslogv3.ExtensionFilter{
		Name: "envoy.access_loggers.extension_filters.cel", ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: cfg},
	}}}, nil
}

// localReplies returns the mappers of an HCM. With group set (an HTTPS
// chain serving one group) the group's templates apply to every reply;
// otherwise the groups listed in custom get mappers restricted to their
// hosts, ahead of mappers with the built-in templates.
func localReplies(v *inputs.View, group *apigwv1.ApiGroup, custom []*apigwv1.ApiGroup) (*hcmv3.LocalReplyConfig, error) {
	mappers := throttleStatusMappers(v)
	for _, g := range custom {
		hosts := authorityFilter(v.Hosts(g.Id))
		for _, rc := range replyCases {
			if rc.err.Type == gwresp.ErrAPINotFound.Type || !customized(v, g.Id, rc.err.Type) || hosts == nil {
				continue
			}
			f, err := rc.filter()
			if err != nil {
				return nil, err
			}
			mappers = append(mappers, mapper(v, g.Id, rc.err, andFilter(f, hosts)))
		}
	}
	groupID := ""
	if group != nil {
		groupID = group.Id
	}
	for _, rc := range replyCases {
		f, err := rc.filter()
		if err != nil {
			return nil, err
		}
		mappers = append(mappers, mapper(v, groupID, rc.err, f))
	}
	return &hcmv3.LocalReplyConfig{Mappers: mappers}, nil
}

func mapper(v *inputs.View, groupID string, e gwresp.Error, f *accesslogv3.AccessLogFilter) *hcmv3.ResponseMapper {
	rep := renderReply(v, groupID, "", e)
	return &hcmv3.ResponseMapper{Filter: f, StatusCode: wrapU32(rep.status), BodyFormatOverride: rep.body, HeadersToAdd: rep.headers}
}

// authorityFilter matches requests for any of the domains, with or
// without a port (wildcards match one label).
func authorityFilter(domains []string) *accesslogv3.AccessLogFilter {
	var fs []*accesslogv3.AccessLogFilter
	for _, d := range domains {
		var re string
		if rest, ok := strings.CutPrefix(d, "*."); ok {
			re = `^[^.:]+\.` + regexp.QuoteMeta(rest) + `(:[0-9]+)?$`
		} else {
			re = "^" + regexp.QuoteMeta(d) + `(:[0-9]+)?$`
		}
		fs = append(fs, &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_HeaderFilter{HeaderFilter: &accesslogv3.HeaderFilter{
			Header: &routev3.HeaderMatcher{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}},
			}}},
		}}})
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_OrFilter{OrFilter: &accesslogv3.OrFilter{Filters: fs}}}
}

func andFilter(a, b *accesslogv3.AccessLogFilter) *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_AndFilter{AndFilter: &accesslogv3.AndFilter{Filters: []*accesslogv3.AccessLogFilter{a, b}}}}
}

// throttleStatusMappers map the rate-limit service's requested status onto
// its over-limit replies (see above). A reply that matches none keeps 429
// and its body.
func throttleStatusMappers(v *inputs.View) []*hcmv3.ResponseMapper {
	statuses := map[uint32]bool{uint32(gwresp.ErrAppQuota.Status): true, uint32(gwresp.ErrPolicyUnavailable.Status): true}
	for _, set := range v.ResponseSets() {
		for _, typ := range []string{gwresp.ErrThrottled.Type, gwresp.ErrAppQuota.Type, gwresp.ErrPolicyUnavailable.Type} {
			if st := set.GetResponses()[typ].GetStatus(); st != 0 {
				statuses[uint32(st)] = true
			}
		}
	}
	delete(statuses, uint32(gwresp.ErrThrottled.Status))
	codes := make([]uint32, 0, len(statuses))
	for st := range statuses {
		codes = append(codes, st)
	}
	slices.Sort(codes)
	rl := &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
		ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"RL"}},
	}}
	out := make([]*hcmv3.ResponseMapper, 0, len(codes))
	for _, st := range codes {
		md := &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_MetadataFilter{MetadataFilter: &accesslogv3.MetadataFilter{
			Matcher: &matcherv3.MetadataMatcher{
				Filter: dataplane.RateLimitMetadataNamespace,
				Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: dataplane.RateLimitMetaStatus}}},
				Value:  &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_DoubleMatch{DoubleMatch: &matcherv3.DoubleMatcher{MatchPattern: &matcherv3.DoubleMatcher_Exact{Exact: float64(st)}}}},
			},
		}}}
		out = append(out, &hcmv3.ResponseMapper{Filter: andFilter(rl, md), StatusCode: wrapU32(st)})
	}
	return out
}
