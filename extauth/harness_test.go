package extauth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// testNow is the injected server time.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// published normalizes objs, publishes the listed (API, environment)
// pairs and returns an instance view with the publication records and
// releases.
func published(t testing.TB, name string, objs []proto.Message, releases ...[2]string) *model.Instance {
	t.Helper()
	for _, o := range objs {
		model.Normalize(o)
	}
	draft := model.NewInstance(name, objs)
	all := append([]proto.Message(nil), objs...)
	for i, r := range releases {
		pubID := fmt.Sprintf("pub-%d", i)
		pub, err := draft.Publication(r[0], r[1], pubID, "v1", "", testNow)
		if err != nil {
			t.Fatalf("publish %v: %v", r, err)
		}
		pub.PublishTime = timestamppb.New(testNow)
		all = append(all, pub, &apigwv1.Release{ApiId: r[0], EnvId: r[1], PublicationId: pubID})
	}
	return model.NewInstance(name, all)
}

// harness is a real ext_authz gRPC server on 127.0.0.1:0 and a client.
type harness struct {
	t      testing.TB
	feed   *live.Feed
	srv    *extauth.Server
	client authv3.AuthorizationClient
	clock  *clock
	reg    *prometheus.Registry
}

func newHarness(t testing.TB, in *model.Instance, opts ...extauth.Option) *harness {
	t.Helper()
	h := &harness{t: t, feed: live.NewFeed(), clock: &clock{t: testNow}, reg: prometheus.NewRegistry()}
	if in != nil {
		h.feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	}
	opts = append([]extauth.Option{extauth.WithClock(h.clock.Now), extauth.WithRegisterer(h.reg), extauth.WithServerName("gw-1")}, opts...)
	h.srv = extauth.New(h.feed, slog.New(slog.DiscardHandler), opts...)
	gs := grpc.NewServer(extauth.ServerOptions()...)
	h.srv.Register(gs)
	h.client = authv3.NewAuthorizationClient(testutil.ServeAndDialGRPC(t, gs))
	return h
}

func (h *harness) check(req *authv3.CheckRequest) *authv3.CheckResponse {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.client.Check(ctx, req)
	if err != nil {
		h.t.Fatalf("Check returned a gRPC error: %v", err)
	}
	return resp
}

// envoyRequest describes a client request the way a test writes it.
type envoyRequest struct {
	method  string
	scheme  string // default https
	host    string // default api.example.com
	path    string // with query
	headers map[string]string
	body    string
	peer    string // default 198.51.100.7
	api     string
	env     string // default RELEASE
	policy  string
	rawHdrs bool // send header_map (encode_raw_headers) instead of headers
}

// checkRequest builds the CheckRequest exactly as Envoy's ext_authz filter
// does: attributes.request.http with lower-cased headers including the
// pseudo-headers, path with the query, host = :authority, the body as
// raw_body (pack_as_bytes), source = the TCP peer, destination = Envoy,
// and the route's context_extensions.
func (r envoyRequest) checkRequest() *authv3.CheckRequest {
	if r.method == "" {
		r.method = "GET"
	}
	if r.scheme == "" {
		r.scheme = "https"
	}
	if r.host == "" {
		r.host = "api.example.com"
	}
	if r.peer == "" {
		r.peer = "198.51.100.7"
	}
	if r.env == "" {
		r.env = model.ReleaseEnvID
	}
	hdrs := map[string]string{
		":authority": r.host, ":method": r.method, ":path": r.path, ":scheme": r.scheme,
		"x-request-id": "req-0001", "x-forwarded-proto": r.scheme, "user-agent": "test",
	}
	for k, v := range r.headers {
		hdrs[strings.ToLower(k)] = v
	}
	httpReq := &authv3.AttributeContext_HttpRequest{
		Id: "1234567890", Method: r.method, Path: r.path, Host: r.host, Scheme: r.scheme,
		Protocol: "HTTP/1.1", Size: int64(len(r.body)),
	}
	if r.rawHdrs {
		hm := &corev3.HeaderMap{}
		keys := make([]string, 0, len(hdrs))
		for k := range hdrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range strings.Split(hdrs[k], "\x00") {
				hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(v)})
			}
		}
		httpReq.HeaderMap = hm
	} else {
		httpReq.Headers = hdrs
	}
	if r.body != "" {
		httpReq.RawBody = []byte(r.body)
	}
	ext := map[string]string{
		dataplane.ExtAuthzCtxInstance: model.DefaultInstance, dataplane.ExtAuthzCtxGroup: "g1",
		dataplane.ExtAuthzCtxAPI: r.api, dataplane.ExtAuthzCtxEnv: r.env, dataplane.ExtAuthzCtxPolicy: r.policy,
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:               &authv3.AttributeContext_Peer{Address: sockAddr(r.peer, 51234)},
		Destination:          &authv3.AttributeContext_Peer{Address: sockAddr("10.1.0.5", 443)},
		Request:              &authv3.AttributeContext_Request{Time: timestamppb.New(testNow), Http: httpReq},
		ContextExtensions:    ext,
		MetadataContext:      &corev3.Metadata{},
		RouteMetadataContext: &corev3.Metadata{},
	}}
}

