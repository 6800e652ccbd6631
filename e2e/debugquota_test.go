package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
)

// The debug sub-domain answers 1000 calls per group and day: the 1001st
// gets 429 APIG.0308 and reaches no backend, while the group's bound
// domain is not limited; with sl_domain_quota_enabled false the debug
// sub-domain answers again.
func TestDebugDomainQuota(t *testing.T) {
	const api = `---
kind: api
name: open
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /open
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /open, timeout: 5000}
`
	// The instance default (200 calls per second per API) must not
	// interfere with the 1000 quick calls.
	w := startFS(t, "kind: instance\nname: default\nconfig: {ratelimit: {api_limits: 100000}}\n---\n"+fsGroup+api)
	debug := "failsafe.apigw.local"
	w.waitHosts(t, debug)
	for i := range model.DebugDomainDailyCalls {
		r := w.call(t, call{host: debug, path: "/open"})
		if r.status != http.StatusOK {
			t.Fatalf("call %d through the debug sub-domain: %s", i+1, r)
		}
	}
	r := w.call(t, call{host: debug, path: "/open"})
	apigError(t, r, http.StatusTooManyRequests, "APIG.0308")
	w.noUpstreamFS(t, r)
	wantStatus(t, w.call(t, call{path: "/open"}), http.StatusOK)

	w.apply(t, fsGroup+"sl_domain_quota_enabled: false\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		for _, rc := range c.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, rt := range vh.GetRoutes() {
					for _, rl := range rt.GetRoute().GetRateLimits() {
						for _, a := range rl.GetActions() {
							if a.GetGenericKey().GetDescriptorValue() == "debug_domain" {
								return fmt.Errorf("route %s still counts the debug sub-domain", rt.GetName())
							}
						}
					}
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, w.call(t, call{host: debug, path: "/open"}), http.StatusOK)
}
