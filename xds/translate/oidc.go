package translate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// oidc_auth plug-ins (docs/plugins.md#oidc_auth) are Envoy oauth2
// filters: one per plug-in in every HCM, after rbac and before ext_authz,
// disabled by default (HttpFilter.disabled) and enabled by an empty
// FilterConfig in the typed_per_filter_config of the routes of the APIs
// the plug-in is bound to. The client secret and the HMAC secret that
// signs Envoy's cookies are SDS generic secrets, which apigw sends only
// on authenticated xDS streams (docs/xds.md).

// oidcTokenTimeout bounds a token-endpoint call.
const oidcTokenTimeout = 5 * time.Second

// OIDCSystemCAFile verifies the token endpoint when Options.UpstreamCAFile
// is not set: the CA bundle of the Envoy images (Debian/Ubuntu path).
const OIDCSystemCAFile = "/etc/ssl/certs/ca-certificates.crt"

func oidcFilterName(pluginID string) string { return "apigw.oidc." + pluginID }

// OIDCClientSecretName and OIDCHMACSecretName are the SDS generic secrets
// of an oidc_auth plug-in.
func OIDCClientSecretName(pluginID string) string { return "oidc." + pluginID + ".client" }
func OIDCHMACSecretName(pluginID string) string   { return "oidc." + pluginID + ".hmac" }

func oidcClusterName(pluginID string) string { return "oidc." + pluginID }

// oidcCookiePrefix names the cookies of a plug-in's flow, so that two
// plug-ins on one host never share a session.
func oidcCookiePrefix(pluginID string) string { return "apigw-oidc-" + pluginID + "-" }

// oidcLogoutDefault is the signout path of a plug-in without logout_path:
// Envoy requires one; this one only logs out of the plug-in's session.
func oidcLogoutDefault(pluginID string) string { return "/.apigw/oidc/" + pluginID + "/logout" }

// oidcHMACSecret derives the HMAC secret of a plug-in's cookies from its
// client secret: stable across restarts and identical on every Envoy of
// the instance, so that a session survives a reconnect or another Envoy.
// Changing the client secret ends the sessions.
func oidcHMACSecret(p *apigwv1.Plugin) string {
	m := hmac.New(sha256.New, []byte(p.ClientSecret))
	m.Write([]byte("apigw oidc_auth cookie hmac\n" + p.Id))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// oidcFilters are the oauth2 filters of the instance's oidc_auth plug-ins.
func oidcFilters(plugins []*apigwv1.Plugin) ([]*hcmv3.HttpFilter, error) {
	var p anyPacker
	var out []*hcmv3.HttpFilter
	for _, pl := range plugins {
		cfg, err := oidcConfig(pl)
		if err != nil {
			return nil, fmt.Errorf("oidc_auth plug-in %s: %w", pl.PluginName, err)
		}
		out = append(out, &hcmv3.HttpFilter{Name: oidcFilterName(pl.Id), Disabled: true,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&oauth2v3.OAuth2{Config: cfg})}})
	}
	return out, p.err
}

func exactPath(p string) *matcherv3.PathMatcher {
	return &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: p}}}}
}

// oidcConfig maps an oidc_auth plug-in to Envoy's OAuth2Config.
func oidcConfig(p *apigwv1.Plugin) (*oauth2v3.OAuth2Config, error) {
	v := model.OIDCAuthContentOf(p)
	if v == nil {
		return nil, fmt.Errorf("content does not decode")
	}
	sds := func(name string) *tlsv3.SdsSecretConfig {
		return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsSource()}
	}
	prefix := oidcCookiePrefix(p.Id)
	logout := v.LogoutPath
	if logout == "" {
		logout = oidcLogoutDefault(p.Id)
	}
	cfg := &oauth2v3.OAuth2Config{
		TokenEndpoint: &corev3.HttpUri{
			Uri:              v.TokenEndpoint,
			HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: oidcClusterName(p.Id)},
			Timeout:          durationpb.New(oidcTokenTimeout),
		},
		AuthorizationEndpoint: v.AuthorizationEndpoint,
		Credentials: &oauth2v3.OAuth2Credentials{
			ClientId:       v.ClientId,
			TokenSecret:    sds(OIDCClientSecretName(p.Id)),
			TokenFormation: &oauth2v3.OAuth2Credentials_HmacSecret{HmacSecret: sds(OIDCHMACSecretName(p.Id))},
			CookieNames: &oauth2v3.OAuth2Credentials_CookieNames{
				BearerToken:  prefix + "BearerToken",
				OauthHmac:    prefix + "OauthHMAC",
				OauthExpires: prefix + "OauthExpires",
				IdToken:      prefix + "IdToken",
				RefreshToken: prefix + "RefreshToken",
				OauthNonce:   prefix + "OauthNonce",
				CodeVerifier: prefix + "CodeVerifier",
			},
		},
		RedirectUri:         v.RedirectUri,
		RedirectPathMatcher: exactPath(model.OIDCCallbackPath(v)),
		SignoutPath:         exactPath(logout),
		ForwardBearerToken:  v.ForwardAccessToken,
		AuthScopes:          model.OIDCScopes(v),
		UseRefreshToken:     wrapperspb.Bool(v.RefreshTokenEnabled),
		DefaultExpiresIn:    durationpb.New(time.Duration(model.OIDCAccessTokenExpiresIn(v)) * time.Second),
		StatPrefix:          "oidc_" + p.Id,
	}
	for _, m := range v.PassThroughMethods {
		cfg.PassThroughMatcher = append(cfg.PassThroughMatcher, exactHeader(":method", strings.ToUpper(m)))
	}
	return cfg, validate(cfg)
}

// oidcRouteConfig enables a plug-in's oauth2 filter on a route.
func oidcRouteConfig() *routev3.FilterConfig { return &routev3.FilterConfig{} }

// oidcSecrets are the SDS generic secrets of the plug-ins: the client
// secret and the derived HMAC secret.
func oidcSecrets(plugins []*apigwv1.Plugin) []*tlsv3.Secret {
	var out []*tlsv3.Secret
	generic := func(name, v string) *tlsv3.Secret {
		return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
			Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v}},
		}}}
	}
	for _, p := range plugins {
		out = append(out, generic(OIDCClientSecretName(p.Id), p.ClientSecret), generic(OIDCHMACSecretName(p.Id), oidcHMACSecret(p)))
	}
	return out
}

// oidcClusters are the token-endpoint clusters of the plug-ins: HTTPS,
// verified with Options.UpstreamCAFile or the system CA bundle (the
// client secret crosses them).
func oidcClusters(plugins []*apigwv1.Plugin, opts Options) ([]*clusterv3.Cluster, error) {
	if opts.UpstreamCAFile == "" {
		opts.UpstreamCAFile = OIDCSystemCAFile
	}
	var out []*clusterv3.Cluster
	for _, p := range plugins {
		v := model.OIDCAuthContentOf(p)
		u, err := url.Parse(v.GetTokenEndpoint())
		if err != nil {
			return nil, fmt.Errorf("oidc_auth plug-in %s: token_endpoint: %w", p.PluginName, err)
		}
		host, port, err := splitHostPort(u.Host, "https")
		if err != nil {
			return nil, fmt.Errorf("oidc_auth plug-in %s: token_endpoint: %w", p.PluginName, err)
		}
		cl, _, err := buildCluster(&clusterSpec{name: oidcClusterName(p.Id), scheme: "https", host: host, port: port}, opts)
		if err != nil {
			return nil, fmt.Errorf("oidc_auth plug-in %s: %w", p.PluginName, err)
		}
		out = append(out, cl)
	}
	return out, nil
}
