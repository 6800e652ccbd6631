package cli_test

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/tlsfiles"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// An admin API that requires client certificates (--admin-client-ca-file)
// serves apigctl with --client-certificate/--client-key and refuses it
// without.
func TestClientCertificate(t *testing.T) {
	pki := t.TempDir()
	if _, err := certgen.Generate(certgen.Options{Dir: pki}); err != nil {
		t.Fatal(err)
	}
	files := tlsfiles.Files{Cert: filepath.Join(pki, "apigw/tls.crt"), Key: filepath.Join(pki, "apigw/tls.key"), ClientCA: filepath.Join(pki, "ca.crt")}
	creds, err := tlsfiles.NewServer(files, storetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	_, etcd := storetest.Etcd(t, "")
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(creds.Config())))
	adminv1.RegisterAdminServiceServer(gs, admin.New(storetest.Store(t, etcd), model.NewFeed(), model.NewStatus(), storetest.Logger()))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		base := []string{"--server", lis.Addr().String(), "--certificate-authority", filepath.Join(pki, "ca.crt"), "--request-timeout", "5s"}
		code := cli.Main(ctx, append(base, args...), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out}, func(string) string { return "" })
		return code, out.String()
	}
	if code, out := run("get", "groups"); code == 0 {
		t.Errorf("without a client certificate: exit 0\n%s", out)
	}
	if code, out := run("get", "groups", "--client-certificate", filepath.Join(pki, "envoy/tls.crt"), "--client-key", filepath.Join(pki, "envoy/tls.key")); code != 0 {
		t.Errorf("with a client certificate: exit %d\n%s", code, out)
	}
	if code, out := run("get", "groups", "--client-certificate", filepath.Join(pki, "envoy/tls.crt")); code == 0 || !strings.Contains(out, "--client-key") {
		t.Errorf("a certificate without its key: exit %d\n%s", code, out)
	}
}
