package cli_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/apigw/apigw/explain"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

const explainYAML = `kind: group
name: shop
url_domains: [{domain: shop.example.com}]
---
kind: api
name: get_pet
group_id: shop
req_protocol: BOTH
req_method: GET
req_uri: /pets/{id}
auth_type: APP
req_params:
  - {name: id, location: PATH, type: STRING, required: 1}
backend_api:
  req_protocol: HTTP
  req_method: GET
  url_domain: 127.0.0.1:9
  req_uri: /v1/pets/{id}
  timeout: 3000
---
kind: app
name: mobile
`

// apigctl explain asks apigw how it would handle a request: with --app
// the request is signed server-side and reaches the backend; without it
// ext_authz denies it with APIG.0303.
func TestExplain(t *testing.T) {
	e := &env{t: t, srv: admintest.StartWith(t, func(gs *grpc.Server, feed *live.Feed) {
		svc, err := explain.New(feed, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		adminv1.RegisterDebugServiceServer(gs, svc)
	})}
	e.must(explainYAML, "apply", "-f", "-")
	e.must("", "bind", "app", "mobile", "--env", "RELEASE", "--api", "get_pet")
	e.must("", "publish", "get_pet", "--group", "shop")
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out = e.must("", "explain", "http://shop.example.com/pets/7?x=1", "--app", "mobile"); strings.Contains(out, "Route:     api get_pet") {
			break
		}
	}
	for _, want := range []string{"Route:     api get_pet", "Auth:      allowed", "Backend:   GET http://127.0.0.1:9/v1/pets/7?x=1 (endpoint 127.0.0.1:9)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain with --app: no %q in\n%s", want, out)
		}
	}
	out = e.must("", "explain", "http://shop.example.com/pets/7")
	if !strings.Contains(out, "Auth:      denied 401 APIG.0303") || !strings.Contains(out, "Response:  401 from the gateway") {
		t.Errorf("unsigned explain:\n%s", out)
	}
	if out := e.must("", "explain", "http://shop.example.com/owners/1", "-o", "json"); !strings.Contains(out, `"matched"`) && !strings.Contains(out, `"reason"`) {
		t.Errorf("json output:\n%s", out)
	}
}
