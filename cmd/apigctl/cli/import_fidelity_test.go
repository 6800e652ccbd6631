package cli_test

import (
	"strings"
	"testing"
)

const specialsDoc = `swagger: "2.0"
info: {title: specials_api, version: "1"}
paths:
  /a:
    get:
      operationId: aaa_special
      responses: {default: {description: ok}}
      x-apigateway-ratelimit: rl_special
      x-apigateway-backend: {type: MOCK, mockEndpoints: {result-content: ok}}
x-apigateway-ratelimits:
  rl_special:
    api-limit: 100
    app-limit: 50
    interval: 1
    unit: MINUTE
    special:
    - {type: APP, limit: 10, instance: 9f1e2d3c4b5a69788796a5b4c3d2e1f0}
    - {type: USER, limit: 20, instance: 0a1b2c3d4e5f60718293a4b5c6d7e8f9}
`

// An APIG export's throttling specials name apps and tenants by opaque
// id. The import stores them verbatim even when no such app exists (yet),
// with a warning naming the special's node, and the special applies as
// soon as an app with that id is created.
func TestImportKeepsSpecialsForAppsThatDoNotExistYet(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "specials.yaml", specialsDoc)
	r := e.run("", "import", "-f", f)
	if r.code != 0 {
		t.Fatalf("import refused: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	contains(t, "warning", r.err, "/x-apigateway-ratelimits/rl_special/special/0: app \"9f1e2d3c4b5a69788796a5b4c3d2e1f0\" does not exist")
	if strings.Contains(r.err, "0a1b2c3d4e5f60718293a4b5c6d7e8f9") {
		t.Errorf("tenant ids cannot be checked and are not warned about:\n%s", r.err)
	}
	th := e.must("", "get", "throttle", "rl_special", "-o", "yaml")
	contains(t, "stored specials", th, "object_id: 9f1e2d3c4b5a69788796a5b4c3d2e1f0", "object_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9")
	// Once the app exists, re-importing changes nothing and warns no more.
	e.must("kind: app\nid: 9f1e2d3c4b5a69788796a5b4c3d2e1f0\nname: migrated_app\n", "apply", "-f", "-")
	r = e.run("", "import", "-f", f)
	if r.code != 0 || strings.Contains(r.err, "does not exist") {
		t.Fatalf("re-import: exit %d\n%s", r.code, r.err)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		if !strings.HasSuffix(l, "unchanged") {
			t.Errorf("re-import changed: %s", l)
		}
	}
}
