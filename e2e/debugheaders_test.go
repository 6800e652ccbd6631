package e2e

import (
	"net/http"
	"strconv"
	"testing"
)

// In debug mode (X-Apig-Mode: debug) responses from a backend carry
// X-Apig-Latency and X-Apig-Upstream-Latency (ms); mocks carry neither
// (no backend), and calls without debug mode never do.
func debugLatencyHeaders(t *testing.T, w *world) {
	debug := http.Header{"X-Apig-Mode": {"debug"}}
	r := do(t, w.gw, call{path: "/pets", header: debug, key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	lat, up := r.header.Get("X-Apig-Latency"), r.header.Get("X-Apig-Upstream-Latency")
	l, err1 := strconv.Atoi(lat)
	u, err2 := strconv.Atoi(up)
	if err1 != nil || err2 != nil || l < 0 || u < 0 || u > l {
		t.Errorf("debug call: X-Apig-Latency %q, X-Apig-Upstream-Latency %q", lat, up)
	}
	r = do(t, w.gw, call{path: "/pets", key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	if v := r.header.Values("X-Apig-Latency"); len(v) > 0 || r.header.Get("X-Apig-Upstream-Latency") != "" {
		t.Errorf("latency headers without debug mode: %v", r.header)
	}
	r = do(t, w.gw, call{path: "/health", header: debug})
	wantStatus(t, r, http.StatusOK)
	if r.header.Get("X-Apig-Upstream-Latency") != "" {
		t.Errorf("mock response with X-Apig-Upstream-Latency: %v", r.header)
	}
}
