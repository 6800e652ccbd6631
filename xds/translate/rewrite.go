package translate

import (
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritrewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const templateRewriterName = "envoy.path.rewrite.uri_template.uri_template_rewriter"

// maxRegexPrefix keeps generated regexes well under Envoy's RE2 program
// size limit of 100.
const maxRegexPrefix = 64

// metadataPathRewrite makes Envoy use the backend path ext_authz computed.
var metadataPathRewrite = "%DYNAMIC_METADATA(" + dataplane.ExtAuthzMetadataNamespace + ":" + dataplane.ExtAuthzMetaBackendPath + ")%"

// pathRewrite is how a route maps the frontend path onto the backend path;
// at most one field is set (Envoy allows one rewrite per route).
type pathRewrite struct {
	prefix    string
	regex     *matcherv3.RegexMatchAndSubstitute
	template  string
	formatter string
}

// planRewrite computes the backend path of a route
// (docs/apig-semantics.md#api-paths,
// docs/apig-semantics.md#backend-parameters): prefix APIs pass the remainder
// through (/test/ → /test2/ sends /test/AA/CC to /test2/AA/CC), path
// parameters are substituted by a URI template rewrite and constants are
// inlined. A backend path that needs other sources (headers, queries, system
// parameters) is computed by ext_authz and applied from its dynamic metadata;
// viaExtAuthz says so.
func planRewrite(m frontendMatch, api *apigwv1.Api, uri string, params []*apigwv1.BackendParam) (rw pathRewrite, viaExtAuthz bool) {
	ext := pathRewrite{formatter: metadataPathRewrite}
	resolved, ok := resolveBackendPath(m, api, uri, params)
	if !ok {
		return ext, true
	}
	switch m.kind {
	case kindPath:
		if strings.Contains(resolved, "{") {
			return ext, true
		}
		if resolved != m.path {
			rw.prefix = resolved
		}
	case kindSepPrefix, kindRoot:
		if strings.Contains(resolved, "{") {
			return ext, true
		}
		b := strings.TrimSuffix(resolved, "/")
		switch {
		case m.kind == kindRoot && b == "":
		case m.kind == kindRoot:
			rw.prefix = b + "/"
		case b == "":
			if len(m.path) > maxRegexPrefix {
				return ext, true
			}
			rw.regex = &matcherv3.RegexMatchAndSubstitute{
				Pattern:      &matcherv3.RegexMatcher{Regex: "^" + regexp.QuoteMeta(m.path) + "/?"},
				Substitution: "/",
			}
		case b != m.path:
			rw.prefix = b
		}
	case kindTemplate:
		t := resolved
		if m.rest != "" {
			t = strings.TrimSuffix(t, "/") + "/{" + m.rest + "}"
		}
		if checkRewriteTemplate(t, m.tvars) != nil {
			return ext, true
		}
		if t != m.path {
			rw.template = t
		}
	}
	return rw, false
}

// resolveBackendPath replaces each {name} of the backend path with a
// percent-encoded constant or a reference to an Envoy template variable.
// It fails when a placeholder needs ext_authz.
func resolveBackendPath(m frontendMatch, api *apigwv1.Api, uri string, params []*apigwv1.BackendParam) (string, bool) {
	var pairs []string
	seen := map[string]bool{}
	for _, name := range model.BackendPathParams(uri) {
		if seen[name] {
			continue
		}
		seen[name] = true
		var bp *apigwv1.BackendParam
		for _, p := range params {
			if p.Location == model.LocPath && p.Name == name {
				bp = p
				break
			}
		}
		src := name
		switch {
		case bp == nil:
		case bp.Origin == model.OriginConstant:
			pairs = append(pairs, "{"+name+"}", encodePathConstant(bp.Value))
			continue
		case bp.Origin == model.OriginRequest:
			src = bp.Value
		default:
			return "", false
		}
		rp := reqParam(api, src)
		v, ok := m.vars[src]
		if rp == nil || rp.Location != model.LocPath || !ok {
			return "", false
		}
		pairs = append(pairs, "{"+name+"}", "{"+v+"}")
	}
	return strings.NewReplacer(pairs...).Replace(uri), true
}

// encodePathConstant percent-encodes a constant for a backend path the way
// APIG does (docs/apig-semantics.md#percent-encoding).
func encodePathConstant(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("?></%#\"[\\]^`{|}", c) >= 0 {
			b.WriteString("%")
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// apply sets the rewrite on a route action.
func (rw pathRewrite) apply(a *routev3.RouteAction, p *anyPacker) {
	switch {
	case rw.prefix != "":
		a.PrefixRewrite = rw.prefix
	case rw.regex != nil:
		a.RegexRewrite = rw.regex
	case rw.template != "":
		a.PathRewritePolicy = &corev3.TypedExtensionConfig{
			Name:        templateRewriterName,
			TypedConfig: p.pack(&uritrewritev3.UriTemplateRewriteConfig{PathTemplateRewrite: rw.template}),
		}
	case rw.formatter != "":
		a.PathRewrite = rw.formatter
	}
}
