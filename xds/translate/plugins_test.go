package translate

import (
	"testing"

	"github.com/apigw/apigw/model"
)

// Every system value a set_resp_headers plug-in may name renders as an
// Envoy formatter command.
func TestPluginContextVarsHaveFormatters(t *testing.T) {
	for _, v := range model.PluginContextVars() {
		if pluginVar(v) == "" {
			t.Errorf("$context.%s has no Envoy formatter", v)
		}
	}
}
