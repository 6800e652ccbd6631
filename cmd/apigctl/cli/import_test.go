package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/cli"
)

func corpus(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "openapi", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const ordersChannel = `kind: vpc_channel
name: orders_channel
port: 8080
members:
- host: 10.0.0.5
  weight: 1
`

// Importing the complete Swagger 2.0 example of APIG's extension reference
// (testdata/swagger2_shop.yaml) creates the group, API, backends, policies
// and bindings, export reproduces it, and export → import → export is
// identical.
func TestImportShopExampleThenExportRoundTrips(t *testing.T) {
	e := start(t)
	e.must(ordersChannel, "apply", "-f", "-")
	out := e.must("", "import", "-f", corpus(t, "swagger2_shop.yaml"))
	contains(t, "import", out, "group/shop_api created", "api/getOrder created", "throttle/rl_basic created", "acl/acl_deny_lab created",
		"throttle_binding/", "acl_binding/")
	api := e.must("", "get", "api", "getOrder", "-o", "yaml")
	contains(t, "imported API", api, "auth_type: APP", "app_code_auth_type: HEADER", "req_uri: /v1/orders/{id}", "vpc_channel_status: 1",
		"req_uri: /#prefix#/orders/{id}", "name: gray", "condition_value: gray", "type: 2", "result_normal_sample:")
	out = e.must("", "get", "throttle_bindings", "--api", "getOrder")
	contains(t, "bindings", out, "DEFAULT_ENVIRONMENT_RELEASE_ID")

	// Re-importing the same file changes nothing.
	out = e.must("", "import", "-f", corpus(t, "swagger2_shop.yaml"))
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(l, "unchanged") {
			t.Errorf("re-import changed: %s", l)
		}
	}

	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "shop_api", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-backend:", "httpVpcEndpoints:", "name: orders_channel", "x-apigateway-ratelimits:",
			"rl_basic:", "acl_deny_lab:", "appcode-auth-type: header", "x-apigateway-backend-policies:", "operationId: getOrder")
		// Import the export into another instance and export again.
		inst := "rt" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		e.must(ordersChannel, "--instance", inst, "apply", "-f", "-")
		f := writeFile(t, t.TempDir(), "export.yaml", first)
		e.must("", "--instance", inst, "import", "-f", f)
		second := e.must("", "--instance", inst, "export", "--group", "shop_api", "--draft", "--oas", oas)
		if first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

func TestImportEveryCorpusFileAndRoundTrip(t *testing.T) {
	e := start(t)
	setup := `kind: vpc_channel
name: pets_canary
port: 443
members: [{host: 10.0.0.7}]
---
kind: vpc_channel
name: orders_channel
port: 80
members: [{host: 10.0.0.8}]
---
kind: app
name: partner_app
---
kind: plugin
plugin_name: cors_plugin_1
plugin_type: cors
plugin_content: '{"allow_origin":"*","allow_methods":"GET,POST,PUT,DELETE,PATCH,HEAD"}'
---
kind: orchestration
orchestration_name: tenant_to_shard
orchestration_strategy: list
orchestration_mapped_param: {mapped_param_name: X-Shard, mapped_param_type: number, mapped_param_location: header}
orchestration_map:
  - {map_param_list: ["10001", "10002"], mapped_param_value: "1"}
  - {map_param_list: ["10003", "10004"], mapped_param_value: "2"}
`
	e.must(setup, "apply", "-f", "-")
	for _, name := range []string{"swagger2_all.json", "oas30_all.yaml", "oas31_all.json", "huawei_export.yaml"} {
		t.Run(name, func(t *testing.T) {
			r := e.run("", "import", "-f", corpus(t, name))
			if r.code != 0 {
				t.Fatalf("import: exit %d\n%s\n%s", r.code, r.out, r.err)
			}
			group := strings.TrimPrefix(strings.Split(r.out, " ")[0], "group/")
			if group == "orders" { // its backend address is a variable
				e.must("kind: env_variable\ngroup_id: orders\nenv_id: RELEASE\nvariable_name: orders_host\nvariable_value: orders.internal:8443\n", "apply", "-f", "-")
			}
			out := e.must("", "publish", "--all", "--group", group)
			contains(t, "publish", out, "published to RELEASE")
			if group == "orders" { // published definitions have their variables resolved
				contains(t, "published export", e.must("", "export", "--group", group), "address: orders.internal:8443")
				contains(t, "draft export", e.must("", "export", "--group", group, "--draft"), "address: '#orders_host#'")
			}
			for _, oas := range []string{"2.0", "3.0"} {
				first := e.must("", "export", "--group", group, "--oas", oas, "-o", "json", "--draft")
				f := writeFile(t, t.TempDir(), "x.json", first)
				// Into the same group: nothing changes.
				out := e.must("", "import", "-f", f, "--group", group)
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					if !strings.HasSuffix(l, "unchanged") {
						t.Errorf("%s: re-import of the export changed: %s", oas, l)
					}
				}
				second := e.must("", "export", "--group", group, "--oas", oas, "-o", "json", "--draft")
				if first != second {
					t.Errorf("%s export differs after re-import:\n%s\n---\n%s", oas, first, second)
				}
			}
		})
	}
}

