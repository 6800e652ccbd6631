package manifest_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/resources.md")

// TestResourceDocIsCurrent keeps docs/resources.md in step with the protos.
func TestResourceDocIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	got, err := manifest.ResourceDoc(filepath.Join(root, "proto", "apigw", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "docs", "resources.md")
	if *updateDocs {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Errorf("docs/resources.md is not current: run go test ./cmd/apigctl/manifest -update-docs (%v)", err)
	}
}