func sockAddr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

// sdkSign is an independent implementation of SDK-HMAC-SHA256
// (docs/apig-semantics.md#app-signature) written the way Huawei's SDK signers
// are — net/url decoding, strings.Join, crypto/hmac — sharing no code with
// package sign. It signs every header in h plus host and returns the headers
// to send.
func sdkSign(method, rawURL string, h map[string]string, body, key, secret string, at time.Time) map[string]string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	date := at.UTC().Format("20060102T150405Z")
	out["X-Sdk-Date"] = date
	lower := map[string]string{}
	names := []string{"host"}
	for k, v := range out {
		lower[strings.ToLower(k)] = v
		names = append(names, strings.ToLower(k))
	}
	lower["host"] = u.Host
	sort.Strings(names)
	esc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	segs := strings.Split(u.Path, "/")
	for i := range segs {
		segs[i] = esc(segs[i])
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			qs = append(qs, esc(k)+"="+esc(v))
		}
	}
	var lines []string
	for _, n := range names {
		lines = append(lines, n+":"+strings.TrimSpace(lower[n]))
	}
	payload := sha256.Sum256([]byte(body))
	payloadHex := hex.EncodeToString(payload[:])
	if v := lower["x-sdk-content-sha256"]; v != "" {
		payloadHex = v
	}
	cr := method + "\n" + uri + "\n" + strings.Join(qs, "&") + "\n" + strings.Join(lines, "\n") + "\n\n" + strings.Join(names, ";") + "\n" + payloadHex
	crHash := sha256.Sum256([]byte(cr))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(crHash[:])))
	out["Authorization"] = "SDK-HMAC-SHA256 Access=" + key + ", SignedHeaders=" + strings.Join(names, ";") + ", Signature=" + hex.EncodeToString(mac.Sum(nil))
	return out
}

// signed returns an envoyRequest for the API, signed for the app by the
// independent signer at time at.
func signed(api, method, pathQuery string, hdrs map[string]string, body, key, secret string, at time.Time) envoyRequest {
	h := sdkSign(method, "https://api.example.com"+pathQuery, hdrs, body, key, secret, at)
	return envoyRequest{method: method, path: pathQuery, headers: h, body: body, api: api}
}

// Decoding responses.

type apigBody struct {
	Code      string `json:"error_code"`
	Msg       string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

func denied(t testing.TB, resp *authv3.CheckResponse) (int, apigBody, map[string]string) {
	t.Helper()
	d := resp.GetDeniedResponse()
	if d == nil || resp.GetStatus().GetCode() == 0 {
		t.Fatalf("expected a denial, got %v", resp)
	}
	hdrs := map[string]string{}
	for _, h := range d.Headers {
		hdrs[strings.ToLower(h.Header.Key)] = h.Header.Value
	}
	var b apigBody
	if strings.HasPrefix(hdrs["content-type"], "application/json") {
		if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
			t.Fatalf("denial body %q is not JSON: %v", d.Body, err)
		}
	}
	return int(d.GetStatus().GetCode()), b, hdrs
}

