package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// An admin API that requires client certificates (--admin-client-ca-file)
// serves apigctl with --client-certificate/--client-key and refuses it
// without.
func TestClientCertificate(t *testing.T) {
	pki := certgentest.PKI(t)
	_, etcd := storetest.Etcd(t, "")
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(certgentest.ServerTLS(t, pki))))
	adminv1.RegisterAdminServiceServer(gs, admin.New(storetest.Store(t, etcd), live.NewFeed(), live.NewStatus(), storetest.Logger()))
	addr := testutil.ServeGRPC(t, gs)

	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		base := []string{"--server", addr, "--certificate-authority", filepath.Join(pki, "ca.crt"), "--request-timeout", "5s"}
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
