package envoysim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	simplecachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache/simple_http_cache/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// The cache filter (envoy.filters.http.cache with simple_http_cache) is
// emulated as Envoy's cacheability rules say
// (source/extensions/filters/http/cache/cacheability_utils.cc): GET and
// HEAD requests without Authorization nor If-None-Match,
// If-Modified-Since, If-Range are looked up by scheme, :authority and
// :path plus the request headers the stored response varies on; a fresh
// entry answers with an age header, response code details
// cache.response_from_cache_filter and flag RFCF.
//
// Such a request that finds no fresh entry is sent by the cache filter
// itself, as Envoy does since 1.33 (CacheFilter::sendUpstreamRequest,
// envoyproxy/envoy#36309): to an endpoint of the route's cluster, with the
// request headers as the cache filter sees them. The route's path and host
// rewrites, its request and response header changes and the filters after
// the cache never act on it (a route without a cluster answers 404
// cache_no_route). The backend's response is stored as it arrives when its
// status is cacheable, it has no no-store / private, has max-age /
// s-maxage or Expires and Date, and its Vary names only allowed headers,
// and reaches the client through the filters before the cache only. The
// store is per emulated Envoy, like the process-wide simple_http_cache.
// Revalidation and ranges are not emulated: a stale entry is a miss.

var cacheableStatuses = []int{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 451, 501}

// cacheStore is the emulated simple_http_cache.
type cacheStore struct {
	entries map[string][]*cacheEntry
}

type cacheEntry struct {
	vary   map[string]string // lower-case request header → value ("\x00" absent)
	resp   *Response
	stored time.Time
	maxAge time.Duration
}

// pendingInsert is a cache miss whose response may be stored.
type pendingInsert struct {
	key     string
	allowed []*matcherv3.StringMatcher
	cfg     *cachev3.CacheConfig
	req     *Headers
}

// deferredMatch is a match_delegate filter whose matcher reads the
// response: its header_mutation acts when the response headers pass it.
type deferredMatch struct {
	name    string
	matcher *xdsmatcherv3.Matcher
	hm      *headermutationv3.HeaderMutation
}

func (s *stream) cacheKey() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.hdr.Value(":authority") + s.hdr.Value(":path")
}

// cacheFilter looks the request up; a fresh entry answers it, otherwise
// the filter's own upstream request (cacheUpstream).
func (s *stream) cacheFilter(ctx context.Context, name string, a *anypb.Any) (*Response, error) {
	cfg := &cachev3.CacheConfig{}
	if err := unpack(a, cfg); err != nil {
		return nil, err
	}
	if !cfg.GetTypedConfig().MessageIs(&simplecachev3.SimpleHttpCacheConfig{}) {
		return nil, fmt.Errorf("cache storage %s is not emulated", cfg.GetTypedConfig().GetTypeUrl())
	}
	if cfg.GetDisabled().GetValue() {
		return nil, nil
	}
	m := s.hdr.Value(":method")
	if m != http.MethodGet && m != http.MethodHead {
		s.tracef("filter %s: %s is not cacheable", name, m)
		return nil, nil
	}
	for _, h := range []string{"authorization", "if-none-match", "if-modified-since", "if-range"} {
		if hasHeader(s.hdr, h) {
			s.tracef("filter %s: request with %s bypasses the cache", name, h)
			return nil, nil
		}
	}
	key := s.cacheKey()
	noCache, noStore := false, false
	if !cfg.GetIgnoreRequestCacheControlHeader() {
		cc := strings.ToLower(s.hdr.Value("cache-control") + "," + s.hdr.Value("pragma"))
		noCache = strings.Contains(cc, "no-cache") || strings.Contains(cc, "max-age=0")
		noStore = strings.Contains(cc, "no-store")
	}
	var insert *pendingInsert
	if m == http.MethodGet && !noStore {
		insert = &pendingInsert{key: key, allowed: cfg.GetAllowedVaryHeaders(), cfg: cfg, req: s.hdr.Clone()}
	}
	if noCache {
		s.tracef("filter %s: client asks to revalidate: miss", name)
		return s.cacheUpstream(ctx, name, insert)
	}
	if r := s.cacheLookup(name, key, m); r != nil {
		return r, nil
	}
	return s.cacheUpstream(ctx, name, insert)
}

