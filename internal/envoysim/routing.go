package envoysim

import (
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	uritemplatematchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
)

// routeConfig returns the RouteConfiguration an HCM uses for a request:
// inline, by RDS name, or by scoped RDS keyed on request headers. nil
// (no error) means no scope matched: Envoy answers 404 (NR).
func (c *Config) routeConfig(h *hcmv3.HttpConnectionManager, hdr *Headers) (*routev3.RouteConfiguration, error) {
	switch rs := h.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_RouteConfig:
		return rs.RouteConfig, nil
	case *hcmv3.HttpConnectionManager_Rds:
		rc := c.Routes[rs.Rds.GetRouteConfigName()]
		if rc == nil {
			return nil, fmt.Errorf("route configuration %s not received", rs.Rds.GetRouteConfigName())
		}
		return rc, nil
	case *hcmv3.HttpConnectionManager_ScopedRoutes:
		key, ok, err := scopeKey(rs.ScopedRoutes.GetScopeKeyBuilder(), hdr)
		if err != nil || !ok {
			return nil, err
		}
		for _, s := range c.Scopes {
			if s.GetOnDemand() {
				return nil, fmt.Errorf("scope %s: on-demand scopes are not emulated", s.GetName())
			}
			if scopeMatches(s.GetKey(), key) {
				rc := c.Routes[s.GetRouteConfigurationName()]
				if rc == nil {
					return nil, fmt.Errorf("scope %s: route configuration %s not received", s.GetName(), s.GetRouteConfigurationName())
				}
				return rc, nil
			}
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("route specifier %T is not emulated", rs)
	}
}

func scopeKey(b *hcmv3.ScopedRoutes_ScopeKeyBuilder, hdr *Headers) ([]string, bool, error) {
	var key []string
	for _, f := range b.GetFragments() {
		x := f.GetHeaderValueExtractor()
		if x == nil {
			return nil, false, fmt.Errorf("scope key fragment %v is not emulated", f)
		}
		v, ok := hdr.Get(x.GetName())
		if !ok {
			return nil, false, nil
		}
		if x.GetElement() != nil {
			return nil, false, fmt.Errorf("scope key element extraction is not emulated")
		}
		parts := []string{v}
		if x.GetElementSeparator() != "" {
			parts = strings.Split(v, x.GetElementSeparator())
		}
		if int(x.GetIndex()) >= len(parts) {
			return nil, false, nil
		}
		key = append(key, parts[x.GetIndex()])
	}
	return key, true, nil
}

func scopeMatches(k *routev3.ScopedRouteConfiguration_Key, key []string) bool {
	fs := k.GetFragments()
	if len(fs) != len(key) {
		return false
	}
	for i, f := range fs {
		if f.GetStringKey() != key[i] {
			return false
		}
	}
	return true
}

// virtualHost selects the virtual host for :authority: exact domains,
// then suffix wildcards (longest first), then prefix wildcards, then "*".
func virtualHost(rc *routev3.RouteConfiguration, authority string) *routev3.VirtualHost {
	host := strings.ToLower(authority)
	if rc.GetIgnorePortInHostMatching() {
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
			if _, err := strconv.Atoi(host[i+1:]); err == nil {
				host = host[:i]
			}
		}
	}
	var exact, suffix, prefix, any *routev3.VirtualHost
	suffixLen, prefixLen := -1, -1
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			switch {
			case d == "*":
				any = vh
			case d == host:
				exact = vh
			case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1 && len(d) > suffixLen:
				suffix, suffixLen = vh, len(d)
			case strings.HasSuffix(d, "*") && strings.HasPrefix(host, d[:len(d)-1]) && len(host) > len(d)-1 && len(d) > prefixLen:
				prefix, prefixLen = vh, len(d)
			}
		}
	}
	for _, vh := range []*routev3.VirtualHost{exact, suffix, prefix, any} {
		if vh != nil {
			return vh
		}
	}
	return nil
}

