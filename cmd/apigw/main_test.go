package main_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/internal/apigwproc"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// binary builds cmd/apigw for one test.
func binary(t *testing.T) string {
	t.Helper()
	bin, err := apigwproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// start runs bin with args, every server on a free loopback address.
func start(t *testing.T, bin string, args ...string) *apigwproc.Proc {
	t.Helper()
	p := &apigwproc.Proc{Bin: bin, Addrs: apigwproc.FreeAddrs(t)}
	p.Start(t, append(p.Addrs.Flags(), args...)...)
	return p
}

func admin(t *testing.T, p *apigwproc.Proc) adminv1.AdminServiceClient {
	t.Helper()
	return adminv1.NewAdminServiceClient(p.DialAdmin(t))
}

// publishPets creates the group pets with the API list_pets (GET /pets)
// and publishes it.
func publishPets(ctx context.Context, t *testing.T, c adminv1.AdminServiceClient) *apigwv1.Publication {
	t.Helper()
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
	return pub.Publication
}

func TestBinaryServesAndPersistsDefinitions(t *testing.T) {
	bin := binary(t)
	etcd := apigwproc.NewEtcd(t)
	p := start(t, bin, etcd.Flags()...)
	took := p.WaitReady(t, 10*time.Second)
	t.Logf("/readyz 200 after %v", took)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := admin(t, p)
	pub := publishPets(ctx, t, c)
	// An invalid API is refused and nothing is written.
	_, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Api{Name: "bad", GroupId: "pets", ReqUri: "nope"})})
	if err == nil || !strings.Contains(err.Error(), "req_uri") || !strings.Contains(err.Error(), "req_method") {
		t.Fatalf("invalid API: %v", err)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint()}, DialTimeout: 5 * time.Second})
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
	for _, want := range []string{"/groups/", "/apis/", "/publications/" + pub.Id, "/releases/" + pub.ApiId + "/" + model.ReleaseEnvID} {
		if !strings.Contains(all, want) {
			t.Errorf("no key containing %s in\n%s", want, all)
		}
	}
	if len(keys) != 4 {
		t.Errorf("want exactly group, api, publication and release keys, got\n%s", all)
	}

	// Envoy's side: the published route reaches an ADS client of instance
	// "default", and ext_authz answers the check that route would send.
	route, ctxExt := checkXDS(t, p.XDS, "/pets")
	checkExtAuthz(t, p.ExtAuth, ctxExt, pub)
	checkRateLimit(t, p.RateLimit, route)

	p.Stop(t)
	p2 := start(t, bin, etcd.Flags()...)
	p2.WaitReady(t, 10*time.Second)
	l, err := admin(t, p2).ListPublications(ctx, &adminv1.ListPublicationsRequest{ApiId: "list_pets"})
	if err != nil {
		t.Fatal(err)
	}
	if l.CurrentPublicationId != pub.Id {
		t.Errorf("after restart the current publication is %q, want %q", l.CurrentPublicationId, pub.Id)
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
	code, out = run(t, bin, "--etcd-endpoints", testutil.FreeAddr(t), "--etcd-dial-timeout", "1s",
		"--secret-key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"--ops-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0", "--extauth-addr", "127.0.0.1:0", "--ratelimit-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0", "--functions-addr", "127.0.0.1:0")
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
