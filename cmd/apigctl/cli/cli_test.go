package cli_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
)

type env struct {
	t   *testing.T
	srv *admintest.Server
}

func start(t *testing.T) *env {
	t.Helper()
	return &env{t: t, srv: admintest.Start(t)}
}

type result struct {
	out, err string
	code     int
}

// run runs apigctl against the test server.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	getenv := func(k string) string {
		if k == "APIGW_SERVER" && e.srv != nil {
			return e.srv.Addr
		}
		return ""
	}
	code := cli.Main(ctx, args, cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}, getenv)
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs apigctl and fails the test unless it exits 0.
func (e *env) must(stdin string, args ...string) string {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("apigctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const petsYAML = `# the pets group
kind: group
name: pets
remark: pet store
---
kind: environment
name: TEST
---
kind: env_variable
group_id: pets
env_id: TEST
variable_name: backend
variable_value: 10.1.2.3:8080
---
kind: api
name: get_pet
group_id: pets
req_method: GET
req_uri: /pets/{id}
auth_type: APP
backend_api:
  req_protocol: HTTP
  url_domain: "#backend#"
  req_uri: /v1/pets/{id}
  timeout: 3000
---
kind: throttle
name: rl_basic
api_call_limits: 100
time_interval: 1
time_unit: MINUTE
`

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func TestApplyIsIdempotentAndGetYAMLRoundTrips(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	f := writeFile(t, dir, "pets.yaml", petsYAML)
	out := e.must("", "apply", "-f", f)
	contains(t, "first apply", out, "group/pets created", "api/get_pet created", "throttle/rl_basic created", "env_variable/backend created")
	out = e.must("", "apply", "-f", dir)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(l, " unchanged") {
			t.Errorf("second apply changed something: %q", l)
		}
	}
	// get -o yaml is a document apply accepts; applying it changes nothing.
	y := e.must("", "get", "api", "get_pet", "-o", "yaml")
	contains(t, "get -o yaml", y, "kind: api\n", "req_uri: /pets/{id}", "resource_version:")
	out = e.must(y, "apply", "-f", "-")
	contains(t, "re-apply of get output", out, "api/get_pet unchanged")
	// JSON input works too.
	js := e.must("", "get", "throttle", "rl_basic", "-o", "json")
	contains(t, "get -o json", js, `"kind": "throttle"`, `"api_call_limits": 100`)
	out = e.must(js, "apply", "-f", "-")
	contains(t, "apply json", out, "throttle/rl_basic unchanged")
	// tables and filters
	out = e.must("", "get", "apis", "--group", "pets")
	contains(t, "table", out, "NAME", "get_pet", "/pets/{id}", "GET http://#backend#/v1/pets/{id}")
	out = e.must("", "get", "api", "-o", "name")
	contains(t, "names", out, "api/get_pet")
}

func TestApplyDryRunPrintsDiffAndChangesNothing(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "pets.yaml", petsYAML)
	out := e.must("", "apply", "-f", f, "--dry-run")
	contains(t, "dry run of new objects", out, "+++ api/get_pet (after apply)", "+req_uri: /pets/{id}", "api/get_pet created (dry run)")
	if r := e.run("", "get", "group", "pets"); r.code != cli.ExitNotFound {
		t.Fatalf("dry run created the group: exit %d %s", r.code, r.out)
	}
	e.must("", "apply", "-f", f)
	changed := strings.Replace(petsYAML, "timeout: 3000", "timeout: 4000", 1)
	f2 := writeFile(t, t.TempDir(), "pets.yaml", changed)
	out = e.must("", "apply", "-f", f2, "--dry-run")
	contains(t, "dry run of a change", out, "--- api/get_pet (stored)", "-  timeout: 3000", "+  timeout: 4000", "api/get_pet updated (dry run)", "group/pets unchanged (dry run)")
	if strings.Contains(out, "group/pets (stored)") {
		t.Errorf("unchanged objects must not be diffed:\n%s", out)
	}
	y := e.must("", "get", "api", "get_pet", "-o", "yaml")
	contains(t, "stored after dry run", y, "timeout: 3000")
}

func TestApplyIsAtomic(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	bad := petsYAML + `---
kind: api
name: broken
group_id: pets
req_method: FETCH
req_uri: /broken
backend_api:
  url_domain: example.com
  req_uri: /b
  timeout: 70000
`
	f := writeFile(t, dir, "bad.yaml", bad)
	r := e.run("", "apply", "-f", f)
	if r.code != cli.ExitInvalid {
		t.Fatalf("exit %d, want %d: %s", r.code, cli.ExitInvalid, r.err)
	}
	contains(t, "stderr", r.err, "nothing was changed", "bad.yaml#6 (api broken): req_method", "bad.yaml#6 (api broken): backend_api.timeout")
	if r := e.run("", "get", "group", "pets"); r.code != cli.ExitNotFound {
		t.Fatalf("a failed apply stored the group: exit %d", r.code)
	}
	// A document that does not decode fails before anything is sent.
	f = writeFile(t, dir, "unknown.yaml", petsYAML+"---\nkind: api\nname: x\nbogus: 1\n---\nkind: nothing\n")
	r = e.run("", "apply", "-f", f)
	if r.code != cli.ExitInvalid {
		t.Fatalf("exit %d, want %d", r.code, cli.ExitInvalid)
	}
	contains(t, "decode errors", r.err, `unknown.yaml#6: api: unknown field "bogus"`, `unknown.yaml#7: unknown kind "nothing"`)
}

func TestPublishHistoryRollbackUnpublish(t *testing.T) {
	e := start(t)
	e.must(petsYAML, "apply", "-f", "-")
	out := e.must("", "publish", "get_pet", "--env", "TEST", "--version", "1")
	contains(t, "publish", out, "api/get_pet published to TEST")
	e.must(strings.Replace(petsYAML, "timeout: 3000", "timeout: 4000", 1), "apply", "-f", "-")
	e.must("", "publish", "--all", "--group", "pets", "--env", "TEST", "--version", "2")
	out = e.must("", "history", "get_pet", "--env", "TEST")
	contains(t, "history", out, "CURRENT", "PUBLICATION")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "*") || !strings.Contains(lines[1], " 2 ") {
		t.Fatalf("history:\n%s", out)
	}
	out = e.must("", "rollback", "get_pet", "--env", "TEST")
	contains(t, "rollback", out, "rolled back to publication", "version 1")
	out = e.must("", "history", "get_pet", "--env", "TEST", "-o", "yaml")
	contains(t, "history yaml", out, "current_publication_id:", "timeout: 3000")
	out = e.must("", "describe", "api", "get_pet")
	contains(t, "describe", out, "Published:", "TEST")
	e.must("", "unpublish", "get_pet", "--env", "TEST")
	out = e.must("", "history", "get_pet", "--env", "TEST")
	contains(t, "offline", out, "offline in TEST")
	if r := e.run("", "unpublish", "get_pet", "--env", "TEST"); r.code != cli.ExitNotFound {
		t.Errorf("second unpublish: exit %d, want %d (%s)", r.code, cli.ExitNotFound, r.err)
	}
}

