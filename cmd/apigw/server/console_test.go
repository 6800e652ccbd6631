package server

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/store/storetest"
)

// The console serves the admin API, so the admin guard applies to its
// address: beyond loopback a token or client certificates are required.
func TestConsoleGuard(t *testing.T) {
	public := []string{"--console-addr", "0.0.0.0:18006"}
	if _, err := ParseConfig(public, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--console-addr 0.0.0.0:18006 is not loopback") {
		t.Errorf("public console without authentication: %v", err)
	}
	if _, err := ParseConfig(nil, env(map[string]string{"APIGW_CONSOLE_ADDR": "192.0.2.1:80"}), io.Discard); err == nil || !strings.Contains(err.Error(), "--console-addr") {
		t.Errorf("public console from APIGW_CONSOLE_ADDR: %v", err)
	}
	for name, args := range map[string][]string{
		"token":                   append([]string{"--admin-token", "s3cret"}, public...),
		"insecure":                append([]string{"--admin-insecure"}, public...),
		"console not selected":    append([]string{"--components", "admin,xds"}, public...),
		"loopback default":        nil,
		"loopback name":           {"--console-addr", "localhost:0"},
		"console alone, loopback": {"--components", "console"},
	} {
		if _, err := ParseConfig(args, env(nil), io.Discard); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseConfig([]string{"--console-addr", "nope"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--console-addr") {
		t.Errorf("bad address: %v", err)
	}
	if got := listenHosts("10.0.0.5:18006"); len(got) != 1 || got[0] != "10.0.0.5" {
		t.Errorf("listen hosts: %v", got)
	}
	if got := listenHosts("0.0.0.0:18006"); got != nil {
		t.Errorf("listen hosts of 0.0.0.0: %v", got)
	}
	if got := consoleURL("http", "0.0.0.0:18006"); got != "http://127.0.0.1:18006/" {
		t.Errorf("URL of an unspecified address: %s", got)
	}
	if got := consoleURL("https", "[::1]:443"); got != "https://[::1]:443/" {
		t.Errorf("URL: %s", got)
	}
}

// apigw with the console: the URL is printed, the app is served, and the
// admin, debug and OpenAPI services answer over the Connect protocol with
// the admin token (and only with it).
func TestConsoleServesTheAdminAPI(t *testing.T) {
	etcd, _ := storetest.Etcd(t, "")
	const token = "t0ken-for-the-console"
	cfg, err := ParseConfig([]string{"--etcd-endpoints", etcd.Endpoint(), "--secret-key", hex.EncodeToString(storetest.Key()),
		"--components", "admin,console", "--admin-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0",
		"--admin-token", token}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	re := regexp.MustCompile(`msg="web console" url=(\S+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no console URL printed:\n%s", logs.String())
	}
	call := func(method, auth string) (int, string) {
		req, _ := http.NewRequest("POST", url+method, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Connect-Protocol-Version", "1")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, m := range []string{"apigw.admin.v1.AdminService/GetStatus", "apigw.admin.v1.DebugService/Overview"} {
		if code, body := call(m, ""); code != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
			t.Errorf("%s without a token: %d %s", m, code, body)
		}
		if code, body := call(m, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d %s", m, code, body)
		}
		if code, body := call(m, token); code != http.StatusOK || !strings.Contains(body, "revision") {
			t.Errorf("%s: %d %s", m, code, body)
		}
	}
	if code, body := call("apigw.admin.v1.OpenAPIService/ExportOpenAPI", token); code != http.StatusBadRequest || !strings.Contains(body, "group") {
		t.Errorf("export without a group: %d %s", code, body)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "/app.js") {
		t.Errorf("app: %d %s", resp.StatusCode, b)
	}
}
