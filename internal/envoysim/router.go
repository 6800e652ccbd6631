package envoysim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	uritemplaterewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// router answers direct responses and redirects, or forwards the request
// to an endpoint of the route's cluster.
func (s *stream) router(ctx context.Context, f *routerv3.Router) (*Response, error) {
	if s.route == nil {
		return s.localReply(http.StatusNotFound, "", nil, "route_not_found", "NR"), nil
	}
	switch a := s.route.GetAction().(type) {
	case *routev3.Route_DirectResponse:
		return s.directResponse(a.DirectResponse)
	case *routev3.Route_Redirect:
		return s.redirect(a.Redirect)
	case *routev3.Route_Route:
		return s.upstream(ctx, f, a.Route)
	default:
		return nil, fmt.Errorf("route %s: action %T is not emulated", s.route.GetName(), a)
	}
}

func (s *stream) directResponse(d *routev3.DirectResponseAction) (*Response, error) {
	body := d.GetBody().GetInlineString()
	if b := d.GetBody().GetInlineBytes(); b != nil {
		body = string(b)
	}
	if d.GetBody().GetFilename() != "" || d.GetBody().GetEnvironmentVariable() != "" {
		return nil, fmt.Errorf("direct response bodies from files are not emulated")
	}
	if limit := s.rc.GetMaxDirectResponseBodySizeBytes(); limit != nil && len(body) > int(limit.GetValue()) || limit == nil && len(body) > 4096 {
		return nil, fmt.Errorf("route %s: direct response body of %d bytes over the limit (Envoy rejects the configuration)", s.route.GetName(), len(body))
	}
	h := &Headers{}
	if f := d.GetBodyFormat(); f != nil {
		x := s.fmtCtx(h)
		x.status, x.body = int(d.GetStatus()), body
		b, ctype, err := renderFormat(f, x)
		if err != nil {
			return nil, err
		}
		body = b
		h.Set("content-type", ctype)
	}
	if err := s.responseHeaders(h); err != nil {
		return nil, err
	}
	s.tracef("direct response %d", d.GetStatus())
	return s.localReply(int(d.GetStatus()), body, h, "direct_response"), nil
}

func (s *stream) redirect(r *routev3.RedirectAction) (*Response, error) {
	scheme := s.hdr.Value(":scheme")
	if r.GetHttpsRedirect() {
		scheme = "https"
	} else if sr := r.GetSchemeRedirect(); sr != "" {
		scheme = sr
	}
	host := s.hdr.Value(":authority")
	if hr := r.GetHostRedirect(); hr != "" {
		host = hr
	}
	if r.GetPortRedirect() != 0 {
		host = net.JoinHostPort(hostOf(host), strconv.Itoa(int(r.GetPortRedirect())))
	} else if r.GetHttpsRedirect() {
		host = hostOf(host)
	}
	path := s.hdr.Value(":path")
	if pr := r.GetPathRedirect(); pr != "" {
		path = pr
	}
	if r.GetPrefixRewrite() != "" || r.GetRegexRewrite() != nil {
		return nil, fmt.Errorf("redirect rewrites are not emulated")
	}
	code := map[routev3.RedirectAction_RedirectResponseCode]int{
		routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302, routev3.RedirectAction_SEE_OTHER: 303,
		routev3.RedirectAction_TEMPORARY_REDIRECT: 307, routev3.RedirectAction_PERMANENT_REDIRECT: 308}[r.GetResponseCode()]
	h := &Headers{}
	h.Set("location", scheme+"://"+host+path)
	return s.localReply(code, "", h, "via_route_redirect"), nil
}

// responseHeaders applies the route, virtual-host and route-configuration
// response header mutations.
func (s *stream) responseHeaders(h *Headers) error {
	x := s.fmtCtx(h)
	for _, l := range s.mutationLevels() {
		for _, k := range l.rspRemove {
			h.Del(k)
		}
		if err := applyHeaderOptions(h, l.rspAdd, x); err != nil {
			return err
		}
	}
	return nil
}

// hopByHop headers are not forwarded.
var hopByHop = []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "content-length"}

