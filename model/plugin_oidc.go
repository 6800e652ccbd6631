package model

import (
	"net/url"
	"slices"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginOIDCAuth is the oidc_auth plug-in type (docs/plugins.md#oidc_auth).
const PluginOIDCAuth = "oidc_auth"

// oidc_auth defaults and bounds.
const (
	OIDCDefaultScope   = "openid"
	OIDCMaxClientID    = 255
	OIDCMaxSecret      = 1024
	OIDCMaxURL         = 2048
	OIDCMaxPassMethods = 7
	// OIDCDefaultAccessTokenExpiresIn is APIG's default lifetime of an
	// access token without expires_in; OIDCMaxAccessTokenExpiresIn apigw's
	// bound (30 days).
	OIDCDefaultAccessTokenExpiresIn = 3600
	OIDCMaxAccessTokenExpiresIn     = 30 * 24 * 3600
	oidcMaxScope                    = 1024
	oidcMaxLogoutPathLen            = 1024
)

// OIDCAuthContentOf returns the content of an oidc_auth plug-in (nil if it
// does not decode).
func OIDCAuthContentOf(p *apigwv1.Plugin) *apigwv1.OidcAuthContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.OidcAuthContent)
	return c
}

// OIDCScopes returns the scopes an oidc_auth plug-in requests.
func OIDCScopes(v *apigwv1.OidcAuthContent) []string {
	s := strings.Fields(v.GetScope())
	if len(s) == 0 {
		return []string{OIDCDefaultScope}
	}
	return s
}

// OIDCCallbackPath returns the path of an oidc_auth plug-in's redirect_uri
// ("" if it does not parse).
func OIDCCallbackPath(v *apigwv1.OidcAuthContent) string {
	u, err := url.Parse(v.GetRedirectUri())
	if err != nil {
		return ""
	}
	if u.Path == "" {
		return "/"
	}
	return u.Path
}

// validatePluginSecret checks the plug-in's client_secret: required for
// oidc_auth, refused for the other types.
func validatePluginSecret(c checker, p *apigwv1.Plugin) {
	if p.PluginType != PluginOIDCAuth {
		if p.ClientSecret != "" {
			c.add("client_secret", "is only used by oidc_auth plug-ins")
		}
		return
	}
	if c.required("client_secret", p.ClientSecret) {
		c.maxLen("client_secret", p.ClientSecret, OIDCMaxSecret)
		if HasControl(p.ClientSecret) {
			c.add("client_secret", "must not contain control characters")
		}
	}
}

func validateOIDCAuth(c checker, v *apigwv1.OidcAuthContent) {
	if c.required("client_id", v.ClientId) {
		c.maxLen("client_id", v.ClientId, OIDCMaxClientID)
		if HasControl(v.ClientId) {
			c.add("client_id", "must not contain control characters")
		}
	}
	if v.ClientSecret != "" {
		c.add("client_secret", "does not belong in plugin_content: set the plug-in's client_secret field (sealed at rest, never read back)")
	}
	oidcURL(c, "authorization_endpoint", v.AuthorizationEndpoint, true)
	oidcURL(c, "token_endpoint", v.TokenEndpoint, true)
	oidcURL(c, "redirect_uri", v.RedirectUri, false)
	scopes := OIDCScopes(v)
	c.maxLen("scope", v.Scope, oidcMaxScope)
	if !slices.Contains(scopes, "openid") {
		c.add("scope", "must include openid (OpenID Connect)")
	}
	for _, s := range scopes {
		if HasControl(s) || strings.ContainsAny(s, "\"\\") {
			c.add("scope", "%q is not a scope token", s)
		}
	}
	if v.LogoutPath != "" {
		switch {
		case !strings.HasPrefix(v.LogoutPath, "/") || strings.ContainsAny(v.LogoutPath, "?#") || HasControl(v.LogoutPath) || strings.Contains(v.LogoutPath, " "):
			c.add("logout_path", "must be a path starting with / (no query)")
		case v.LogoutPath == OIDCCallbackPath(v):
			c.add("logout_path", "must differ from the redirect_uri path")
		}
		c.maxLen("logout_path", v.LogoutPath, oidcMaxLogoutPathLen)
	}
	if len(v.PassThroughMethods) > OIDCMaxPassMethods {
		c.add("pass_through_methods", "at most %d methods (got %d)", OIDCMaxPassMethods, len(v.PassThroughMethods))
	}
	seen := map[string]bool{}
	for i, m := range v.PassThroughMethods {
		u := strings.ToUpper(m)
		if !slices.Contains(corsMethods, u) {
			c.add("pass_through_methods", "[%d] %q is not an HTTP method (%s)", i, m, strings.Join(corsMethods, ", "))
		}
		if seen[u] {
			c.add("pass_through_methods", "%q is listed twice", m)
		}
		seen[u] = true
	}
	if v.DiscoveryUrl != "" {
		c.add("discovery_url", "is not supported: OpenID discovery is not implemented (set authorization_endpoint and token_endpoint)")
	}
	if v.Issuer != "" {
		c.add("issuer", "is not supported: Envoy's oauth2 filter does not verify the ID token (bind a jwt_auth plug-in to verify forwarded tokens)")
	}
	validateOIDCHuaweiFields(c, v)
}

