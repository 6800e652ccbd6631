package translate

import (
	"regexp"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// replyCase is an Envoy-generated failure and the APIG error it becomes
// (spec §4.2-§4.3). Each matches by response flag or, for failures without
// a flag, by response code details. Mock bodies (direct_response) and
// ext_authz denials (UAEX, rendered by ext_authz) match none and pass
// through unchanged: no top-level body_format is set.
type replyCase struct {
	err     gwresp.Error
	flags   []string
	details string
	prefix  bool
}

var replyCases = []replyCase{
	{err: gwresp.ErrAPINotFound, flags: []string{"NR"}},
	{err: gwresp.ErrBackendTimeout, flags: []string{"UT"}},
	{err: gwresp.ErrNoBackend, flags: []string{"UH"}},
	{err: gwresp.ErrBackendUnavailable, flags: []string{"UF", "URX", "UC", "NC", "UPE", "UO", "DF"}},
	{err: gwresp.ErrThrottled, flags: []string{"RL"}},
	{err: gwresp.ErrInternal, flags: []string{"RLSE"}},
	{err: gwresp.ErrIPDenied, details: "rbac_access_denied", prefix: true},
	{err: gwresp.ErrEntityTooLarge, details: "request_payload_too_large"},
	{err: gwresp.ErrHeadersTooLarge, details: "http1.headers_too_large"},
	{err: gwresp.ErrInternal, details: "ext_authz_error"},
}

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
func localReplies(in *model.Instance, group *apigwv1.ApiGroup, custom []*apigwv1.ApiGroup, hostsOf map[string][]string) (*hcmv3.LocalReplyConfig, error) {
	var mappers []*hcmv3.ResponseMapper
	for _, g := range custom {
		hosts := authorityFilter(hostsOf[g.Id])
		for _, rc := range replyCases {
			if rc.err.Type == gwresp.ErrAPINotFound.Type || !customized(in, g.Id, rc.err.Type) || hosts == nil {
				continue
			}
			f, err := rc.filter()
			if err != nil {
				return nil, err
			}
			mappers = append(mappers, mapper(in, g.Id, rc.err, andFilter(f, hosts)))
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
		mappers = append(mappers, mapper(in, groupID, rc.err, f))
	}
	return &hcmv3.LocalReplyConfig{Mappers: mappers}, nil
}

func mapper(in *model.Instance, groupID string, e gwresp.Error, f *accesslogv3.AccessLogFilter) *hcmv3.ResponseMapper {
	rep := renderReply(in, groupID, "", e)
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