func (s *stream) upstream(ctx context.Context, f *routerv3.Router, ra *routev3.RouteAction) (*Response, error) {
	name := ra.GetCluster()
	if name == "" {
		return nil, fmt.Errorf("route %s: only single-cluster routes are emulated", s.route.GetName())
	}
	cl := s.cfg.Clusters[name]
	if cl == nil {
		return s.localReply(http.StatusServiceUnavailable, "", nil, "cluster_not_found", "NC"), nil
	}
	ep, hostname, err := s.e.endpoint(s.cfg, cl)
	if err != nil {
		return nil, err
	}
	if ep == "" {
		return s.localReply(http.StatusServiceUnavailable, "no healthy upstream", nil, "no_healthy_upstream", "UH"), nil
	}
	up := s.hdr.Clone()
	x := s.fmtCtx(nil)
	for _, l := range s.mutationLevels() {
		for _, k := range l.reqRemove {
			up.Del(k)
		}
		if err := applyHeaderOptions(up, l.reqAdd, x); err != nil {
			return nil, err
		}
	}
	path, err := s.rewritePath(ra)
	if err != nil {
		return nil, err
	}
	up.Set(":path", path)
	if err := s.rewriteHost(ra, up, hostname); err != nil {
		return nil, err
	}
	if !f.GetSuppressEnvoyHeaders() {
		up.Set("x-envoy-expected-rq-timeout-ms", strconv.FormatInt(routeTimeout(ra).Milliseconds(), 10))
	}
	s.tracef("upstream %s %s → cluster %s endpoint %s host %s", up.Value(":method"), path, name, ep, up.Value(":authority"))
	s.cluster, s.endpoint = name, ep
	s.mirror(ra.GetRequestMirrorPolicies(), up)
	return s.send(ctx, cl, ra, ep, up)
}

func routeTimeout(ra *routev3.RouteAction) time.Duration {
	if ra.GetTimeout() == nil {
		return 15 * time.Second
	}
	return ra.GetTimeout().AsDuration()
}

// rewritePath applies the route's path rewrite; the query is kept.
func (s *stream) rewritePath(ra *routev3.RouteAction) (string, error) {
	path, query := s.hdr.path(), s.hdr.query()
	m := s.route.GetMatch()
	n := 0
	for _, set := range []bool{ra.GetPrefixRewrite() != "", ra.GetRegexRewrite() != nil, ra.GetPathRewritePolicy() != nil, ra.GetPathRewrite() != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return "", fmt.Errorf("route %s has more than one path rewrite (Envoy rejects it)", s.route.GetName())
	}
	switch {
	case ra.GetPrefixRewrite() != "":
		matched := len(m.GetPrefix())
		switch p := m.GetPathSpecifier().(type) {
		case *routev3.RouteMatch_Path:
			matched = len(path)
		case *routev3.RouteMatch_PathSeparatedPrefix:
			matched = len(p.PathSeparatedPrefix)
		case *routev3.RouteMatch_Prefix:
		default:
			return "", fmt.Errorf("route %s: prefix_rewrite with %T", s.route.GetName(), p)
		}
		path = ra.GetPrefixRewrite() + path[matched:]
	case ra.GetRegexRewrite() != nil:
		re, err := regexp.Compile(ra.GetRegexRewrite().GetPattern().GetRegex())
		if err != nil {
			return "", err
		}
		sub := regexp.MustCompile(`\\(\d)`).ReplaceAllString(ra.GetRegexRewrite().GetSubstitution(), `$${$1}`)
		path = re.ReplaceAllString(path, sub)
	case ra.GetPathRewritePolicy() != nil:
		cfg := &uritemplaterewritev3.UriTemplateRewriteConfig{}
		if err := unpack(ra.GetPathRewritePolicy().GetTypedConfig(), cfg); err != nil {
			return "", err
		}
		t, err := matchTemplate(m)
		if err != nil {
			return "", err
		}
		vars := t.match(path)
		if vars == nil {
			return "", fmt.Errorf("route %s: path %s no longer matches its template", s.route.GetName(), path)
		}
		if path, err = rewriteURITemplate(cfg.GetPathTemplateRewrite(), vars); err != nil {
			return "", err
		}
	case ra.GetPathRewrite() != "":
		v, err := formatText(ra.GetPathRewrite(), "", s.fmtCtx(nil))
		if err != nil {
			return "", err
		}
		if v != "" {
			path = v
		}
	}
	if query != "" {
		path += "?" + query
	}
	return path, nil
}

func (s *stream) rewriteHost(ra *routev3.RouteAction, up *Headers, hostname string) error {
	switch h := ra.GetHostRewriteSpecifier().(type) {
	case nil:
	case *routev3.RouteAction_HostRewriteLiteral:
		up.Set(":authority", h.HostRewriteLiteral)
	case *routev3.RouteAction_AutoHostRewrite:
		if h.AutoHostRewrite.GetValue() && hostname != "" {
			up.Set(":authority", hostname)
		}
	case *routev3.RouteAction_HostRewriteHeader:
		if v, ok := s.hdr.Get(h.HostRewriteHeader); ok {
			up.Set(":authority", v)
		}
	default:
		return fmt.Errorf("host rewrite %T is not emulated", h)
	}
	return nil
}