// publish --all is one atomic change: an API that cannot be published in
// the environment (its variable is not defined there) keeps every other
// API of the group unpublished too, including one listed before it.
func TestPublishAllIsAtomic(t *testing.T) {
	e := start(t)
	e.must(petsYAML+`---
kind: api
id: 0-list-pets
name: list_pets
group_id: pets
req_method: GET
req_uri: /pets
backend_api:
  req_protocol: HTTP
  url_domain: 10.1.2.3:8080
  req_uri: /v1/pets
`, "apply", "-f", "-")
	r := e.run("", "publish", "--all", "--group", "pets")
	if r.code != cli.ExitInvalid {
		t.Fatalf("publish --all with an undefined variable in RELEASE: exit %d (%s)", r.code, r.err)
	}
	contains(t, "error", r.err, "nothing was changed", "api get_pet: backend_api.url_domain: variable #backend# is not defined")
	for _, api := range []string{"get_pet", "list_pets"} {
		contains(t, "history of "+api, e.must("", "history", api), "never been published to RELEASE")
	}
	out := e.must("", "publish", "--all", "--group", "pets", "--env", "TEST")
	contains(t, "publish --all", out, "api/get_pet published to TEST", "api/list_pets published to TEST")
	out = e.must("", "unpublish", "--all", "--group", "pets", "--env", "TEST")
	contains(t, "unpublish --all", out, "api/get_pet unpublished from TEST", "api/list_pets unpublished from TEST")
}