// selectRoute returns the first route of vh matching the request; random
// is the stream's random value the routes' runtime_fraction use.
func selectRoute(vh *routev3.VirtualHost, hdr *Headers, random uint64) (*routev3.Route, error) {
	if vh.GetMatcher() != nil {
		return nil, fmt.Errorf("virtual host %s: matcher trees are not emulated", vh.GetName())
	}
	for _, r := range vh.GetRoutes() {
		ok, err := routeMatches(r.GetMatch(), hdr)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", r.GetName(), err)
		}
		if ok && r.GetMatch().GetRuntimeFraction() != nil {
			ok, err = runtimeFractionMatches(r.GetMatch().GetRuntimeFraction(), random)
			if err != nil {
				return nil, fmt.Errorf("route %s: %w", r.GetName(), err)
			}
		}
		if ok {
			return r, nil
		}
	}
	return nil, nil
}

// routeMatches applies a RouteMatch: the path (without query) and every
// header and query-parameter matcher.
func routeMatches(m *routev3.RouteMatch, hdr *Headers) (bool, error) {
	if err := onlyEmulatedMatch(m); err != nil {
		return false, err
	}
	path := hdr.path()
	caseSensitive := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	eq := func(a, b string) bool { return a == b || !caseSensitive && strings.EqualFold(a, b) }
	hasPrefix := func(s, p string) bool { return len(s) >= len(p) && eq(s[:len(p)], p) }
	var ok bool
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		ok = hasPrefix(path, p.Prefix)
	case *routev3.RouteMatch_Path:
		ok = eq(path, p.Path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		ok = eq(path, p.PathSeparatedPrefix) || hasPrefix(path, p.PathSeparatedPrefix+"/")
	case *routev3.RouteMatch_SafeRegex:
		re, err := fullRegexp(p.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		ok = re.MatchString(path)
	case *routev3.RouteMatch_PathMatchPolicy:
		t, err := matchTemplate(m)
		if err != nil {
			return false, err
		}
		ok = t.match(path) != nil
	default:
		return false, fmt.Errorf("path specifier %T is not emulated", p)
	}
	if !ok {
		return false, nil
	}
	for _, h := range m.GetHeaders() {
		if ok, err := matchHeader(h, hdr); err != nil || !ok {
			return false, err
		}
	}
	for _, q := range m.GetQueryParameters() {
		if ok, err := matchQuery(q, hdr.query()); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// runtimeFractionMatches applies a route's runtime_fraction the way Envoy
// does with no runtime override: the stream's random value modulo the
// denominator is below the numerator. Envoy uses the same value for every
// route of a selection (and every selection of the stream), so routes with
// increasing numerators split requests.
func runtimeFractionMatches(f *corev3.RuntimeFractionalPercent, random uint64) (bool, error) {
	if f.GetRuntimeKey() != "" {
		return false, fmt.Errorf("runtime_fraction runtime_key %q: runtime is not emulated", f.GetRuntimeKey())
	}
	d := map[typev3.FractionalPercent_DenominatorType]uint64{
		typev3.FractionalPercent_HUNDRED: 100, typev3.FractionalPercent_TEN_THOUSAND: 10_000, typev3.FractionalPercent_MILLION: 1_000_000,
	}[f.GetDefaultValue().GetDenominator()]
	if d == 0 {
		return false, fmt.Errorf("runtime_fraction denominator %v is not emulated", f.GetDefaultValue().GetDenominator())
	}
	return random%d < uint64(f.GetDefaultValue().GetNumerator()), nil
}

func onlyEmulatedMatch(m *routev3.RouteMatch) error {
	rest := proto.Clone(m).(*routev3.RouteMatch)
	rest.PathSpecifier, rest.CaseSensitive, rest.Headers, rest.QueryParameters, rest.RuntimeFraction = nil, nil, nil, nil, nil
	if !proto.Equal(rest, &routev3.RouteMatch{}) {
		return fmt.Errorf("route match fields %v are not emulated", rest)
	}
	return nil
}

// matchTemplate compiles a route's URI-template path_match_policy.
func matchTemplate(m *routev3.RouteMatch) (*uriTemplate, error) {
	p := m.GetPathMatchPolicy()
	cfg := &uritemplatematchv3.UriTemplateMatchConfig{}
	if err := p.GetTypedConfig().UnmarshalTo(cfg); err != nil {
		return nil, fmt.Errorf("path_match_policy %s: %w", p.GetName(), err)
	}
	return compileURITemplate(cfg.GetPathTemplate())
}
