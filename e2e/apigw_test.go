package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// apigw is a running apigw binary, every port free.
type apigw struct {
	cmd                      *exec.Cmd
	out                      *syncBuffer
	xds, extauth, rls, admin string
	als                      string // the access-log service
	ops                      string
	etcd                     string // the embedded etcd's client URL
	envoyHTTP, envoyHTTPS    uint32
	adminConn                *grpc.ClientConn
	args                     []string // of the last launch
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func portOf(addr string) uint32 {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return uint32(n)
}

// startAPIGW runs apigw with all components (extra flags can change
// that: the last occurrence of a flag wins), serving Envoy over mTLS with
// the certificates of `apigw certs`, as the README's local run does;
// Envoys reach ext_authz and the rate-limit service at the addresses apigw
// listens on.
func startAPIGW(t *testing.T, extra ...string) *apigw {
	t.Helper()
	g := newAPIGW(t)
	g.etcd = "http://" + freeAddr(t)
	args := []string{
		"--data-dir", t.TempDir(),
		"--embedded-etcd-client-url", g.etcd,
		"--embedded-etcd-peer-url", "http://" + freeAddr(t),
		"--xds-addr", g.xds, "--extauth-addr", g.extauth, "--ratelimit-addr", g.rls,
		"--admin-addr", g.admin, "--ops-addr", g.ops,
		"--envoy-extauth-address", g.extauth, "--envoy-ratelimit-address", g.rls,
		"--accesslog-addr", g.als, "--envoy-accesslog-address", g.als,
		"--envoy-http-port", strconv.Itoa(int(g.envoyHTTP)), "--envoy-https-port", strconv.Itoa(int(g.envoyHTTPS)),
		"--tls-dir", filepath.Join(pkiDir, "apigw"), "--envoy-tls-dir", filepath.Join(pkiDir, "envoy"),
		"--log-level", "debug",
	}
	g.launch(t, append(args, extra...))
	conn, err := grpc.NewClient(g.admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g.adminConn = conn
	return g
}

// startSidecar runs `apigw --components=extauth,ratelimit` (on the
// addresses g was given by newAPIGW) against the etcd of central, as the
// sidecar layout does beside each Envoy.
func startSidecar(t *testing.T, g, central *apigw, extra ...string) {
	t.Helper()
	g.launch(t, append([]string{
		"--components", "extauth,ratelimit",
		"--etcd-endpoints", strings.TrimPrefix(central.etcd, "http://"),
		"--extauth-addr", g.extauth, "--ratelimit-addr", g.rls, "--ops-addr", g.ops,
		"--log-level", "debug",
	}, extra...))
}

func newAPIGW(t *testing.T) *apigw {
	t.Helper()
	return &apigw{out: &syncBuffer{}, xds: freeAddr(t), extauth: freeAddr(t), rls: freeAddr(t), admin: freeAddr(t), ops: freeAddr(t), als: freeAddr(t),
		envoyHTTP: portOf(freeAddr(t)), envoyHTTPS: portOf(freeAddr(t))}
}

// launch starts the binary and waits for /readyz.
func (g *apigw) launch(t *testing.T, args []string) {
	t.Helper()
	g.args = args
	g.cmd = exec.Command(apigwBin, args...)
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.stop(t) })
	g.waitReady(t)
}

func (g *apigw) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + g.ops + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if g.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("apigw not ready within 30s\n%s", g.out)
}

// restart stops apigw (SIGTERM) and starts it again with the same
// arguments (the same embedded etcd data).
func (g *apigw) restart(t *testing.T) {
	t.Helper()
	g.stop(t)
	g.launch(t, g.args)
}

func (g *apigw) stop(t *testing.T) {
	if g.cmd.ProcessState != nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("apigw exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		t.Errorf("apigw did not stop within 15s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("apigw output (last 8 KiB):\n%s", tail(g.out.String(), 8<<10))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// apigctl runs apigctl against this apigw and returns its output; it fails
// the test unless apigctl exits 0.
func (g *apigw) apigctl(t *testing.T, args ...string) string {
	t.Helper()
	out, code := g.apigctlCode(t, args...)
	if code != 0 {
		t.Fatalf("apigctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func (g *apigw) apigctlCode(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	getenv := func(k string) string {
		if k == "APIGW_SERVER" {
			return g.admin
		}
		return ""
	}
	code := cli.Main(ctx, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out}, getenv)
	return out.String(), code
}

func (g *apigw) adminClient() adminv1.AdminServiceClient {
	return adminv1.NewAdminServiceClient(g.adminConn)
}

func (g *apigw) String() string { return fmt.Sprintf("apigw(xds %s, admin %s)", g.xds, g.admin) }
