package cli

import (
	"slices"
	"testing"

	"github.com/apigw/apigw/model"
)

// Every kind apigctl lists has its own columns, starting with what
// identifies it, and renders a row for any message of the kind.
func TestEveryKindHasColumns(t *testing.T) {
	for _, k := range model.Kinds() {
		if k.Internal {
			continue
		}
		cols, ok := kindColumns()[k.Name]
		if !ok {
			t.Errorf("kind %s has no columns", k.Name)
			continue
		}
		header, render := row(k.Name)
		first := "ID"
		if k.Name == model.KindInstance {
			first = "NAME" // an instance is identified by its name
		}
		if header[0] != first {
			t.Errorf("kind %s: first column %s, want %s", k.Name, header[0], first)
		}
		for i, h := range header {
			if slices.Index(header, h) != i {
				t.Errorf("kind %s: column %s twice", k.Name, h)
			}
		}
		m := k.New()
		model.SetID(m, "x1")
		if got := render(m); len(got) != len(cols) || (k.Name != model.KindInstance && got[0] != "x1") {
			t.Errorf("kind %s: row %q", k.Name, got)
		}
	}
}
