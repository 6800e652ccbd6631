package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/envoysim"
)

// An oidc_auth plug-in reaches Envoy as an oauth2 filter, disabled but on
// the routes of the API it is bound to. The emulator does not run Envoy's
// oauth2 filter (docs/plugins.md#oidc_auth): it refuses to pass a request
// through a filter it cannot emulate, so the bound API never reaches its
// backend here, while an unbound API of the same group is served as
// before. The code flow itself needs a real Envoy.
func TestOIDCAuthPluginConfigThroughEnvoy(t *testing.T) {
	// BOTH: an oidc_auth plug-in is refused on an HTTP-only API.
	oidcAPI := strings.Replace(fsAPI("oidc_api", "/app", ""), "req_protocol: HTTP", "req_protocol: BOTH", 1)
	w := startFS(t, fsGroup+oidcAPI+fsAPI("open_api", "/open", "")+`---
kind: plugin
plugin_name: oidc_web
plugin_type: oidc_auth
client_secret: e2e-client-secret
plugin_content: '{"client_id":"web","authorization_endpoint":"https://idp.example.com/authorize","token_endpoint":"https://idp.example.com/token","redirect_uri":"https://`+fsHost+`/app/callback"}'
---
kind: plugin_binding
api_id: oidc_api
env_id: RELEASE
plugin_id: oidc_web
`)
	wantStatus(t, w.call(t, call{path: "/open"}), http.StatusOK)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := w.envoy.Serve(ctx, &envoysim.Request{Method: "GET", Path: "/app", Host: fsHost})
	if err == nil || !strings.Contains(err.Error(), "apigw.oidc.") || !strings.Contains(err.Error(), "not emulated") {
		t.Fatalf("the bound API's route must run the plug-in's oauth2 filter (not emulated), got %v", err)
	}
}