func TestBindAppsAndAppCodes(t *testing.T) {
	e := start(t)
	e.must(petsYAML, "apply", "-f", "-")
	out := e.must("", "app", "create", "shop_client", "--appcodes", "1")
	contains(t, "app create", out, "APP KEY:", "APP SECRET:", "APPCODE:")
	out = e.must("", "app", "reset-secret", "shop_client", "--app-secret", "s3cretS3cret")
	contains(t, "reset", out, "APP SECRET: s3cretS3cret")
	code := strings.Repeat("a", 64)
	out = e.must("", "app", "appcode", "add", "shop_client", "--code", code)
	contains(t, "appcode add", out, code)
	out = e.must("", "app", "appcode", "list", "shop_client")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Fatalf("want 2 AppCodes:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	e.must("", "app", "appcode", "delete", "shop_client", id)
	out = e.must("", "app", "appcode", "list", "shop_client")
	if strings.Contains(out, id) {
		t.Fatalf("AppCode %s not deleted:\n%s", id, out)
	}
	if y := e.must("", "get", "app", "shop_client", "-o", "yaml"); strings.Contains(y, "s3cretS3cret") || strings.Contains(y, code) {
		t.Fatalf("get shows secrets:\n%s", y)
	}

	e.must("", "bind", "app", "shop_client", "--api", "get_pet", "--group", "pets", "--env", "TEST")
	e.must("", "bind", "throttle", "rl_basic", "--api", "get_pet")
	out = e.must("", "get", "app_auths", "--env", "TEST")
	contains(t, "app auths", out, "API", "APP")
	out = e.must("", "describe", "throttle", "rl_basic")
	contains(t, "describe throttle", out, "Bound APIs:", "DEFAULT_ENVIRONMENT_RELEASE_ID")
	// A bound policy cannot be deleted: the referrer is named.
	r := e.run("", "delete", "throttle", "rl_basic")
	if r.code != cli.ExitConflict {
		t.Fatalf("delete bound throttle: exit %d, want %d: %s", r.code, cli.ExitConflict, r.err)
	}
	contains(t, "refused delete", r.err, "throttle_binding/")
	out = e.must("", "unbind", "throttle", "rl_basic", "--api", "get_pet")
	contains(t, "unbind", out, "1 binding(s)")
	e.must("", "delete", "throttle", "rl_basic")
}

func TestDeleteFromFiles(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "pets.yaml", petsYAML)
	e.must("", "apply", "-f", f)
	out := e.must("", "delete", "-f", f, "--dry-run")
	contains(t, "delete dry run", out, "api/get_pet deleted (dry run)", "group/pets deleted (dry run)")
	e.must("", "get", "api", "get_pet")
	out = e.must("", "delete", "-f", f)
	contains(t, "delete", out, "throttle/rl_basic deleted")
	if r := e.run("", "get", "api", "get_pet"); r.code != cli.ExitNotFound {
		t.Fatalf("api still there: %d", r.code)
	}
	if r := e.run("", "delete", "-f", f); r.code != cli.ExitNotFound {
		t.Fatalf("delete of missing objects: exit %d", r.code)
	}
	e.must("", "delete", "-f", f, "--ignore-not-found")
}