// cacheLookup returns a fresh stored answer, or nil.
func (s *stream) cacheLookup(name, key, method string) *Response {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	for _, e := range s.e.cache.entries[key] {
		if !e.varyMatches(s.hdr) {
			continue
		}
		age := time.Since(e.stored)
		if age >= e.maxAge {
			s.tracef("filter %s: stale entry: miss", name)
			return nil
		}
		r := &Response{Status: e.resp.Status, Header: e.resp.Header.Clone(), Body: slices.Clone(e.resp.Body), Details: "cache.response_from_cache_filter", Flags: []string{"RFCF"}}
		if method == http.MethodHead {
			r.Body = nil
		}
		r.Header.Set("age", strconv.Itoa(int(age.Seconds())))
		s.tracef("filter %s: hit", name)
		return r
	}
	s.tracef("filter %s: miss", name)
	return nil
}

// cacheUpstream is the cache filter's own upstream request for a miss:
// the request headers as they are, to the route's cluster, without the
// route's rewrites and header changes; the response is stored (insert not
// nil) before any filter sees it and skips the filters after the cache.
func (s *stream) cacheUpstream(ctx context.Context, name string, insert *pendingInsert) (*Response, error) {
	ra := s.route.GetRoute()
	if ra == nil {
		return s.localReply(http.StatusNotFound, "", nil, "cache_no_route"), nil
	}
	cl := s.cfg.Clusters[ra.GetCluster()]
	if cl == nil {
		return s.localReply(http.StatusServiceUnavailable, "", nil, "cache_no_cluster"), nil
	}
	ep, _, err := s.e.endpoint(s.cfg, cl)
	if err != nil {
		return nil, err
	}
	if ep == "" {
		return s.localReply(http.StatusServiceUnavailable, "no healthy upstream", nil, "no_healthy_upstream", "UH"), nil
	}
	up := s.hdr.Clone()
	s.tracef("filter %s: own upstream request %s %s → cluster %s endpoint %s (no route rewrite nor header changes)", name, up.Value(":method"), up.Value(":path"), cl.GetName(), ep)
	s.cluster, s.endpoint = cl.GetName(), ep
	r, err := s.send(ctx, cl, nil, ep, up, false)
	if err != nil {
		return nil, err
	}
	s.cacheFetched = true
	if insert != nil && r.Details == "via_upstream" {
		s.store(insert, r)
	}
	return r, nil
}

func (e *cacheEntry) varyMatches(h *Headers) bool {
	for k, v := range e.vary {
		got, ok := h.Joined(k)
		if !ok {
			got = "\x00"
		}
		if got != v {
			return false
		}
	}
	return true
}

// encodeBeforeCache runs the match_delegate filters that read the response
// (in the chain after the cache) on a response that passed them: not on an
// answer from the cache, nor on one the cache filter fetched itself.
func (s *stream) encodeBeforeCache(r *Response) error {
	if r.Details == "cache.response_from_cache_filter" || s.cacheFetched {
		return nil
	}
	for i := len(s.deferred) - 1; i >= 0; i-- {
		d := s.deferred[i]
		s.matchResp = HeadersFrom(r.Header)
		s.matchResp.Set(":status", strconv.Itoa(r.Status))
		if n, ok := s.filterContentLength(r); ok {
			s.matchResp.Set("content-length", strconv.FormatInt(n, 10))
		}
		skip, err := s.skipByMatcher(d.matcher)
		s.matchResp = nil
		if err != nil {
			return fmt.Errorf("filter %s: %w", d.name, err)
		}
		if skip {
			s.tracef("filter %s: skipped by its matcher", d.name)
			continue
		}
		opts, err := appendOptions(d.hm.GetMutations().GetResponseMutations())
		if err != nil {
			return fmt.Errorf("filter %s: %w", d.name, err)
		}
		h := HeadersFrom(r.Header)
		x := s.fmtCtx(h)
		x.status, x.details, x.flags = r.Status, r.Details, r.Flags
		if err := applyHeaderOptions(h, opts, x); err != nil {
			return err
		}
		r.Header = h.HTTP()
	}
	return nil
}

