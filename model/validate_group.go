package model

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func validateInstance(c checker, in *apigwv1.Instance) {
	if c.required("name", in.Name) && !reInstanceName.MatchString(in.Name) {
		c.add("name", "must be 1-64 of [a-z0-9-], starting and ending alphanumeric")
	}
	c.maxLen("description", in.Description, 255)
	cfg := in.GetConfig()
	cc := c.at("config")
	validateBackendTLS(cc.at("backend_tls"), cfg.GetBackendTls())
	if v := cfg.GetRatelimit().GetApiLimits(); v != 0 {
		cc.rangeInt("ratelimit.api_limits", int64(v), 1, MaxAPILimits)
	}
	if v := cfg.GetRequestBodySize(); v != 0 {
		cc.rangeInt("request_body_size", v, MinRequestBodySize, MaxRequestBodySize)
	}
	if v := cfg.GetBackendTimeout().GetMaxTimeout(); v != 0 {
		cc.rangeInt("backend_timeout.max_timeout", int64(v), 1, AbsoluteMaxTimeout)
	}
	if g := cfg.GetRealIpHeaderGetter(); g.GetEnable() {
		name, ok := strings.CutPrefix(g.HeaderGetter, "header:")
		if !ok || !ValidHeaderName(name) {
			cc.add("real_ip_header_getter.header_getter", "must be header:<name>")
		}
	}
	if cfg.GetRealIpFromXff().GetEnable() && cfg.GetRealIpHeaderGetter().GetEnable() {
		cc.add("real_ip_from_xff.enable", "cannot be combined with real_ip_header_getter")
	}
	for _, h := range []struct{ field, v string }{
		{"custom_auth_header.app_auth_header", cfg.GetCustomAuthHeader().GetAppAuthHeader()},
		{"custom_auth_header.backend_sign_header", cfg.GetCustomAuthHeader().GetBackendSignHeader()},
	} {
		if h.v != "" && !ValidHeaderName(h.v) {
			cc.add(h.field, "must be an HTTP header name")
		}
	}
	switch strings.ToLower(cfg.GetCustomAuthHeader().GetBackendSignHeader()) {
	case "x-sdk-date", "x-sdk-content-sha256", "host":
		// The backend signature covers these headers and sets them itself.
		cc.add("custom_auth_header.backend_sign_header", "cannot be a header the backend signature sets or needs (X-Sdk-Date, X-Sdk-Content-Sha256, Host)")
	}
	if s := cfg.GetDebugDomainSuffix(); s != "" && !ValidDomain("x."+s, false) {
		cc.add("debug_domain_suffix", "must be a DNS suffix such as apigw.example.com")
	}
	if q := cfg.GetQuotas(); q != nil {
		r := q.ProtoReflect()
		fields := r.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			if v := r.Get(fields.Get(i)).Int(); v < 0 {
				cc.add("quotas."+string(fields.Get(i).Name()), "must not be negative")
			}
		}
	}
	validateIngressPorts(cc, cfg.GetIngressPorts())
	validateDefaultGroupHosts(cc, cfg.GetDefaultGroupHosts())
	validateFunctionRegistry(cc, cfg.GetFunctions())
	validateAccessLog(cc.at("access_log"), cfg.GetAccessLog())
	validateTracing(cc.at("tracing"), cfg.GetTracing())
	if iam := cfg.GetIam(); iam != nil {
		if iam.JwksUri != "" {
			if u, err := url.Parse(iam.JwksUri); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				cc.add("iam.jwks_uri", "must be an http(s) URL")
			}
		}
		if (iam.JwksUri != "" || iam.Jwks != "") && iam.Issuer == "" {
			cc.add("iam.issuer", "is required with a key set")
		}
	}
}

func validateGroup(c checker, g *apigwv1.ApiGroup, lim Limits) {
	if c.required("name", g.Name) && !reGroupName.MatchString(g.Name) {
		c.add("name", "must be %s", patGroupName)
	}
	c.maxLen("remark", g.Remark, 255)
	if n := len(g.UrlDomains); n > int(lim.Quotas.GetDomainsPerGroup()) {
		c.add("url_domains", "at most %d domains per group (got %d)", lim.Quotas.GetDomainsPerGroup(), n)
	}
	seen := map[string]bool{}
	for i, d := range g.UrlDomains {
		dc := c.idx("url_domains", i)
		dom := strings.ToLower(d.Domain)
		if dc.required("domain", d.Domain) && !ValidDomain(dom, true) {
			dc.add("domain", "must be a domain name or a one-level wildcard *.example.com")
		}
		if seen[dom] {
			dc.add("domain", "%q is bound twice", d.Domain)
		}
		seen[dom] = true
		dc.oneOf("min_ssl_version", d.MinSslVersion, TLS11, TLS12)
		if d.IsHttpRedirectToHttps && d.SslId == "" {
			dc.add("is_http_redirect_to_https", "needs a certificate (ssl_id)")
		}
		if d.IsHttpRedirectToHttps && d.IngressHttpsPort == -1 {
			dc.add("is_http_redirect_to_https", "needs the domain served over HTTPS (ingress_https_port is -1)")
		}
		if d.VerifiedClientCertificateEnabled && d.SslId == "" {
			dc.add("verified_client_certificate_enabled", "needs a certificate (ssl_id)")
		}
		for _, p := range []struct {
			field string
			v     int32
		}{{"ingress_http_port", d.IngressHttpPort}, {"ingress_https_port", d.IngressHttpsPort}} {
			if p.v != 0 && p.v != -1 && (p.v < MinIngressPort || p.v > MaxIngressPort) {
				dc.add(p.field, "must be -1, 0 or 1024-49151 (got %d)", p.v)
			}
		}
		if d.IngressHttpPort > 0 && d.IngressHttpPort == d.IngressHttpsPort {
			dc.add("ingress_https_port", "cannot be the domain's HTTP port too")
		}
	}
}

func validateEnvironment(c checker, e *apigwv1.Environment) {
	if c.required("name", e.Name) && !reEnvName.MatchString(e.Name) {
		c.add("name", "must be 3-64 letters, digits or underscores, starting with a letter")
	}
	if e.Name == ReleaseEnvName && e.Id != ReleaseEnvID {
		c.add("name", "RELEASE is the built-in environment")
	}
	c.maxLen("remark", e.Remark, 255)
}

func validateEnvVariable(c checker, v *apigwv1.EnvVariable) {
	c.required("group_id", v.GroupId)
	c.required("env_id", v.EnvId)
	if c.required("variable_name", v.VariableName) && !reVarName.MatchString(v.VariableName) {
		c.add("variable_name", "must be 3-32 of [A-Za-z0-9_-], starting with a letter")
	}
	if c.required("variable_value", v.VariableValue) && !reVarValue.MatchString(v.VariableValue) {
		c.add("variable_value", "must be 1-255 of [A-Za-z0-9_-/.:]")
	}
}

// CheckHostPort checks a backend address host[:port] (IPv6 in brackets).
func CheckHostPort(addr string) error {
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	} else if strings.Count(addr, ":") > 0 && !strings.HasPrefix(addr, "[") {
		return fmt.Errorf("%q: must be host[:port]", addr)
	}
	host = strings.Trim(host, "[]")
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port must be 1-65535", addr)
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if host == "localhost" || ValidDomain(host, false) || reDNSLabel.MatchString(host) {
		return nil
	}
	return fmt.Errorf("%q: not an IP address or host name", addr)
}
