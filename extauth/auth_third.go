package extauth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// thirdPlan is the third_auth plug-in bound to (API, environment)
// (docs/plugins.md#third_auth).
type thirdPlan struct {
	pluginID string
	method   string
	base     string // scheme://host[:port] (url_domain; "" with a channel)
	scheme   string
	// channel: the load balance channel the service is called through
	// (vpc_channel_enabled): its members taking traffic, primary and
	// backup, and the Host header of the calls (vpc_proxy_host).
	channel         string
	primary, backup []model.ChannelTarget
	channelMissing  bool
	proxyHost       string
	path            string // the service's path
	carryPath       bool
	timeout         time.Duration
	headers         []string // identity headers, lower case (none: all)
	queries         []string // identity query parameters (none: all)
	respHeaders     []string // copied to the backend, lower case
	returnBody      bool
	carryBody       int // bytes of the request body sent (0: none)
	forbidLimit     int
	relaxed         bool
	// matchHeader and matchValue: result matching (matchHeader "" in
	// simple mode: any 2xx authenticates).
	matchHeader, matchValue string
	// rules: the black/white list (nil: every request calls the service).
	rules *model.ThirdAuthRules
}

// maxThirdAuthBody bounds the service's answer read by ext_authz.
const maxThirdAuthBody = 1 << 20

// compileThird returns the plan of the third_auth plug-in bound to (API,
// environment), nil when there is none.
func compileThird(in *model.Instance, apiID, envID string) (*thirdPlan, error) {
	p := in.PluginOf(apiID, envID, model.PluginThirdAuth)
	if p == nil {
		return nil, nil
	}
	v := model.ThirdAuthContentOf(p)
	if v == nil || v.AuthRequest == nil {
		return nil, fmt.Errorf("third_auth plug-in %s: its content does not decode", p.PluginName)
	}
	r := v.AuthRequest
	tp := &thirdPlan{pluginID: p.Id, method: strings.ToUpper(r.Method),
		base: strings.ToLower(r.Protocol) + "://" + r.UrlDomain, path: r.Path, carryPath: v.CarryPathEnabled,
		timeout:    time.Duration(model.ThirdAuthTimeout(v)) * time.Millisecond,
		returnBody: v.ReturnRespBodyEnabled, forbidLimit: int(v.CustomForbidLimit), relaxed: v.AuthDowngradeEnabled}
	if tp.path == "" {
		tp.path = "/"
	}
	if b := v.GetCarryBody(); b.GetEnabled() {
		tp.carryBody = int(b.MaxBodySize)
	}
	tp.scheme = strings.ToLower(r.Protocol)
	if id := model.ThirdAuthChannel(v); id != "" {
		tp.base, tp.channel, tp.proxyHost = "", id, r.GetVpcChannelInfo().GetVpcProxyHost()
		if ch, err := in.ThirdAuthChannelOf(v); err == nil {
			tp.primary, tp.backup = model.ChannelTargets(ch, "")
		} else {
			tp.channelMissing = true
		}
	}
	if h, val, ok := model.ThirdAuthMatch(v); ok {
		tp.matchHeader, tp.matchValue = h, val
	}
	rules, err := model.CompileThirdAuthRules(v)
	if err != nil {
		return nil, fmt.Errorf("third_auth plug-in %s: %w", p.PluginName, err)
	}
	tp.rules = rules
	for _, h := range v.GetIdentities().GetHeaders() {
		tp.headers = append(tp.headers, strings.ToLower(h.Name))
	}
	for _, q := range v.GetIdentities().GetQueries() {
		tp.queries = append(tp.queries, q.Name)
	}
	for _, h := range model.ThirdAuthRespHeaders(v) {
		tp.respHeaders = append(tp.respHeaders, strings.ToLower(h))
	}
	return tp, nil
}

// notForwarded are request headers never sent to the authentication
// service when every header is (pseudo-headers aside): hop-by-hop
// headers and the framing of the client's body (a body sent with
// carry_body is framed by the call itself).
var notForwarded = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"keep-alive": true, "te": true, "upgrade": true, "expect": true, "proxy-connection": true,
}

