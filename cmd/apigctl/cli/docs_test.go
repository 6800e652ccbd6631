package cli_test

import (
	"os"
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/cli"
)

// TestEveryCommandIsDocumented keeps docs/apigctl.md in step with the
// command tree.
func TestEveryCommandIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/apigctl.md")
	if err != nil {
		t.Fatal(err)
	}
	root := cli.NewRoot(cli.Streams{}, func(string) string { return "" })
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if !strings.Contains(string(doc), "apigctl "+c.Name()) && !strings.Contains(string(doc), "| `"+c.Name()) {
			t.Errorf("command %q is not in docs/apigctl.md", c.Name())
		}
		if c.Short == "" || c.Use == "" {
			t.Errorf("command %q has no usage or short help", c.Name())
		}
	}
}
