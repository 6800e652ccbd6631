package cli_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/cli"
)

const corsPluginYAML = `kind: plugin
plugin_name: cors_shop
plugin_type: cors
plugin_content: '{"allow_origin":"https://shop.example.com","allow_methods":"GET,POST","max_age":60}'
`

// Plug-ins are applied, listed, bound, described, unbound and deleted
// like the other policies; a type apigw does not implement and a content
// that does not decode are refused by field, and nothing is stored.
func TestPluginApplyBindDelete(t *testing.T) {
	e := start(t)
	e.must(petsYAML+"---\n"+corsPluginYAML, "apply", "-f", "-")
	out := e.must("", "get", "plugins")
	contains(t, "get plugins", out, "cors_shop", "cors", "global")

	r := e.run(`kind: plugin
plugin_name: bogus_check
plugin_type: bogus
plugin_content: '{}'
`, "apply", "-f", "-")
	if r.code != cli.ExitInvalid {
		t.Fatalf("unknown plug-in type: exit %d, want %d: %s", r.code, cli.ExitInvalid, r.err)
	}
	contains(t, "refused type", r.err, "plugin_type", "bogus")
	r = e.run(`kind: plugin
plugin_name: cors_bad
plugin_type: cors
plugin_content: '{"allow_origin":"*","allow_method":"GET"}'
`, "apply", "-f", "-")
	if r.code != cli.ExitInvalid {
		t.Fatalf("unknown content field: exit %d, want %d: %s", r.code, cli.ExitInvalid, r.err)
	}
	contains(t, "refused content", r.err, "plugin_content", "allow_method")
	if out := e.must("", "get", "plugins"); strings.Contains(out, "bogus_check") || strings.Contains(out, "cors_bad") {
		t.Fatalf("a refused plug-in was stored:\n%s", out)
	}

	e.must("", "bind", "plugin", "cors_shop", "--api", "get_pet", "--env", "TEST")
	// A second plug-in of a type bound to the same API and environment is
	// refused, naming the field.
	e.must(strings.ReplaceAll(corsPluginYAML, "cors_shop", "cors_other"), "apply", "-f", "-")
	r = e.run("", "bind", "plugin", "cors_other", "--api", "get_pet", "--env", "TEST")
	if r.code == 0 {
		t.Fatalf("a second cors plug-in was bound:\n%s", r.out)
	}
	contains(t, "second cors plug-in", r.err, "plugin_id", "cors plug-in binding for this API and environment")
	out = e.must("", "get", "plugin_bindings", "--env", "TEST")
	contains(t, "plugin bindings", out, "PLUGIN")
	out = e.must("", "describe", "plugin", "cors_shop")
	contains(t, "describe plugin", out, "Bound APIs:")
	r = e.run("", "delete", "plugin", "cors_shop")
	if r.code != cli.ExitConflict {
		t.Fatalf("delete bound plug-in: exit %d, want %d: %s", r.code, cli.ExitConflict, r.err)
	}
	contains(t, "refused delete", r.err, "plugin_binding/")
	out = e.must("", "unbind", "plugin", "cors_shop", "--api", "get_pet", "--env", "TEST")
	contains(t, "unbind", out, "1 binding(s)")
	e.must("", "delete", "plugin", "cors_shop")
}