// validateOIDCHuaweiFields checks the fields of Huawei's OIDCAuthContent
// that apigw's schema does not share.
func validateOIDCHuaweiFields(c checker, v *apigwv1.OidcAuthContent) {
	if v.Discovery != "" {
		c.add("discovery", "is not supported: OpenID discovery is not implemented (set authorization_endpoint and token_endpoint)")
	}
	if v.RedirectApiId != "" {
		c.add("redirect_api_id", "is not supported: name the callback with redirect_uri (an absolute URL whose path an API bound to the plug-in serves)")
	}
	if v.LogoutApiId != "" {
		c.add("logout_api_id", "is not supported: name the logout path with logout_path (a path an API bound to the plug-in serves)")
	}
	if v.AccessTokenExpiresIn < 0 || v.AccessTokenExpiresIn > OIDCMaxAccessTokenExpiresIn {
		c.add("access_token_expires_in", "must be 1-%d seconds (0 or absent: %d)", OIDCMaxAccessTokenExpiresIn, OIDCDefaultAccessTokenExpiresIn)
	}
	if v.JwtCacheEnabled != nil && !*v.JwtCacheEnabled {
		c.add("jwt_cache_enabled", "false is not supported: Envoy checks its session cookie locally and never re-validates it with the provider")
	}
	if v.GetJwksEnabled() {
		c.add("jwks_enabled", "true is not supported: Envoy's oauth2 filter does not verify the ID token (bind a jwt_auth plug-in to verify forwarded tokens)")
	}
}

// OIDCAccessTokenExpiresIn is the lifetime, in seconds, of an access token
// whose token response has no expires_in.
func OIDCAccessTokenExpiresIn(v *apigwv1.OidcAuthContent) int32 {
	if v.GetAccessTokenExpiresIn() > 0 {
		return v.GetAccessTokenExpiresIn()
	}
	return OIDCDefaultAccessTokenExpiresIn
}

// oidcURL checks an endpoint URL: absolute, https (or http for the
// redirect_uri), a host, no fragment.
func oidcURL(c checker, field, v string, httpsOnly bool) {
	if !c.required(field, v) {
		return
	}
	c.maxLen(field, v, OIDCMaxURL)
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || HasControl(v) || strings.ContainsAny(v, " \"\\"):
		c.add(field, "must be an absolute URL")
	case httpsOnly && u.Scheme != "https":
		c.add(field, "must be an https URL (the client secret and tokens cross it)")
	case !httpsOnly && u.Scheme != "https" && u.Scheme != "http":
		c.add(field, "must be an http or https URL")
	case u.Fragment != "" || u.User != nil:
		c.add(field, "must have no fragment nor user information")
	case field == "redirect_uri" && (u.RawQuery != "" || strings.Contains(v, "%")):
		c.add(field, "must have no query and no %% (Envoy reads the redirect URI as a header format)")
	case field == "redirect_uri" && (u.Path == "" || u.Path == "/"):
		c.add(field, "must have a path other than / (the callback path Envoy answers)")
	default:
		if err := CheckHostPort(u.Host); err != nil {
			c.add(field, "%v", err)
		}
	}
}

// OIDCPlugins returns the oidc_auth plug-ins bound to at least one API,
// sorted by id: each is an oauth2 filter of every HCM
// (docs/plugins.md#oidc_auth).
func (in *Instance) OIDCPlugins() []*apigwv1.Plugin {
	var out []*apigwv1.Plugin
	for _, p := range List[*apigwv1.Plugin](in, KindPlugin) {
		if p.PluginType == PluginOIDCAuth && len(in.ReferrerIDs(KindPlugin, p.Id, KindPluginBinding)) > 0 {
			out = append(out, p)
		}
	}
	return out
}
