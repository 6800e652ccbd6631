package openapi_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/cmd/apigctl/openapi"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// TestCorpusConvertsToTheExpectedDefinitions converts every document of
// testdata (Swagger 2.0, OpenAPI 3.0 and 3.1; YAML and JSON; an APIG-style
// export) and compares the definitions and warnings with the golden files.
func TestCorpusConvertsToTheExpectedDefinitions(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	if len(files) < 5 {
		t.Fatalf("corpus too small: %v", files)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			plan, ps, err := openapi.Convert(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps.Errors) > 0 {
				t.Fatalf("refused: %v", ps.Errors)
			}
			y, err := manifest.YAMLStream(plan.Resources("", "RELEASE"))
			if err != nil {
				t.Fatal(err)
			}
			var warn strings.Builder
			for _, w := range ps.Warnings {
				warn.WriteString("# warning: " + w.String() + "\n")
			}
			got := warn.String() + string(y)
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".yaml")
			if *update {
				_ = os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("definitions of %s differ from %s (run go test -update and review):\n%s", name, golden, got)
			}
		})
	}
}
