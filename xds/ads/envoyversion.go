package ads

import (
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// minScopedRoutes is the first Envoy release that starts the SRDS
// subscription of a listener arriving over LDS after its initialization
// (envoyproxy/envoy#43392, fixing a regression of #33192). Older Envoys
// serve 404 forever after any such listener update, so they are served
// the single-RouteConfiguration listeners instead.
var minScopedRoutes = [3]uint32{1, 38, 0}

// envoyVersion returns an Envoy's release from its node.
func envoyVersion(n *corev3.Node) ([3]uint32, bool) {
	if n.GetUserAgentName() != "envoy" {
		return [3]uint32{}, false
	}
	if v := n.GetUserAgentBuildVersion().GetVersion(); v != nil {
		return [3]uint32{v.MajorNumber, v.MinorNumber, v.Patch}, true
	}
	// user_agent_version is a free-form string: "1.37.2" or "v1.37.2-dev".
	s := strings.TrimPrefix(n.GetUserAgentVersion(), "v")
	var out [3]uint32
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return out, false
	}
	for i, p := range parts {
		if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			p = p[:j]
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return out, false
		}
		out[i] = uint32(n)
	}
	return out, true
}

// scopedRoutes reports whether an Envoy can be served scoped routes, and
// its version for the logs.
func scopedRoutes(n *corev3.Node) (bool, string) {
	v, ok := envoyVersion(n)
	if !ok {
		return false, "unknown"
	}
	s := fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
	for i := range v {
		if v[i] != minScopedRoutes[i] {
			return v[i] > minScopedRoutes[i], s
		}
	}
	return true, s
}
