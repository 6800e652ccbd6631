package e2e

import (
	"encoding/json"
	"reflect"
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
