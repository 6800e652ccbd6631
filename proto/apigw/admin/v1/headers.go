package adminv1

import (
	"net/http"
	"sort"
)

// HeadersOf lists h as Header messages, by name in sorted order and, for
// one name, in the order of its values (how explain requests and answers
// carry headers).
func HeadersOf(h http.Header) []*Header {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []*Header
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, &Header{Name: k, Value: v})
		}
	}
	return out
}
