package openapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/cmd/apigctl/openapi"
)

// FuzzConvert imports arbitrary documents (YAML or JSON, Swagger 2.0 or
// OpenAPI 3.x): the importer never panics, every problem points into the
// document (a JSON pointer), and a document it accepts yields definitions
// that encode as the manifests apigctl applies.
//
// Seed corpus: testdata/fuzz/FuzzConvert and the documents of testdata.
// Run it with
//
//	go test ./cmd/apigctl/openapi -run '^$' -fuzz FuzzConvert -fuzztime 30s
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		plan, ps, err := openapi.Convert(doc)
		if err != nil {
			return // not a document: refused as a whole
		}
		for _, p := range append(append([]openapi.Problem{}, ps.Errors...), ps.Warnings...) {
			if p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/") {
				t.Fatalf("problem %q does not point into the document", p.String())
			}
		}
		if len(ps.Errors) > 0 {
			return
		}
		if _, err := manifest.YAMLStream(plan.Resources("", "RELEASE")); err != nil {
			t.Fatalf("accepted document whose definitions do not encode: %v", err)
		}
	})
}
