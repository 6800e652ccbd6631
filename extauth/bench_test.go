package extauth_test

import (
	"context"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// BenchmarkCheck measures the in-process Check (no gRPC) per
// authentication kind. Run with
//
//	go test ./extauth -run '^$' -bench BenchmarkCheck -benchmem
func BenchmarkCheck(b *testing.B) {
	az := newAuthzServer(b)
	h := newHarness(b, newFixture(az.URL, nil).instance(b))
	body := strings.Repeat("x", 1024)
	cases := []struct {
		name string
		req  *authv3.CheckRequest
	}{
		{"app_sig", signed("api-sig", "GET", "/items/42?b=2&a=1", map[string]string{"Content-Type": "application/json"}, "", key1, secret1, testNow).checkRequest()},
		{"app_sig_11_mappings", signed("api-app", "GET", "/pets/42?b=2&a=1", map[string]string{"Content-Type": "application/json"}, "", key1, secret1, testNow).checkRequest()},
		{"app_sig_body_1KiB", func() *authv3.CheckRequest {
			r := signed("api-post", "POST", "/orders", map[string]string{"Content-Type": "application/json"}, body, key1, secret1, testNow)
			return r.checkRequest()
		}()},
		{"appcode", envoyRequest{api: "api-code", path: "/code", headers: map[string]string{"X-Apig-AppCode": appCode1}}.checkRequest()},
		{"authorizer_hit", envoyRequest{api: "api-authz-lite", path: "/lite", headers: map[string]string{"X-Token": "alice"}}.checkRequest()},
		{"none", envoyRequest{api: "api-mock", path: "/mock"}.checkRequest()},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			resp, err := h.srv.Check(ctx, c.req)
			if err != nil || resp.GetStatus().GetCode() != 0 {
				b.Fatalf("not allowed: %v %v", err, resp)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.srv.Check(ctx, c.req)
			}
		})
	}
}
