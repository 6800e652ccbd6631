package console

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// guard refuses requests a browser would only send on behalf of another
// site.
type guard struct{ opts Options }

// allowHost accepts any Host when calls are authenticated (a token the
// attacker's page does not have is needed anyway); otherwise only loopback
// names and the configured hosts, so that a page of another site whose
// name was rebound to 127.0.0.1 is not served.
func (g *guard) allowHost(r *http.Request) bool {
	if g.opts.Authenticated || g.opts.AnyHost {
		return true
	}
	host := hostOnly(r.Host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return slices.Contains(g.opts.Hosts, host)
}

// allowOrigin refuses API calls that a browser made from another origin
// (the Origin header names a different host and port than the request's).
// Requests without Origin (apigctl, curl, same-origin GETs) pass.
func (g *guard) allowOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func hostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}