func TestStatusVersionAndExitCodes(t *testing.T) {
	e := start(t)
	e.srv.Status.UpdateNode(live.NodeStatus{NodeID: "envoy-1", Cluster: "default", TypeURL: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
		AckedVersion: "42-abc", LastNack: "route: bad regex", LastSeen: time.Now()})
	out := e.must("", "status")
	contains(t, "status", out, "envoy-1", "42-abc", "route: bad regex", "RouteConfiguration")
	if r := e.run("", "status", "--check"); r.code != cli.ExitError {
		t.Errorf("status --check with a NACK: exit %d", r.code)
	}
	out = e.must("", "status", "-o", "json")
	contains(t, "status json", out, `"node_id": "envoy-1"`)
	out = e.must("", "version")
	contains(t, "version", out, "Client: apigctl", "Server: "+e.srv.Addr)

	tests := []struct {
		args []string
		code int
	}{
		{[]string{"frobnicate"}, cli.ExitUsage},
		{[]string{"get"}, cli.ExitUsage},
		{[]string{"get", "widgets"}, cli.ExitUsage},
		{[]string{"get", "apis", "--bogus"}, cli.ExitUsage},
		{[]string{"get", "api", "nope"}, cli.ExitNotFound},
		{[]string{"apply"}, cli.ExitUsage},
		{[]string{"apply", "-f", "/does/not/exist.yaml"}, cli.ExitInvalid},
		{[]string{"--server", "127.0.0.1:1", "--request-timeout", "2s", "get", "apis"}, cli.ExitUnavailable},
	}
	for _, tt := range tests {
		if r := e.run("", tt.args...); r.code != tt.code {
			t.Errorf("apigctl %v: exit %d, want %d (%s)", tt.args, r.code, tt.code, r.err)
		}
	}
	r := e.run("", "get", "--help")
	if r.code != 0 || !strings.Contains(r.out, "Usage:") {
		t.Errorf("--help: %d %s", r.code, r.out)
	}
	r = e.run("", "completion", "bash")
	if r.code != 0 || !strings.Contains(r.out, "apigctl") {
		t.Errorf("completion: %d", r.code)
	}
	_ = io.Discard
}

// Documents may reference objects defined later in the files (an API
// before its authorizer, a group before its certificate): apply sends them
// in dependency order, and delete -f removes them dependents first.
func TestApplyResolvesForwardReferences(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", `kind: api
name: get_order
group_id: shop
req_method: GET
req_uri: /orders
auth_type: AUTHORIZER
authorizer_id: shop_auth
backend_api: {req_protocol: HTTP, url_domain: "10.0.0.1:80", req_uri: /orders}
---
kind: app_auth
api_id: list_orders
env_id: RELEASE
app_id: shop_web
---
kind: api
name: list_orders
group_id: shop
req_method: GET
req_uri: /list
auth_type: APP
backend_api: {req_protocol: HTTP, url_domain: "10.0.0.1:80", req_uri: /list}
`)
	writeFile(t, dir, "b.yaml", `kind: app
name: shop_web
---
kind: authorizer
name: shop_auth
type: FRONTEND
authorizer_uri: http://10.0.0.2/auth
---
kind: group
name: shop
`)
	out := e.must("", "apply", "-f", dir)
	contains(t, "apply", out, "group/shop created", "authorizer/shop_auth created", "api/get_order created", "app_auth/")
	if i, j := strings.Index(out, "group/shop"), strings.Index(out, "api/get_order"); i > j {
		t.Errorf("the group should be created before the API:\n%s", out)
	}
	out = e.must("", "delete", "-f", dir)
	contains(t, "delete", out, "group/shop deleted", "api/get_order deleted")
}