// authThird calls the third_auth plug-in's authentication service: a 2xx
// answer (whose match_auth header has the configured value, with result
// matching) lets the request through (copying the configured answer
// headers to the backend request), anything else refuses it. Failures
// count towards the client IP's brute-force limit. Requests the
// black/white list exempts do not call the service.
func (c *call) authThird() *denial {
	tp := c.target.plan.third
	if tp == nil {
		return nil
	}
	// A client-sent header named like an answer header never passes for
	// the service's, whether the service is called or not (black/white
	// list, relaxed mode): only a successful answer sets them.
	for _, h := range tp.respHeaders {
		c.mut.removeHeader(h)
	}
	if !c.thirdCalls(tp) {
		return nil
	}
	ip := ""
	if tp.forbidLimit > 0 {
		if _, ok := c.clientIP(); ok {
			ip = c.client.str
		}
		if ip != "" && c.s.thirdFails.blocked(tp.pluginID, ip, tp.forbidLimit, c.now) {
			return deny(ReasonThirdBlocked, gwresp.ErrThirdAuthBlocked)
		}
	}
	if tp.channel != "" && !tp.channelMissing && len(tp.primary)+len(tp.backup) == 0 {
		// No member takes traffic: the service cannot be reached.
		if tp.relaxed {
			return nil
		}
		return &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthRequest, cause: fmt.Errorf("third_auth: load balance channel %s has no member taking traffic", tp.channel)}
	}
	req, d := c.thirdRequest(tp)
	if d != nil {
		return d
	}
	ctx, cancel := context.WithTimeout(c.ctx, tp.timeout)
	defer cancel()
	resp, err := c.s.third.Do(req.WithContext(ctx))
	if err != nil {
		if tp.relaxed {
			return nil
		}
		return &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthRequest, cause: fmt.Errorf("third_auth %s: %w", req.URL.Host, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxThirdAuthBody+1))
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && tp.relaxed:
		return nil
	case err != nil:
		return &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthResponse, cause: fmt.Errorf("third_auth %s: reading the answer: %w", req.URL.Host, err)}
	}
	if !tp.succeeded(resp) {
		if ip != "" {
			c.s.thirdFails.fail(tp.pluginID, ip, c.now)
		}
		d := denyf(ReasonThirdDenied, gwresp.ErrThirdAuth, "")
		if tp.returnBody && len(body) > 0 && len(body) <= maxThirdAuthBody {
			d.body, d.contentType = string(body), resp.Header.Get("Content-Type")
			if d.contentType == "" {
				d.contentType = "text/plain; charset=utf-8"
			}
		}
		return d
	}
	for _, h := range tp.respHeaders {
		if v := resp.Header.Get(h); v != "" && validHeaderValue(v) {
			c.mut.setHeader(h, v)
		}
	}
	return nil
}

// thirdCalls reports whether the request calls the service: always
// without a black/white list; with one, whether a rule matches decides
// (allow: matching requests do not call it, deny: only they do).
func (c *call) thirdCalls(tp *thirdPlan) bool {
	if tp.rules == nil {
		return true
	}
	p := pluginParams{c: c, defs: tp.rules.Params}
	matched := false
	for _, e := range tp.rules.Exprs {
		if e.Eval(p) {
			matched = true
			break
		}
	}
	return tp.rules.Calls(matched)
}

// succeeded reports whether the service's answer authenticates: a 2xx,
// and with result matching, the match_auth header's (first) value equal
// to the configured one.
func (tp *thirdPlan) succeeded(resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	if tp.matchHeader == "" {
		return true
	}
	got, ok := resp.Header[http.CanonicalHeaderKey(tp.matchHeader)]
	return ok && len(got) > 0 && subtle.ConstantTimeCompare([]byte(got[0]), []byte(tp.matchValue)) == 1
}