// filterContentLength is the content-length header the response has in
// Envoy's filter chain: the backend's own (none when it sent the body
// chunked), and for Envoy's own answers (direct responses, local replies)
// the body's length when there is a body (sendLocalReply sets it then).
// The emulation keeps content-length out of Response.Header (it is
// hop-by-hop here), so the matchers reading the response get it from
// here.
func (s *stream) filterContentLength(r *Response) (int64, bool) {
	if s.upstreamAnswered {
		return s.upstreamLength, s.upstreamLength >= 0
	}
	return int64(len(r.Body)), len(r.Body) > 0
}

// store keeps a cacheable response.
func (s *stream) store(p *pendingInsert, r *Response) {
	if !slices.Contains(cacheableStatuses, r.Status) {
		return
	}
	cc := strings.ToLower(strings.Join(r.Header.Values("cache-control"), ","))
	if strings.Contains(cc, "no-store") || strings.Contains(cc, "private") {
		return
	}
	var maxAge time.Duration
	found := false
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		for _, pre := range []string{"s-maxage=", "max-age="} {
			if v, ok := strings.CutPrefix(d, pre); ok {
				if n, err := strconv.Atoi(v); err == nil && (!found || pre == "s-maxage=") {
					maxAge, found = time.Duration(n)*time.Second, true
				}
			}
		}
	}
	if !found {
		exp, err1 := http.ParseTime(r.Header.Get("expires"))
		date, err2 := http.ParseTime(r.Header.Get("date"))
		if err1 != nil || err2 != nil {
			return
		}
		maxAge = exp.Sub(date)
	}
	vary := map[string]string{}
	for _, v := range r.Header.Values("vary") {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			allowed := false
			for _, m := range p.allowed {
				if ok, _ := matchString(m, n); ok {
					allowed = true
				}
			}
			if !allowed {
				s.tracef("cache: Vary %s not allowed, not stored", n)
				return
			}
			got, ok := p.req.Joined(n)
			if !ok {
				got = "\x00"
			}
			vary[n] = got
		}
	}
	e := &cacheEntry{vary: vary, resp: &Response{Status: r.Status, Header: r.Header.Clone(), Body: slices.Clone(r.Body)}, stored: time.Now(), maxAge: maxAge}
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if s.e.cache.entries == nil {
		s.e.cache.entries = map[string][]*cacheEntry{}
	}
	list := s.e.cache.entries[p.key]
	list = slices.DeleteFunc(list, func(o *cacheEntry) bool { return fmt.Sprint(o.vary) == fmt.Sprint(vary) })
	s.e.cache.entries[p.key] = append(list, e)
	s.tracef("cache: stored %s for %s", p.key, maxAge)
}

// headerMutationFilter runs a header_mutation filter with its per-route
// config (request mutations now, response mutations on the way back).
func (s *stream) headerMutationFilter(name string, cfg, per *anypb.Any) error {
	hm := &headermutationv3.HeaderMutation{}
	if err := unpack(cfg, hm); err != nil {
		return err
	}
	muts := []*headermutationv3.Mutations{hm.GetMutations()}
	if per.GetTypeUrl() != "" {
		pr := &headermutationv3.HeaderMutationPerRoute{}
		if err := unpack(per, pr); err != nil {
			return err
		}
		muts = append(muts, pr.GetMutations())
	}
	for _, m := range muts {
		if err := s.applyMutations(name, m); err != nil {
			return err
		}
	}
	return nil
}
