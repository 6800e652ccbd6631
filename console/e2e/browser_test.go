package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/apigwproc"
)

// root is the repository's root (the test runs in console/e2e).
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium returns the browser to drive, or skips: CI installs Debian's
// chromium and the console's packages (.ci/run), so there (CI set) a
// missing one fails the test instead; a developer machine may lack them.
func chromium(t *testing.T) string {
	t.Helper()
	if raceEnabled {
		t.Skip("the browser test drives other processes; nothing to race-check")
	}
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	path := os.Getenv("APIGW_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		skip("no chromium at %s (apt-get install chromium, or set APIGW_CHROMIUM): browser test skipped", path)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("no node on PATH: browser test skipped")
	}
	if _, err := os.Stat(filepath.Join(root(t), "console/web/node_modules/playwright-core")); err != nil {
		skip("console/web/node_modules is not installed (make console-deps): browser test skipped")
	}
	return path
}

// apigw builds and starts apigw with every component on free loopback
// ports and an admin token; it returns the process and the console's
// URL, as printed.
func apigw(t *testing.T, token string) (*apigwproc.Proc, string) {
	t.Helper()
	bin, err := apigwproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &apigwproc.Proc{Bin: bin}
	p.StartReady(t, 60*time.Second, func() []string {
		p.Addrs = apigwproc.FreeAddrs(t)
		args := append(apigwproc.NewEtcd(t).Flags(), p.Addrs.Flags()...)
		return append(append(args, gatewayFlags(p)...), "--admin-token", token)
	})
	url := "http://" + p.Console + "/"
	if !strings.Contains(p.Out.String(), `msg="web console" url=`+url) {
		t.Fatalf("apigw did not print the console URL %s:\n%s", url, p.Out.String())
	}
	return p, url
}

// TestConsoleInBrowser walks a newcomer's path through the console in
// headless chromium: sign in, create a group and an API (a validation
// error shows on its field first), create and authorize an app, publish,
// explain a signed request (allowed) and an unsigned one (401 APIG.0303),
// send a signed request through an (emulated) Envoy of the instance and
// see it in the API's metrics, see the changes in the audit log, import an
// OpenAPI file with a dry run, roll back, and switch to Chinese.
// It also measures the first load (asset size and time). With
// APIGW_CONSOLE_SCREENSHOTS=dir it saves screenshots there (make
// console-screenshots writes docs/console/).
func TestConsoleInBrowser(t *testing.T) {
	browser := chromium(t)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	p, url := apigw(t, token)
	gw := gateway(t, p)
	be := backend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "e2e/console.e2e.mjs")
	cmd.Dir = filepath.Join(root(t), "console/web")
	cmd.Env = append(os.Environ(), "APIGW_CONSOLE_URL="+url, "APIGW_ADMIN_TOKEN="+token, "APIGW_CHROMIUM="+browser,
		"APIGW_GATEWAY_URL="+gw, "APIGW_BACKEND="+be)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test: %v", err)
	}
}