// thirdRequest builds the call to the authentication service: the
// identity headers and query parameters (each required), or all of them
// when the plug-in lists none.
func (c *call) thirdRequest(tp *thirdPlan) (*http.Request, *denial) {
	base, d := tp.target()
	if d != nil {
		return nil, d
	}
	u := base + tp.path
	if tp.carryPath {
		u = strings.TrimSuffix(base+tp.path, "/") + c.req.path
	}
	h := http.Header{}
	if len(tp.headers) == 0 {
		c.req.hdr.each(func(k, v string) {
			if !strings.HasPrefix(k, ":") && !notForwarded[k] {
				h.Add(k, v)
			}
		})
	}
	for _, name := range tp.headers {
		v, ok := c.req.hdr.get(name)
		if !ok || v == "" {
			return nil, denyf(ReasonThirdIdentity, gwresp.ErrThirdAuthIdentities, "header "+name+" is missing")
		}
		h.Set(name, v)
	}
	rawQuery := c.req.rawQuery
	if len(tp.queries) > 0 {
		q := url.Values{}
		for _, name := range tp.queries {
			v, ok := c.req.queryValue(name)
			if !ok || v == "" {
				return nil, denyf(ReasonThirdIdentity, gwresp.ErrThirdAuthIdentities, "query parameter "+name+" is missing")
			}
			q.Set(name, v)
		}
		rawQuery = q.Encode()
	} else if len(tp.headers) > 0 {
		rawQuery = ""
	}
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var body io.Reader
	h.Del(thirdPartialBodyHeader) // only the gateway says so
	if tp.carryBody > 0 && len(c.req.body) > 0 {
		b, partial := c.thirdBody(tp.carryBody)
		body = bytes.NewReader(b)
		if ct, ok := c.req.hdr.get("content-type"); ok {
			h.Set("Content-Type", ct)
		}
		if partial {
			h.Set(thirdPartialBodyHeader, "true")
		}
	}
	req, err := http.NewRequest(tp.method, u, body)
	if err != nil {
		return nil, &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthRequest, cause: fmt.Errorf("third_auth: %w", err)}
	}
	req.Header = h
	if tp.proxyHost != "" {
		req.Host = tp.proxyHost
	}
	return req, nil
}

// target returns scheme://host:port of the service: url_domain, or a
// member of the channel picked at random by weight among the primary
// members (the backup members when there is none).
func (tp *thirdPlan) target() (string, *denial) {
	if tp.channel == "" {
		return tp.base, nil
	}
	if tp.channelMissing {
		return "", &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthRequest, cause: fmt.Errorf("third_auth: load balance channel %s does not exist (or its name is ambiguous)", tp.channel)}
	}
	ts := tp.primary
	if len(ts) == 0 {
		ts = tp.backup
	}
	total := 0
	for _, t := range ts {
		total += int(t.Weight)
	}
	if total <= 0 {
		return "", &denial{reason: ReasonThirdFailed, err: gwresp.ErrThirdAuthRequest, cause: fmt.Errorf("third_auth: load balance channel %s has no member taking traffic", tp.channel)}
	}
	n := rand.IntN(total)
	for _, t := range ts {
		if n -= int(t.Weight); n < 0 {
			return tp.scheme + "://" + net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port))), nil
		}
	}
	return "", nil // not reached: the weights are positive
}

// thirdPartialBodyHeader marks a call carrying only the first
// carry_body.max_body_size bytes of a longer request body.
const thirdPartialBodyHeader = "X-Apig-Auth-Partial-Body"

// thirdBody returns the request body sent to the service: at most max
// bytes, partial when the request's body is longer (or Envoy sent only
// part of it).
func (c *call) thirdBody(max int) ([]byte, bool) {
	b := c.req.body
	partial := false
	if len(b) > max {
		b, partial = b[:max], true
	}
	if cl, ok := c.req.hdr.get("content-length"); ok {
		if n, err := strconv.Atoi(cl); err == nil && n > len(c.req.body) {
			partial = true
		}
	}
	return b, partial
}
