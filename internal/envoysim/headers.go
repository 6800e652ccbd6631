package envoysim

import (
	"net/http"
	"strings"
)

// Headers are HTTP headers as Envoy holds them: lower-case names, pseudo
// headers (:method, :path, :authority, :scheme) included, order kept.
type Headers struct {
	kv []headerKV
}

type headerKV struct{ k, v string }

// HeadersFrom converts Go headers (any case) to Envoy's form.
func HeadersFrom(h http.Header) *Headers {
	out := &Headers{}
	for k, vs := range h {
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	return out
}

// Clone returns a copy.
func (h *Headers) Clone() *Headers {
	return &Headers{kv: append([]headerKV(nil), h.kv...)}
}

// Get returns the first value of a header.
func (h *Headers) Get(name string) (string, bool) {
	name = strings.ToLower(name)
	for _, e := range h.kv {
		if e.k == name {
			return e.v, true
		}
	}
	return "", false
}

// Value returns the first value of a header, or "".
func (h *Headers) Value(name string) string {
	v, _ := h.Get(name)
	return v
}

// Values returns every value of a header.
func (h *Headers) Values(name string) []string {
	name = strings.ToLower(name)
	var out []string
	for _, e := range h.kv {
		if e.k == name {
			out = append(out, e.v)
		}
	}
	return out
}

// Joined returns the values of a header joined with "," (how Envoy
// presents repeated headers to matchers and to ext_authz's headers map).
func (h *Headers) Joined(name string) (string, bool) {
	vs := h.Values(name)
	return strings.Join(vs, ","), len(vs) > 0
}

// Add appends a value.
func (h *Headers) Add(name, value string) {
	h.kv = append(h.kv, headerKV{strings.ToLower(name), value})
}

// Set replaces every value of a header with one value, keeping the
// position of the first.
func (h *Headers) Set(name, value string) {
	name = strings.ToLower(name)
	for i, e := range h.kv {
		if e.k == name {
			h.kv[i].v = value
			h.del(name, i+1)
			return
		}
	}
	h.kv = append(h.kv, headerKV{name, value})
}

// Del removes a header.
func (h *Headers) Del(name string) { h.del(strings.ToLower(name), 0) }

func (h *Headers) del(name string, from int) {
	out := h.kv[:from]
	for _, e := range h.kv[from:] {
		if e.k != name {
			out = append(out, e)
		}
	}
	h.kv = out
}

// Each calls f for every name and value, in order.
func (h *Headers) Each(f func(name, value string)) {
	for _, e := range h.kv {
		f(e.k, e.v)
	}
}

// Names returns the distinct names in order.
func (h *Headers) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range h.kv {
		if !seen[e.k] {
			seen[e.k] = true
			out = append(out, e.k)
		}
	}
	return out
}

// HTTP converts to Go headers, without pseudo headers.
func (h *Headers) HTTP() http.Header {
	out := http.Header{}
	for _, e := range h.kv {
		if !strings.HasPrefix(e.k, ":") {
			out.Add(e.k, e.v)
		}
	}
	return out
}

// path returns :path without the query and fragment.
func (h *Headers) path() string {
	p := h.Value(":path")
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// query returns the raw query of :path ("" if none).
func (h *Headers) query() string {
	p := h.Value(":path")
	i := strings.IndexByte(p, '?')
	if i < 0 {
		return ""
	}
	q := p[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	return q
}
