package extauth

import (
	"net/url"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// request is the client's request as Envoy describes it in a CheckRequest
// (attributes.request.http): headers lower-cased, path with the query,
// body when the route buffers it.
type request struct {
	method, scheme, host string
	path                 string // as sent, without the query
	rawQuery             string
	hdr                  headers
	body                 []byte
	peer                 string // source.address (the TCP peer)
	local                string // destination.address (Envoy's address)
	requestID            string

	query       []queryParam
	queryBuf    [4]queryParam
	queryParsed bool
}

type queryParam struct {
	piece            string // as sent: "k=v" or "k"
	rawKey, key, val string
}

func newRequest(cr *authv3.CheckRequest) request {
	a := cr.GetAttributes()
	h := a.GetRequest().GetHttp()
	r := request{
		method: h.GetMethod(),
		scheme: h.GetScheme(),
		host:   h.GetHost(),
		hdr:    headers{m: h.GetHeaders(), raw: h.GetHeaderMap().GetHeaders()},
		peer:   a.GetSource().GetAddress().GetSocketAddress().GetAddress(),
		local:  a.GetDestination().GetAddress().GetSocketAddress().GetAddress(),
	}
	r.path, r.rawQuery, _ = strings.Cut(h.GetPath(), "?")
	if i := strings.IndexByte(r.rawQuery, '#'); i >= 0 {
		r.rawQuery = r.rawQuery[:i]
	}
	if r.host == "" {
		r.host, _ = r.hdr.get(":authority")
	}
	if r.method == "" {
		r.method, _ = r.hdr.get(":method")
	}
	if len(h.GetRawBody()) > 0 {
		r.body = h.GetRawBody()
	} else if h.GetBody() != "" {
		r.body = []byte(h.GetBody())
	}
	r.requestID, _ = r.hdr.get("x-request-id")
	return r
}

// headers reads Envoy's request headers: the headers map, or header_map
// when the filter sets encode_raw_headers. Names are lower case.
type headers struct {
	m   map[string]string
	raw []*corev3.HeaderValue
	one [1]string
}

func rawValue(h *corev3.HeaderValue) string {
	if h.GetValue() != "" {
		return h.GetValue()
	}
	return string(h.GetRawValue())
}

// get returns a header's value; repeated headers are joined with ",".
func (h *headers) get(name string) (string, bool) {
	if h.raw == nil {
		v, ok := h.m[name]
		return v, ok
	}
	var out string
	found := false
	for _, hv := range h.raw {
		if hv.GetKey() == name {
			if found {
				out += "," + rawValue(hv)
			} else {
				out, found = rawValue(hv), true
			}
		}
	}
	return out, found
}

// Values implements sign.Header. The slice is only valid until the next
// call.
func (h *headers) Values(name string) []string {
	if h.raw == nil {
		v, ok := h.m[name]
		if !ok {
			return nil
		}
		h.one[0] = v
		return h.one[:1]
	}
	var out []string
	n := 0
	for _, hv := range h.raw {
		if hv.GetKey() == name {
			if n == 0 {
				h.one[0] = rawValue(hv)
				out = h.one[:1]
			} else {
				if n == 1 {
					out = []string{out[0]}
				}
				out = append(out, rawValue(hv))
			}
			n++
		}
	}
	return out
}

// each calls f for every header, repeated ones joined with ",".
func (h *headers) each(f func(k, v string)) {
	if h.raw == nil {
		for k, v := range h.m {
			f(k, v)
		}
		return
	}
	seen := map[string]bool{}
	for _, hv := range h.raw {
		if !seen[hv.GetKey()] {
			seen[hv.GetKey()] = true
			v, _ := h.get(hv.GetKey())
			f(hv.GetKey(), v)
		}
	}
}

// params returns the decoded query parameters in order.
func (r *request) params() []queryParam {
	if r.queryParsed {
		return r.query
	}
	r.queryParsed = true
	r.query = r.queryBuf[:0]
	for q := r.rawQuery; q != ""; {
		var piece string
		piece, q, _ = strings.Cut(q, "&")
		if piece == "" {
			continue
		}
		rk, rv, _ := strings.Cut(piece, "=")
		k, err := url.QueryUnescape(rk)
		if err != nil {
			k = rk
		}
		v, err := url.QueryUnescape(rv)
		if err != nil {
			v = rv
		}
		r.query = append(r.query, queryParam{piece: piece, rawKey: rk, key: k, val: v})
	}
	return r.query
}

// queryValue returns the first value of a decoded query parameter.
func (r *request) queryValue(name string) (string, bool) {
	for _, p := range r.params() {
		if p.key == name {
			return p.val, true
		}
	}
	return "", false
}

// cookie returns a cookie's value.
func (r *request) cookie(name string) (string, bool) {
	line, ok := r.hdr.get("cookie")
	if !ok {
		return "", false
	}
	for part := range strings.SplitSeq(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k == name {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}

// Header and Query make a request an authorizer.Source.
func (r *request) Header(name string) (string, bool) { return r.hdr.get(name) }

// Query returns the first value of a decoded query parameter.
func (r *request) Query(name string) (string, bool) { return r.queryValue(name) }
