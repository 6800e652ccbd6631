package cli_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/cli"
)

// get all lists every kind, like kubectl: one table per kind, or with
// --group only what belongs to the group and its APIs.
func TestGetAllListsEveryKindOfTheInstanceOrGroup(t *testing.T) {
	e := start(t)
	e.must(`kind: group
name: pets
---
kind: group
name: shop
---
kind: api
name: get_pet
group_id: pets
req_method: GET
req_uri: /pets
backend_type: MOCK
mock_info: {result_content: ok}
---
kind: api
name: get_order
group_id: shop
req_method: GET
req_uri: /orders
backend_type: MOCK
mock_info: {result_content: ok}
---
kind: throttle
name: basic
api_call_limits: 10
time_interval: 1
time_unit: MINUTE
---
kind: throttle_binding
api_id: get_pet
env_id: RELEASE
strategy_id: basic
---
kind: app
name: mobile
`, "apply", "-f", "-")
	out := e.must("", "get", "all")
	contains(t, "get all", out, "group:\n", "api:\n", "throttle:\n", "app:\n", "throttle_binding:\n", "environment:\n", "get_pet", "get_order", "mobile", "basic")
	out = e.must("", "get", "all", "--group", "pets", "-o", "name")
	for _, want := range []string{"group/pets", "api/get_pet", "throttle_binding/"} {
		if !strings.Contains(out, want) {
			t.Errorf("get all --group pets lacks %s:\n%s", want, out)
		}
	}
	for _, not := range []string{"group/shop", "api/get_order", "app/mobile", "throttle/basic"} {
		if strings.Contains(out, not) {
			t.Errorf("get all --group pets lists %s:\n%s", not, out)
		}
	}
	y := e.must("", "get", "all", "--group", "shop", "-o", "yaml", "--export")
	contains(t, "yaml", y, "kind: group", "name: shop", "kind: api", "name: get_order")
	if r := e.run("", "get", "all", "--env", "RELEASE"); r.code != cli.ExitUsage {
		t.Errorf("get all --env: exit %d", r.code)
	}
	if r := e.run("", "get", "all", "--group", "nope"); r.code != cli.ExitNotFound {
		t.Errorf("get all --group nope: exit %d %s", r.code, r.err)
	}
}
