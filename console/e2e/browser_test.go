package e2e_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
// chromium and the console's packages (.ci/run), so there (CI=true) a
// missing one fails the test instead; a developer machine may lack them.
func chromium(t *testing.T) string {
	t.Helper()
	if raceEnabled {
		t.Skip("the browser test drives other processes; nothing to race-check")
	}
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
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

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var consoleURL = regexp.MustCompile(`msg="web console" url=(\S+)`)

// apigw builds and starts apigw with every component on free loopback
// ports and an admin token; it returns the console's URL, as printed.
func apigw(t *testing.T, token string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apigw")
	build := exec.Command("go", "build", "-o", bin, "./cmd/apigw")
	build.Dir = root(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := func() string { return fmt.Sprintf("127.0.0.1:%d", freePort(t)) }
	cmd := exec.Command(bin, "--data-dir", t.TempDir(),
		"--embedded-etcd-client-url", "http://"+port(), "--embedded-etcd-peer-url", "http://"+port(),
		"--ops-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0",
		"--extauth-addr", "127.0.0.1:0", "--ratelimit-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0",
		"--admin-token", token)
	pr, pw := io.Pipe()
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := consoleURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		pw.Close()
		if t.Failed() {
			t.Logf("apigw output:\n%s", logs.String())
		}
	})
	select {
	case u := <-found:
		return u
	case <-time.After(60 * time.Second):
		t.Fatalf("apigw printed no console URL within 60s:\n%s", logs.String())
		return ""
	}
}

// TestConsoleInBrowser walks a newcomer's path through the console in
// headless chromium: sign in, create a group and an API (a validation
// error shows on its field first), create and authorize an app, publish,
// explain a signed request (allowed) and an unsigned one (401 APIG.0303),
// import an OpenAPI file with a dry run, roll back, and switch to Chinese.
// It also measures the first load (asset size and time). With
// APIGW_CONSOLE_SCREENSHOTS=dir it saves screenshots there (make
// console-screenshots writes docs/console/).
func TestConsoleInBrowser(t *testing.T) {
	browser := chromium(t)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	url := apigw(t, token)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "e2e/console.e2e.mjs")
	cmd.Dir = filepath.Join(root(t), "console/web")
	cmd.Env = append(os.Environ(), "APIGW_CONSOLE_URL="+url, "APIGW_ADMIN_TOKEN="+token, "APIGW_CHROMIUM="+browser)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test: %v", err)
	}
}
