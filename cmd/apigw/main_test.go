package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// binary builds cmd/apigw once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apigw")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
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

type proc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	ops  string
	adm  string
	etcd string
	xds  string
	auth string
	rls  string
}

func start(t *testing.T, bin, dataDir string, etcdPort, peerPort int) *proc {
	t.Helper()
	p := &proc{out: &bytes.Buffer{}, etcd: fmt.Sprintf("127.0.0.1:%d", etcdPort)}
	p.ops = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.adm = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.xds = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.auth = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.rls = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.cmd = exec.Command(bin,
		"--data-dir", dataDir,
		"--embedded-etcd-client-url", "http://"+p.etcd,
		"--embedded-etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--admin-addr", p.adm, "--ops-addr", p.ops,
		"--xds-addr", p.xds,
		"--extauth-addr", p.auth,
		"--ratelimit-addr", p.rls)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("apigw exited with %v after SIGTERM\n%s", err, p.out)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("apigw did not stop within 15s of SIGTERM\n%s", p.out)
	}
}

func (p *proc) waitReady(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		resp, err := http.Get("http://" + p.ops + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz not 200 within %v\n%s", within, p.out)
	return 0
}

func (p *proc) admin(t *testing.T) adminv1.AdminServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(p.adm, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminv1.NewAdminServiceClient(conn)
}

func TestBinaryServesAndPersistsDefinitions(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	etcdPort, peerPort := freePort(t), freePort(t)
	p := start(t, bin, dir, etcdPort, peerPort)
	took := p.waitReady(t, 10*time.Second)
	t.Logf("/readyz 200 after %v", took)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := p.admin(t)
	for _, m := range []*apigwv1.Resource{
		model.Wrap(&apigwv1.ApiGroup{Name: "pets"}),
		model.Wrap(&apigwv1.Api{Name: "list_pets", GroupId: "pets", ReqMethod: "GET", ReqUri: "/pets", AuthType: "APP", ReqProtocol: "BOTH",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:8080", ReqUri: "/pets"}}),
	} {
		if _, err := c.Create(ctx, &adminv1.CreateRequest{Resource: m}); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := c.Publish(ctx, &adminv1.PublishRequest{ApiId: "list_pets"})
	if err != nil {
		t.Fatal(err)
	}
	// An invalid API is refused and nothing is written.
	_, err = c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Api{Name: "bad", GroupId: "pets", ReqUri: "nope"})})
	if err == nil || !strings.Contains(err.Error(), "req_uri") || !strings.Contains(err.Error(), "req_method") {
		t.Fatalf("invalid API: %v", err)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.etcd}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "/apigw/v1/i/default/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	cli.Close()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	all := strings.Join(keys, "\n")
	for _, want := range []string{"/groups/", "/apis/", "/publications/" + pub.Publication.Id, "/releases/" + pub.Publication.ApiId + "/" + model.ReleaseEnvID} {
		if !strings.Contains(all, want) {
			t.Errorf("no key containing %s in\n%s", want, all)
		}
	}
	if len(keys) != 4 {
		t.Errorf("want exactly group, api, publication and release keys, got\n%s", all)
	}

	// Envoy's side: the published route reaches an ADS client of instance
	// "default", and ext_authz answers the check that route would send.
	route, ctxExt := checkXDS(t, p.xds, "/pets")
	checkExtAuthz(t, p.auth, ctxExt, pub.Publication)
	checkRateLimit(t, p.rls, route)

	p.stop(t)
	p2 := start(t, bin, dir, etcdPort, peerPort)
	p2.waitReady(t, 10*time.Second)
	l, err := p2.admin(t).ListPublications(ctx, &adminv1.ListPublicationsRequest{ApiId: "list_pets"})
	if err != nil {
		t.Fatal(err)
	}
	if l.CurrentPublicationId != pub.Publication.Id {
		t.Errorf("after restart the current publication is %q, want %q", l.CurrentPublicationId, pub.Publication.Id)
	}
}

func run(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "APIGW_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestBinaryFailsClearly(t *testing.T) {
	bin := binary(t)
	if code, out := run(t, bin, "--no-such-flag"); code != 2 || !strings.Contains(out, "no-such-flag") {
		t.Errorf("bad flag: exit %d\n%s", code, out)
	}
	if code, out := run(t, bin, "--components", "xds,bogus"); code != 2 || !strings.Contains(out, `unknown component "bogus"`) {
		t.Errorf("bad component: exit %d\n%s", code, out)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, out := run(t, bin, "--ops-addr", busy.Addr().String())
	if code != 1 || !strings.Contains(out, "address already in use") {
		t.Errorf("busy port: exit %d\n%s", code, out)
	}
	code, out = run(t, bin, "--etcd-endpoints", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--etcd-dial-timeout", "1s",
		"--secret-key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"--ops-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0", "--extauth-addr", "127.0.0.1:0", "--ratelimit-addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(out, "unreachable") {
		t.Errorf("unreachable etcd: exit %d\n%s", code, out)
	}
	if code, out := run(t, bin, "--admin-addr", "0.0.0.0:0"); code != 2 || !strings.Contains(out, "not loopback") {
		t.Errorf("public admin without TLS or token: exit %d\n%s", code, out)
	}
	if code, out := run(t, bin, "--xds-addr", "0.0.0.0:0"); code != 2 || !strings.Contains(out, "--xds-insecure") {
		t.Errorf("public xDS without mTLS: exit %d\n%s", code, out)
	}
	if code, out := run(t, bin, "certs", "--dir", filepath.Join(t.TempDir(), "pki")); code != 0 || !strings.Contains(out, "envoy/sds-tls.yaml") {
		t.Errorf("apigw certs: exit %d\n%s", code, out)
	}
}
