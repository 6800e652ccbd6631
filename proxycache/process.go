package proxycache

import (
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// replayed are the response headers APIG replays from a cached answer,
// besides the plug-in's cacheable_headers.
var replayed = []string{"content-type", "content-encoding", "content-language"}

// pending is a miss whose response may be stored.
type pending struct {
	key, hash string
	c         *apigwv1.ProxyCacheContent
	noStore   bool // the client asked for no-store (mode all)
	status    int
	headers   [][2]string
	ttl       time.Duration
}

func continueHeaders(req bool) *extprocv3.ProcessingResponse {
	if req {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}}
}

func continueBody(req bool) *extprocv3.ProcessingResponse {
	if req {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{}}}
}

// Process handles one HTTP request's ext_proc stream.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	scope, status := "", ""
	if md, ok := metadata.FromIncomingContext(stream.Context()); ok {
		if vs := md.Get(ScopeMetadata); len(vs) > 0 {
			scope = vs[0]
		}
		if vs := md.Get(dataplane.CacheStatusHeaders); len(vs) > 0 {
			status = vs[0]
		}
	}
	var p *pending
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var resp *extprocv3.ProcessingResponse
		switch r := req.GetRequest().(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			var hit *extprocv3.ProcessingResponse
			hit, p = s.lookup(scope, headerMap(r.RequestHeaders.GetHeaders()))
			if hit != nil {
				addCacheStatus(hit.GetImmediateResponse(), status)
				return stream.Send(hit)
			}
			resp = continueHeaders(true)
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			h := headerMap(r.ResponseHeaders.GetHeaders())
			if p != nil && !s.cacheable(p, h) {
				p = nil
			}
			if p != nil && r.ResponseHeaders.GetEndOfStream() {
				s.save(p, nil)
				p = nil
			}
			resp = continueHeaders(false)
		case *extprocv3.ProcessingRequest_ResponseBody:
			b := r.ResponseBody
			if p != nil {
				// BUFFERED_PARTIAL: a body over Envoy's buffer comes
				// incomplete (end_of_stream false) and is not stored.
				if b.GetEndOfStream() && len(b.GetBody()) <= model.ProxyCacheMaxBodyBytes {
					s.save(p, b.GetBody())
				}
				p = nil
			}
			resp = continueBody(false)
		case *extprocv3.ProcessingRequest_RequestBody:
			resp = continueBody(true)
		case *extprocv3.ProcessingRequest_RequestTrailers:
			resp = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
		case *extprocv3.ProcessingRequest_ResponseTrailers:
			resp = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
		default:
			continue
		}
		if err := stream.Send(resp); err != nil {
			s.m.errors.Inc()
			return err
		}
	}
}

// headers is a request's or response's headers, lower-case names.
type headers map[string][]string

func headerMap(m *corev3.HeaderMap) headers {
	out := headers{}
	for _, h := range m.GetHeaders() {
		v := h.GetValue()
		if len(h.GetRawValue()) > 0 {
			v = string(h.GetRawValue())
		}
		k := strings.ToLower(h.GetKey())
		out[k] = append(out[k], v)
	}
	return out
}

func (h headers) get(k string) string {
	if vs := h[k]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (h headers) joined(k string) (string, bool) {
	vs, ok := h[k]
	return strings.Join(vs, ","), ok
}

// directives are the lower-case Cache-Control (and Pragma) directives.
func directives(h headers, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		for _, v := range h[n] {
			for _, d := range strings.Split(v, ",") {
				k, val, _ := strings.Cut(strings.TrimSpace(d), "=")
				if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
					out[k] = strings.Trim(strings.TrimSpace(val), `"`)
				}
			}
		}
	}
	return out
}

