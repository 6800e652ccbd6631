package translate

import (
	"cmp"
	"slices"

	"github.com/apigw/apigw/model"
)

// routeKey places a route in APIG's priority order
// (docs/apig-semantics.md#route-priority): exact paths, then templates, then
// greedy templates, then prefixes longest first; literal segments before
// parameters; method-specific before CORS preflights before ANY; policy
// backends before the default backend.
type routeKey struct {
	class          int
	segs           []model.Segment
	path           string
	method         int
	apiID, env     string
	order, variant int
}

func compareKeys(a, b routeKey) int {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	if a.class == classPrefix || a.class == classGreedy {
		if c := cmp.Compare(len(b.segs), len(a.segs)); c != 0 {
			return c
		}
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		sa, sb := a.segs[i], b.segs[i]
		switch {
		case sa.Param == "" && sb.Param != "":
			return -1
		case sa.Param != "" && sb.Param == "":
			return 1
		case sa.Param == "" && sa.Literal != sb.Literal:
			return cmp.Compare(sa.Literal, sb.Literal)
		}
	}
	return cmp.Or(
		cmp.Compare(len(a.segs), len(b.segs)),
		cmp.Compare(a.path, b.path),
		cmp.Compare(a.method, b.method),
		cmp.Compare(a.apiID, b.apiID),
		cmp.Compare(a.env, b.env),
		cmp.Compare(a.order, b.order),
		cmp.Compare(a.variant, b.variant),
	)
}

func sortItems(items []routeItem) {
	slices.SortStableFunc(items, func(a, b routeItem) int { return compareKeys(a.key, b.key) })
}