type allowed struct {
	headers  map[string]string
	removed  []string
	querySet map[string]string
	queryRm  []string
	meta     map[string]string
	respHdrs map[string]string
}

func allowedResp(t testing.TB, resp *authv3.CheckResponse) allowed {
	t.Helper()
	ok := resp.GetOkResponse()
	if resp.GetStatus().GetCode() != 0 || ok == nil {
		body := ""
		if d := resp.GetDeniedResponse(); d != nil {
			body = d.Body
		}
		t.Fatalf("expected allow, got status %d %s", resp.GetStatus().GetCode(), body)
	}
	a := allowed{headers: map[string]string{}, querySet: map[string]string{}, meta: map[string]string{}, respHdrs: map[string]string{}}
	for _, h := range ok.Headers {
		// Envoys with append_action support on OK responses default to
		// APPEND_IF_EXISTS_OR_ADD: a client-sent header of the same name
		// would then reach the backend beside ours.
		//lint:ignore SA1019 the harness checks the field Envoy's ext_authz reads
		if h.Append != nil || h.AppendAction != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			//lint:ignore SA1019 the harness checks the field Envoy's ext_authz reads
			t.Errorf("header %s: append %v, append_action %v; want append_action OVERWRITE_IF_EXISTS_OR_ADD only", h.Header.Key, h.Append, h.AppendAction)
		}
		a.headers[h.Header.Key] = h.Header.Value
	}
	a.removed = ok.HeadersToRemove
	for _, q := range ok.QueryParametersToSet {
		a.querySet[q.Key] = q.Value
	}
	a.queryRm = ok.QueryParametersToRemove
	for k, v := range resp.GetDynamicMetadata().GetFields() {
		a.meta[k] = v.GetStringValue()
	}
	for _, h := range ok.ResponseHeadersToAdd {
		a.respHdrs[h.Header.Key] = h.Header.Value
	}
	return a
}

func metaOf(resp *authv3.CheckResponse) map[string]string {
	m := map[string]string{}
	for k, v := range resp.GetDynamicMetadata().GetFields() {
		m[k] = v.GetStringValue()
	}
	return m
}

// counter returns the value of a counter (or histogram sample count) with
// the given labels from the harness registry.
func (h *harness) counter(name string, labels map[string]string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// upstream returns what Envoy sends upstream after an allow: the route's
// path_rewrite replaces the path with backend_path and keeps the query,
// to which Envoy applied query_parameters_to_remove and _to_set.
func upstream(t testing.TB, reqPath string, a allowed) string {
	t.Helper()
	_, rawQuery, _ := strings.Cut(reqPath, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatalf("request query: %v", err)
	}
	for _, k := range a.queryRm {
		q.Del(k)
	}
	for k, v := range a.querySet {
		dv, err := url.QueryUnescape(v)
		if err != nil {
			t.Fatalf("query_parameters_to_set %s=%q is not encoded: %v", k, v, err)
		}
		q.Set(k, dv)
	}
	path := a.meta[dataplane.ExtAuthzMetaBackendPath]
	if strings.Contains(path, "?") {
		t.Fatalf("backend_path %q must not carry a query: path_rewrite keeps the request's", path)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// sameURL compares two path?query strings, ignoring query order.
func sameURL(a, b string) bool {
	pa, qa, _ := strings.Cut(a, "?")
	pb, qb, _ := strings.Cut(b, "?")
	va, _ := url.ParseQuery(qa)
	vb, _ := url.ParseQuery(qb)
	return pa == pb && va.Encode() == vb.Encode()
}
