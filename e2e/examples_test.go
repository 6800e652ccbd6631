package e2e

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apigw/apigw/model"
)

// withoutAddresses blanks the address fields of an addresses document.
func withoutAddresses(d map[string]any) map[string]any {
	switch d["kind"] {
	case model.KindEnvVariable:
		d["variable_value"] = ""
	case model.KindAuthorizer:
		d["authorizer_uri"] = ""
	case model.KindVpcChannel:
		d["port"] = 0
		for _, m := range d["members"].([]any) {
			mm := m.(map[string]any)
			mm["host"], mm["port"] = "", 0
		}
	}
	return d
}

// The addresses file of the compose quick start defines the same objects
// as the local one; only addresses differ.
func TestAddressFilesAgree(t *testing.T) {
	local := readDocs(t, localAddrFile)
	compose := readDocs(t, "../deploy/compose/petstore-addresses.yaml")
	if len(local) != len(compose) {
		t.Fatalf("%d documents locally, %d for compose", len(local), len(compose))
	}
	for i := range local {
		a, b := withoutAddresses(local[i]), withoutAddresses(compose[i])
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Errorf("document %d differs beyond addresses:\n local   %s\n compose %s", i+1, ja, jb)
		}
	}
}

// The README quick start runs the commands the tests run, with the demo
// credentials the tests use, and its compose variant reads the files the
// compose file mounts.
func TestQuickStartMatchesTheTests(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, want := range []string{
		"apigctl " + strings.Join(applyArgs, " "),
		"apigctl " + strings.Join(publishArgs, " "),
		"apigctl " + strings.Join(publishTestArgs, " "),
		"apigctl apply -f /examples/petstore -f /etc/apigw/petstore-addresses.yaml",
		"--app-key " + webKey + " --app-secret " + webSecret,
		"--app-key " + partnerKey + " --app-secret " + partnerSecret,
		webAppCode,
		"envoy -c deploy/envoy/local.yaml",
		"docker compose -f deploy/compose/compose.yaml up -d --build --wait",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not contain %q", want)
		}
	}
	compose, err := os.ReadFile("../deploy/compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, mount := range []string{"../../examples:/examples:ro", "./petstore-addresses.yaml:/etc/apigw/petstore-addresses.yaml:ro"} {
		if !strings.Contains(string(compose), mount) {
			t.Errorf("compose.yaml does not mount %s", mount)
		}
	}
}
