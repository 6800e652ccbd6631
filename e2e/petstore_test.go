package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

const (
	exampleDir    = "../examples/petstore"
	localAddrFile = "../examples/petstore/local/addresses.yaml"
	petstoreHost  = "petstore.example.com"
)

// The quick start's commands (README.md); the tests run exactly these, with
// the test's own addresses file.
var (
	applyArgs       = []string{"apply", "-f", "examples/petstore", "-f", "examples/petstore/local"}
	publishArgs     = []string{"publish", "--all", "--group", "petstore"}
	publishTestArgs = []string{"publish", "list_pets", "get_pet", "--group", "petstore", "--env", "TEST"}
)

// Demo credentials of examples/petstore/03-apps-and-policies.yaml.
const (
	webKey, webSecret         = "petstore-web-key", "petstore-web-secret-2026"
	partnerKey, partnerSecret = "petstore-partner-key", "petstore-partner-secret-2026"
	webAppCode                = "Fosngdb5RrsjcpGrVUjNAiuu4WkoWq35lksMR7SmfEAHjorbs5idirj1QnvplUSx"
)

// petstore is the deployed sample: object ids by name.
type petstore struct {
	apis map[string]string
	apps map[string]string
}

// deployPetstore applies the sample with an addresses file pointing at the
// test's backends, publishes it as the quick start does, and returns the
// ids of its APIs and apps.
func deployPetstore(t *testing.T, g *apigw, be *backends) *petstore {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addresses.yaml")
	if err := os.WriteFile(addrFile, []byte(testAddresses(t, be)), 0o644); err != nil {
		t.Fatal(err)
	}
	g.apigctl(t, "apply", "-f", exampleDir, "-f", addrFile)
	g.apigctl(t, publishArgs...)
	g.apigctl(t, publishTestArgs...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := &petstore{apis: map[string]string{}, apps: map[string]string{}}
	for kind, into := range map[string]map[string]string{model.KindAPI: p.apis, model.KindApp: p.apps} {
		resp, err := g.adminClient().List(ctx, &adminv1.ListRequest{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetResources() {
			m, _ := model.Unwrap(r)
			into[model.NameOf(m)] = model.IDOf(m)
		}
	}
	return p
}

var reDocSep = regexp.MustCompile(`(?m)^---\s*$`)

// readDocs decodes the YAML documents of a file.
func readDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, d := range reDocSep.Split(string(data), -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// testAddresses is examples/petstore/local/addresses.yaml with every
// address replaced by one of the test's backends; it fails if the example
// names an address the test does not replace.
func testAddresses(t *testing.T, be *backends) string {
	t.Helper()
	docs := readDocs(t, localAddrFile)
	repl := map[string]string{
		"127.0.0.1:9090": be.release.addr(), "127.0.0.1:9091": be.test.addr(), "127.0.0.1:9094": be.canary.addr(),
		"http://127.0.0.1:9090/authorize": be.auth.srv.URL + "/authorize",
	}
	var out []string
	for _, d := range docs {
		switch d["kind"] {
		case model.KindEnvVariable:
			d["variable_value"] = mustReplace(t, repl, d["variable_value"])
		case model.KindAuthorizer:
			d["authorizer_uri"] = mustReplace(t, repl, d["authorizer_uri"])
		case model.KindVpcChannel:
			members, _ := d["members"].([]any)
			pool := []*backend{be.poolA, be.poolB}
			if len(members) != len(pool) {
				t.Fatalf("%s: the channel has %d members, the test has %d", localAddrFile, len(members), len(pool))
			}
			for i, m := range members {
				mm := m.(map[string]any)
				mm["host"], mm["port"] = "127.0.0.1", testutil.Port(pool[i].addr())
			}
			d["port"] = testutil.Port(be.poolA.addr())
		default:
			t.Fatalf("%s: unexpected %v document (update testAddresses)", localAddrFile, d["kind"])
		}
		y, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(y))
	}
	return strings.Join(out, "---\n")
}

func mustReplace(t *testing.T, repl map[string]string, v any) string {
	t.Helper()
	s, _ := v.(string)
	r, ok := repl[s]
	if !ok {
		t.Fatalf("%s: address %q has no test backend", localAddrFile, s)
	}
	return r
}

// routeName is the xDS name of an API's route in an environment.
func routeName(apiID, env string) string { return "api." + apiID + "." + env }

func itoa(n uint32) string { return strconv.Itoa(int(n)) }
