package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/apigw/apigw/cmd/apigctl/cli"
	"github.com/apigw/apigw/internal/apigwproc"
	"github.com/apigw/apigw/internal/testutil"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// apigw is a running apigw binary, every port free.
type apigw struct {
	*apigwproc.Proc
	etcd                  string // the embedded etcd's client URL
	envoyHTTP, envoyHTTPS uint32
	adminConn             *grpc.ClientConn
}

// startAPIGW runs apigw with all components (extra flags can change
// that: the last occurrence of a flag wins), serving Envoy over mTLS with
// the certificates of `apigw certs`, as the README's local run does;
// Envoys reach ext_authz and the rate-limit service at the addresses apigw
// listens on.
func startAPIGW(t *testing.T, extra ...string) *apigw {
	t.Helper()
	g := newAPIGW(t)
	etcd := apigwproc.NewEtcd(t)
	g.etcd = etcd.ClientURL
	args := append(etcd.Flags(), g.Addrs.Flags()...)
	args = append(args,
		"--envoy-extauth-address", g.ExtAuth, "--envoy-ratelimit-address", g.RateLimit,
		"--envoy-accesslog-address", g.AccessLog, "--envoy-functions-address", g.Functions,
		"--envoy-http-port", strconv.Itoa(int(g.envoyHTTP)), "--envoy-https-port", strconv.Itoa(int(g.envoyHTTPS)),
		"--tls-dir", filepath.Join(pkiDir, "apigw"), "--envoy-tls-dir", filepath.Join(pkiDir, "envoy"),
		"--log-level", "debug",
	)
	g.launch(t, append(args, extra...))
	g.adminConn = g.DialAdmin(t)
	return g
}

// startSidecar runs `apigw --components=extauth,ratelimit` (on the
// addresses g was given by newAPIGW) against the etcd of central, as the
// sidecar layout does beside each Envoy.
func startSidecar(t *testing.T, g, central *apigw, extra ...string) {
	t.Helper()
	served := apigwproc.Addrs{ExtAuth: g.ExtAuth, RateLimit: g.RateLimit, Ops: g.Ops, Breakers: g.Breakers}
	g.launch(t, append(append([]string{
		"--components", "extauth,ratelimit",
		"--etcd-endpoints", strings.TrimPrefix(central.etcd, "http://"),
		"--log-level", "debug",
	}, served.Flags()...), extra...))
}

func newAPIGW(t *testing.T) *apigw {
	t.Helper()
	return &apigw{Proc: &apigwproc.Proc{Bin: apigwBin, Addrs: apigwproc.FreeAddrs(t)},
		envoyHTTP: testutil.Port(testutil.FreeAddr(t)), envoyHTTPS: testutil.Port(testutil.FreeAddr(t))}
}

// launch starts the binary and waits for /readyz.
// An address FreeAddr picked may be taken by the time apigw binds it (by
// another test's connection); apigw is then started again on new ones.
func (g *apigw) launch(t *testing.T, args []string) {
	t.Helper()
	launches := 0
	g.StartReady(t, 30*time.Second, func() []string {
		if launches++; launches > 1 {
			args = g.Renew(t, args)
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--embedded-etcd-client-url" {
					g.etcd = args[i+1]
				}
			}
		}
		return args
	})
}

// restart stops apigw (SIGTERM) and starts it again with the same
// arguments (the same embedded etcd data).
func (g *apigw) restart(t *testing.T) {
	t.Helper()
	g.Restart(t, 30*time.Second)
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
			return g.Admin
		}
		return ""
	}
	code := cli.Main(ctx, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out}, getenv)
	return out.String(), code
}

func (g *apigw) adminClient() adminv1.AdminServiceClient {
	return adminv1.NewAdminServiceClient(g.adminConn)
}

func (g *apigw) String() string { return fmt.Sprintf("apigw(xds %s, admin %s)", g.XDS, g.Admin) }