func TestImportConvertsToApplyDocuments(t *testing.T) {
	e := start(t)
	e.must(ordersChannel, "apply", "-f", "-")
	y := e.must("", "import", "-f", corpus(t, "swagger2_shop.yaml"), "-o", "yaml", "--group", "shop")
	contains(t, "converted", y, "kind: group\nname: shop", "kind: api", "kind: throttle_binding", "api_id: getOrder")
	out := e.must(y, "apply", "-f", "-")
	contains(t, "applied", out, "api/getOrder created", "throttle_binding/")
	out = e.must(y, "apply", "-f", "-")
	if strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("re-apply changed something:\n%s", out)
	}
}

func TestImportConflictsAndDryRun(t *testing.T) {
	e := start(t)
	e.must(ordersChannel, "apply", "-f", "-")
	shop := corpus(t, "swagger2_shop.yaml")
	out := e.must("", "import", "-f", shop, "--dry-run")
	contains(t, "dry run", out, "+++ api/getOrder (after apply)", "api/getOrder created (dry run)")
	if r := e.run("", "get", "group", "shop_api"); r.code != cli.ExitNotFound {
		t.Fatalf("dry run imported: %d", r.code)
	}
	e.must("", "import", "-f", shop)
	data, _ := os.ReadFile(shop)
	changed := strings.Replace(string(data), "timeout: 10000}\n      x-apigateway-backend-policies", "timeout: 20000}\n      x-apigateway-backend-policies", 1)
	changed = strings.Replace(changed, "api-limit: 1000", "api-limit: 900", 1)
	f := writeFile(t, t.TempDir(), "shop.yaml", changed)

	r := e.run("", "import", "-f", f)
	if r.code != cli.ExitConflict {
		t.Fatalf("conflicting import: exit %d: %s", r.code, r.err)
	}
	contains(t, "conflicts", r.err, "api/getOrder", "throttle/rl_basic", "nothing was imported")

	out = e.must("", "import", "-f", f, "--conflict", "skip")
	contains(t, "skip", out, "api/getOrder skipped", "throttle/rl_basic skipped")
	contains(t, "kept", e.must("", "get", "api", "getOrder", "-o", "yaml"), "timeout: 10000")

	out = e.must("", "import", "-f", f, "--conflict", "overwrite", "--dry-run")
	contains(t, "overwrite dry run", out, "-  timeout: 10000", "+  timeout: 20000")
	e.must("", "import", "-f", f, "--conflict", "overwrite")
	contains(t, "overwritten", e.must("", "get", "api", "getOrder", "-o", "yaml"), "timeout: 20000")

	if r := e.run("", "import", "-f", f, "--new-group"); r.code != cli.ExitConflict {
		t.Errorf("--new-group into an existing group: exit %d", r.code)
	}
}

func TestMalformedImportsChangeNothing(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	tests := []struct {
		name, doc, want string
		code            int
	}{
		{"not openapi", "hello: world\n", "not an OpenAPI document", cli.ExitInvalid},
		{"broken yaml", "swagger: '2.0'\npaths: [\n", "not YAML or JSON", cli.ExitInvalid},
		{"bad extension", "swagger: '2.0'\ninfo: {title: bad_group, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: aaa\n      x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: http, method: GET, path: /, timeout: 99999999}}\n",
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/timeout: backend_api.timeout", cli.ExitInvalid},
		{"missing channel", "swagger: '2.0'\ninfo: {title: bad_group, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: aaa\n      x-apigateway-backend: {type: HTTP-VPC, httpVpcEndpoints: {name: nowhere, scheme: http, method: GET, path: /}}\n",
			"/paths/~1a/get/x-apigateway-backend/httpVpcEndpoints/name: backend_api.vpc_channel_info.vpc_channel_id", cli.ExitInvalid},
		{"missing policy", "swagger: '2.0'\ninfo: {title: bad_group, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: aaa\n      x-apigateway-ratelimit: nope\n      x-apigateway-backend: {type: MOCK, mockEndpoints: {result-content: x}}\n",
			"/paths/~1a/get/x-apigateway-ratelimit: strategy_id", cli.ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFile(t, dir, "x.yaml", tt.doc)
			r := e.run("", "import", "-f", f)
			if r.code != tt.code || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant %q", r.code, tt.code, r.err, tt.want)
			}
			if out := e.must("", "get", "groups", "-o", "name"); strings.Contains(out, "bad_group") {
				t.Errorf("a refused import created the group")
			}
		})
	}
}

const twoOps = `swagger: "2.0"
info: {title: pub_api, version: "1.0"}
paths:
  /a:
    get:
      operationId: aaa_first
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: a.internal:8080, scheme: http, method: GET, path: /a}
  /b:
    get:
      operationId: bbb_second
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: '#host#:8080', scheme: http, method: GET, path: /b}
`

// import --publish publishes every imported API in one atomic change.
func TestImportPublishIsAtomic(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "two.yaml", twoOps)
	r := e.run("", "import", "-f", f, "--publish")
	if r.code != cli.ExitInvalid {
		t.Fatalf("import --publish with an undefined variable: exit %d (%s)", r.code, r.err)
	}
	contains(t, "error", r.err, "none of the APIs was published", "api bbb_second: backend_api.url_domain: variable #host# is not defined")
	for _, api := range []string{"aaa_first", "bbb_second"} {
		contains(t, "history of "+api, e.must("", "history", api), "never been published to RELEASE")
	}
	e.must("kind: env_variable\ngroup_id: pub_api\nenv_id: RELEASE\nvariable_name: host\nvariable_value: b.internal\n", "apply", "-f", "-")
	out := e.must("", "import", "-f", f, "--publish")
	contains(t, "import --publish", out, "api/aaa_first published to RELEASE", "api/bbb_second published to RELEASE")
}