// key is the cache key: the scope, method, path, the listed query
// parameters (sorted by name, every value in order) and the listed
// request headers (absent and empty differ).
func key(scope, method, path string, c *apigwv1.ProxyCacheContent, h headers) string {
	p, rawQuery, _ := strings.Cut(path, "?")
	var b strings.Builder
	b.WriteString(scope)
	b.WriteString("\x00" + method + "\x00" + p)
	q, _ := url.ParseQuery(rawQuery)
	names := slices.Clone(c.GetCacheKey().GetParameters())
	slices.Sort(names)
	for _, n := range names {
		b.WriteString("\x00q:" + n)
		if vs, ok := q[n]; ok {
			b.WriteString("=" + strings.Join(vs, "\x01"))
		}
	}
	for _, n := range c.GetCacheKey().GetHeaders() {
		n = strings.ToLower(n)
		b.WriteString("\x00h:" + n)
		if v, ok := h.joined(n); ok {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}

// lookup answers a fresh entry, or returns the pending store of a miss
// (nil when the request is not cacheable).
func (s *Server) lookup(scope string, h headers) (*extprocv3.ProcessingResponse, *pending) {
	_, hash, ok := parseScope(scope)
	if !ok {
		return nil, nil
	}
	c := s.content(hash)
	if c == nil {
		return nil, nil
	}
	method := h.get(":method")
	if method != "GET" && method != "HEAD" {
		return nil, nil
	}
	// One caller's answer is never given to another: requests with
	// credentials in Authorization, and conditional or range requests,
	// bypass the cache.
	for _, n := range []string{"authorization", "if-none-match", "if-modified-since", "if-range", "range"} {
		if _, ok := h[n]; ok {
			return nil, nil
		}
	}
	p := &pending{key: key(scope, method, h.get(":path"), c, h), hash: hash, c: c}
	lookup := true
	if model.ProxyCacheClientControl(c) {
		d := directives(h, "cache-control", "pragma")
		_, noCache := d["no-cache"]
		_, noStore := d["no-store"]
		ma, hasMaxAge := d["max-age"]
		lookup = !noCache && !noStore && !(hasMaxAge && ma == "0")
		p.noStore = noStore
	}
	if lookup {
		if e := s.store.get(p.key, s.now()); e != nil {
			s.m.hits.Inc()
			return hitResponse(e), nil
		}
	}
	s.m.misses.Inc()
	if p.noStore {
		return nil, nil
	}
	return nil, p
}

// addCacheStatus adds the $context.cacheStatus headers of the route's
// set_resp_headers plug-in to an answer from the cache.
func addCacheStatus(ir *extprocv3.ImmediateResponse, names string) {
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			ir.Headers.SetHeaders = append(ir.Headers.SetHeaders, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: n, RawValue: []byte(dataplane.CacheHitDetails)},
				AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
			})
		}
	}
}

func hitResponse(e *entry) *extprocv3.ProcessingResponse {
	// Envoy's local reply already has a content-type (text/plain with a
	// body): the first value of a header replaces it, later ones add.
	hm := &extprocv3.HeaderMutation{}
	seen := map[string]bool{}
	for _, h := range e.headers {
		action := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		if seen[h[0]] {
			action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		seen[h[0]] = true
		hm.SetHeaders = append(hm.SetHeaders, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])},
			AppendAction: action,
		})
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(e.status)},
		Headers: hm,
		Body:    e.body,
		Details: dataplane.CacheHitDetails,
	}}}
}

// cacheable decides from the response headers whether the response may
// be stored, and for how long.
func (s *Server) cacheable(p *pending, h headers) bool {
	status, err := strconv.Atoi(h.get(":status"))
	if err != nil {
		return false
	}
	if _, ok := h["set-cookie"]; ok {
		return false
	}
	if cl := h.get("content-length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n > model.ProxyCacheMaxBodyBytes {
			return false
		}
	}
	d := directives(h, "cache-control")
	for _, k := range []string{"no-store", "private", "no-cache"} {
		if _, ok := d[k]; ok {
			return false
		}
	}
	if v := h.get("vary"); strings.TrimSpace(v) == "*" {
		return false
	}
	var ttl time.Duration
	for _, k := range []string{"s-maxage", "max-age"} {
		if v, ok := d[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return false
			}
			ttl = time.Duration(n) * time.Second
			break
		}
	}
	if ttl == 0 && len(h["cache-control"]) == 0 {
		for _, r := range p.c.GetCacheHttpStatusAndTtl() {
			if slices.Contains(r.GetHttpStatus(), int32(status)) {
				ttl = time.Duration(r.GetTtl()) * time.Second
			}
		}
	}
	if ttl <= 0 || !slices.Contains(model.ProxyCacheStatuses(), int32(status)) {
		return false
	}
	keep := slices.Clone(replayed)
	for _, n := range p.c.GetCacheableHeaders() {
		keep = append(keep, strings.ToLower(n))
	}
	for _, n := range keep {
		for _, v := range h[n] {
			p.headers = append(p.headers, [2]string{n, v})
		}
	}
	p.status, p.ttl = status, ttl
	return true
}

func (s *Server) save(p *pending, body []byte) {
	s.store.put(&entry{key: p.key, hash: p.hash, status: p.status, headers: p.headers, body: slices.Clone(body), expires: s.now().Add(p.ttl)})
}
