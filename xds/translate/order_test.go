package translate

import (
	"slices"
	"testing"

	"github.com/apigw/apigw/model"
)

// TestRouteOrder checks APIG's priority
// (docs/apig-semantics.md#route-priority) on a shuffled set.
func TestRouteOrder(t *testing.T) {
	key := func(uri, mode, method string) routeKey {
		tmpl, err := model.ParseFrontendPath(uri)
		if err != nil {
			t.Fatal(err)
		}
		fe, err := parseFrontend(tmpl, uri, mode)
		if err != nil {
			t.Fatal(err)
		}
		return routeKey{class: fe.class, segs: fe.segs, path: uri, method: methodRank(method), apiID: uri + " " + mode + " " + method}
	}
	want := []routeKey{
		key("/test/AA", model.MatchNormal, "GET"),
		key("/test/AA", model.MatchNormal, model.MethodAny),
		key("/users/me", model.MatchNormal, "GET"),
		key("/users/{id}", model.MatchNormal, "GET"),
		key("/{a}/{b}", model.MatchNormal, "GET"),
		key("/files/x/{p+}", model.MatchNormal, "GET"),
		key("/files/{p+}", model.MatchNormal, "GET"),
		key("/test/AA/BB", model.MatchPrefix, "GET"),
		key("/test/AA", model.MatchPrefix, "GET"),
		key("/test/AA", model.MatchPrefix, model.MethodAny),
		key("/test", model.MatchPrefix, "GET"),
		key("/", model.MatchPrefix, model.MethodAny),
	}
	items := make([]routeItem, len(want))
	for i, k := range want {
		items[(i*7)%len(want)] = routeItem{key: k}
	}
	sortItems(items)
	var got, exp []string
	for i := range items {
		got = append(got, items[i].key.apiID)
		exp = append(exp, want[i].apiID)
	}
	if !slices.Equal(got, exp) {
		t.Errorf("order:\n got %q\nwant %q", got, exp)
	}
}