// endpoint picks an endpoint of a cluster: the lowest priority that has
// endpoints, weighted round robin within it (every host healthy). It
// returns "" when there is none, and the host name for auto host rewrite.
func (e *Envoy) endpoint(cfg *Config, cl *clusterv3.Cluster) (string, string, error) {
	cla := cl.GetLoadAssignment()
	if cl.GetType() == clusterv3.Cluster_EDS {
		n := cl.GetEdsClusterConfig().GetServiceName()
		if n == "" {
			n = cl.GetName()
		}
		cla = cfg.Endpoints[n]
	}
	var eps []*endpointv3.LbEndpoint
	prio := uint32(1 << 31)
	for _, l := range cla.GetEndpoints() {
		if len(l.GetLbEndpoints()) == 0 {
			continue
		}
		switch {
		case l.GetPriority() < prio:
			prio, eps = l.GetPriority(), nil
			fallthrough
		case l.GetPriority() == prio:
			for _, ep := range l.GetLbEndpoints() {
				w := max(1, int(ep.GetLoadBalancingWeight().GetValue()))
				for range w {
					eps = append(eps, ep)
				}
			}
		}
	}
	if len(eps) == 0 {
		return "", "", nil
	}
	e.mu.Lock()
	i := e.rr[cl.GetName()]
	e.rr[cl.GetName()]++
	e.mu.Unlock()
	ep := eps[i%uint64(len(eps))].GetEndpoint()
	sa := ep.GetAddress().GetSocketAddress()
	if sa == nil {
		return "", "", fmt.Errorf("cluster %s: only socket addresses are emulated", cl.GetName())
	}
	addr := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
	hostname := ep.GetHostname()
	if hostname == "" && (cl.GetType() == clusterv3.Cluster_STRICT_DNS || cl.GetType() == clusterv3.Cluster_LOGICAL_DNS) {
		hostname = sa.GetAddress()
	}
	return addr, hostname, nil
}

// send makes the upstream request and returns the upstream response, with
// the route's response header mutations.
func (s *stream) send(ctx context.Context, cl *clusterv3.Cluster, ra *routev3.RouteAction, ep string, up *Headers) (*Response, error) {
	scheme := "http"
	var tlsCfg *tls.Config
	if ts := cl.GetTransportSocket(); ts != nil {
		utc := &tlsv3.UpstreamTlsContext{}
		if err := unpack(ts.GetTypedConfig(), utc); err != nil {
			return nil, err
		}
		scheme = "https"
		cfg, err := upstreamTLS(ts, s.cfg.Secrets)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cl.GetName(), err)
		}
		if cfg.ServerName == "" { // auto SNI (upstream protocol options): the host header
			cfg.ServerName = hostOf(up.Value(":authority"))
		}
		tlsCfg = cfg
	}
	timeout := routeTimeout(ra)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	target := up.Value(":path")
	p, q, _ := strings.Cut(target, "?")
	req, err := http.NewRequestWithContext(ctx, up.Value(":method"), scheme+"://"+ep, bytes.NewReader(s.body))
	if err != nil {
		return nil, err
	}
	req.URL = &url.URL{Scheme: scheme, Host: ep, Opaque: p, RawQuery: q}
	req.Host = up.Value(":authority")
	req.ContentLength = int64(len(s.body))
	req.Header = up.HTTP()
	for _, h := range hopByHop {
		req.Header.Del(h)
	}
	if req.Header.Get("user-agent") == "" {
		req.Header.Set("User-Agent", "") // no Go default
	}
	client := s.e.http
	switch {
	case s.e.opts.Upstream != nil:
		client = &http.Client{Transport: s.e.opts.Upstream, CheckRedirect: s.e.http.CheckRedirect}
	case tlsCfg != nil:
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableCompression: true}, CheckRedirect: s.e.http.CheckRedirect}
	}
	s.timing.upTx, s.timing.upCluster, s.timing.upAddr = time.Now(), cl.GetName(), ep
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return s.localReply(http.StatusGatewayTimeout, "upstream request timeout", nil, "upstream_response_timeout", "UT"), nil
		}
		s.tracef("upstream: %v", err)
		return s.localReply(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers", nil,
			"upstream_reset_before_response_started{connection_failure}", "UF"), nil
	}
	defer resp.Body.Close()
	s.timing.upRxFirst = time.Now()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("upstream body: %w", err)
	}
	s.timing.upRxLast = time.Now()
	s.upstreamLength, s.upstreamAnswered = resp.ContentLength, true
	h := HeadersFrom(resp.Header)
	for _, k := range hopByHop {
		h.Del(k)
	}
	if err := s.responseHeaders(h); err != nil {
		return nil, err
	}
	s.tracef("upstream answered %d", resp.StatusCode)
	return s.reply(resp.StatusCode, body, h, "via_upstream"), nil
}
