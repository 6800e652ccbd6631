package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/testutil"
)

// TestRealEnvoy runs every scenario through a real Envoy started with the
// central bootstrap of deploy/envoy (ADS pointed at the test's apigw).
// It needs ENVOY_BIN, the path of an Envoy 1.37+ binary.
func TestRealEnvoy(t *testing.T) {
	bin := os.Getenv("ENVOY_BIN")
	if bin == "" {
		t.Skip("ENVOY_BIN is not set: this layer needs an Envoy 1.37+ binary (ENVOY_BIN=/path/to/envoy go test ./e2e -run TestRealEnvoy); TestProtocolLevel covers the same scenarios at the protocol level")
	}
	g := startAPIGW(t)
	be := newBackends(t)
	ps := deployPetstore(t, g, be)
	const node = "e2e-real-envoy"
	startEnvoy(t, bin, g, node)
	gw := newEnvoyGateway(t, g)
	// Envoy is ready once the listeners and routes have arrived.
	eventually(t, 60*time.Second, func() error {
		for _, tls := range []bool{false, true} {
			r, err := try(t, gw, call{path: "/health", tls: tls})
			if err != nil {
				return err
			}
			if r.status != http.StatusOK {
				return fmt.Errorf("tls=%v: %s", tls, r)
			}
		}
		return nil
	})
	runScenarios(t, &world{gw: gw, g: g, be: be, ps: ps})
	// The quick start's signed call, with apigctl.
	out := g.apigctl(t, "call", "http://127.0.0.1:"+itoa(g.envoyHTTP)+"/pets?limit=5", "-H", "Host: "+petstoreHost, "-H", "X-Tenant: acme",
		"--app-key", webKey, "--app-secret", webSecret, "--fail")
	if !strings.Contains(out, `"backend":"release"`) {
		t.Errorf("apigctl call: %s", out)
	}
	checkStatus(t, g, node)
}

// startEnvoy runs Envoy with deploy/envoy/central.yaml, its ADS cluster
// pointed at apigw and its admin on a free loopback port.
func startEnvoy(t *testing.T, bin string, g *apigw, node string) {
	t.Helper()
	b := readBootstrap(t, "../deploy/envoy/central.yaml")
	b.Node.Id = node
	// Envoy's client certificate: the one `apigw certs` made for this run.
	movePKI(t, b.GetStaticResources().GetClusters()[0].GetTransportSocket(), dataplane.EnvoyTLSDir, filepath.Join(pkiDir, "envoy"))
	xdsHost, _, _ := net.SplitHostPort(g.XDS)
	sa := b.GetStaticResources().GetClusters()[0].GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	sa.Address, sa.PortSpecifier = xdsHost, &corev3.SocketAddress_PortValue{PortValue: testutil.Port(g.XDS)}
	admin := testutil.FreeAddr(t)
	b.Admin.Address.GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: testutil.Port(admin)}
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "envoy.json")
	if err := os.WriteFile(cfg, out, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.Buffer{}
	cmd := exec.Command(bin, "-c", cfg, "--use-dynamic-base-id", "--log-level", "warn", "--drain-time-s", "1")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("envoy output (last 8 KiB):\n%s", logs.Tail(8<<10))
			if resp, err := http.Get("http://" + admin + "/config_dump"); err == nil {
				dump, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("envoy config_dump: %d bytes (first 4 KiB):\n%s", len(dump), dump[:min(len(dump), 4096)])
			}
		}
	})
}

// envoyGateway sends real HTTP(S) requests to Envoy's listeners.
type envoyGateway struct {
	httpAddr, httpsAddr string
	roots               *x509.CertPool
}

func newEnvoyGateway(t *testing.T, g *apigw) envoyGateway {
	t.Helper()
	pemBytes, err := os.ReadFile(exampleDir + "/petstore.example.com.crt")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("example certificate")
	}
	return envoyGateway{httpAddr: "127.0.0.1:" + itoa(g.envoyHTTP), httpsAddr: "127.0.0.1:" + itoa(g.envoyHTTPS), roots: roots}
}

func (e envoyGateway) protocolLevel() bool { return false }

func (e envoyGateway) send(ctx context.Context, c call) (*result, error) {
	addr, scheme := e.httpAddr, "http"
	tr := &http.Transport{DisableCompression: true, DisableKeepAlives: true}
	if c.tls {
		addr, scheme = e.httpsAddr, "https"
		sni := c.sni
		if sni == "" {
			sni = c.host
		}
		tr.TLSClientConfig = &tls.Config{ServerName: sni, RootCAs: e.roots, MinVersion: tls.VersionTLS12}
	}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, c.method, scheme+"://"+c.host+c.path, strings.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	req.Header = c.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &result{status: resp.StatusCode, header: resp.Header, body: body}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.cert = resp.TLS.PeerCertificates[0]
	}
	return r, nil
}
